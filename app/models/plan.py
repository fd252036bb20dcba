"""Plans (kế hoạch): the documents that set the targets."""

from datetime import date
from typing import Annotated

import sqlalchemy as sa
from pydantic import ConfigDict, StringConstraints
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
    issuer_unit_code: str | None = None
    phases: list[PlanPhasePublic] = []
    indicator_codes: list[str] = []


PlanCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=40,
                                            pattern=r"^[A-Za-z0-9]+([._-][A-Za-z0-9]+)*$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Year = Annotated[int, Field(ge=2000, le=2100)]


class PlanPhaseIn(SQLModel):
    """A phase of a plan (2022–2025, 2026–2030) and the year of its review."""

    model_config = ConfigDict(extra="forbid")

    name_vi: Annotated[Text, StringConstraints(max_length=200)]
    name_en: str = Field(default="", max_length=200)
    start_year: Year
    end_year: Year
    review_year: Year


class PlanCreate(SQLModel):
    """A new plan; phases are optional and must lie inside its period without overlapping."""

    model_config = ConfigDict(extra="forbid")

    code: PlanCode
    number: str | None = Field(default=None, max_length=60)
    title_vi: Annotated[Text, StringConstraints(max_length=500)]
    title_en: str = Field(default="", max_length=500)
    issuer_vi: Annotated[Text, StringConstraints(max_length=300)]
    issuer_unit_code: str | None = Field(default=None, max_length=60)
    issued_on: date | None = None
    start_year: Year
    end_year: Year
    implements: str | None = Field(default=None, max_length=500)
    phases: list[PlanPhaseIn] = Field(default_factory=list, max_length=20)


class PlanUpdate(SQLModel):
    """Changes to a plan; `phases`, when given, replaces all its phases."""

    model_config = ConfigDict(extra="forbid")

    number: str | None = Field(default=None, max_length=60)
    title_vi: Annotated[Text, StringConstraints(max_length=500)] | None = None
    title_en: str | None = Field(default=None, max_length=500)
    issuer_vi: Annotated[Text, StringConstraints(max_length=300)] | None = None
    issuer_unit_code: str | None = Field(default=None, max_length=60)
    issued_on: date | None = None
    start_year: Year | None = None
    end_year: Year | None = None
    implements: str | None = Field(default=None, max_length=500)
    phases: list[PlanPhaseIn] | None = Field(default=None, max_length=20)
