"""Plans (kế hoạch): the documents that set the targets."""

from datetime import date

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import Versioned


class PlanBase(SQLModel):
    code: str = Field(max_length=40, unique=True, index=True)
    number: str | None = Field(default=None, max_length=60)
    title_vi: str = Field(max_length=500)
    title_en: str = Field(default="", max_length=500)
    issuer_vi: str = Field(max_length=300)
    issued_on: date | None = None
    start_year: int
    end_year: int
    # The document this plan implements (e.g. the province's plan), free text.
    implements: str | None = Field(default=None, max_length=500)


class Plan(PlanBase, Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # The unit that issued the plan, when it is in the unit tree.
    issuer_unit_id: int | None = Field(default=None, foreign_key="unit.id")


class PlanPhase(SQLModel, table=True):
    __tablename__ = "plan_phase"
    __table_args__ = (sa.UniqueConstraint("plan_id", "start_year", name="uq_plan_phase_plan_start"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True, ondelete="CASCADE")
    name_vi: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    start_year: int
    end_year: int
    # The year of the phase's review (sơ kết 2025, tổng kết 2030).
    review_year: int


class PlanPhasePublic(SQLModel):
    name_vi: str
    name_en: str
    start_year: int
    end_year: int
    review_year: int


class PlanPublic(PlanBase):
    id: int
    version: int
    phases: list[PlanPhasePublic] = []
