"""Awareness surveys (khảo sát nhận thức): scores per target group and year; 2025 is IND-03's baseline."""

from datetime import date

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import Versioned


class SurveyRoundBase(SQLModel):
    year: int = Field(index=True)
    name: str = Field(max_length=300)
    conducted_by: str | None = Field(default=None, max_length=300)
    conducted_on: date | None = None
    is_baseline: bool = False
    note: str | None = Field(default=None, max_length=4000)


class SurveyRound(SurveyRoundBase, Versioned, table=True):
    __tablename__ = "survey_round"

    id: int | None = Field(default=None, primary_key=True)
    # The area surveyed; None means the whole plan area.
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)


class SurveyResult(SQLModel, table=True):
    """The awareness score (0–100) of one target group in one round."""

    __tablename__ = "survey_result"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "target_group", name="uq_survey_result_group"),
        sa.CheckConstraint("score >= 0 AND score <= 100", name="score"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="survey_round.id", index=True, ondelete="CASCADE")
    target_group: str = Field(max_length=40)  # code list target_group
    score: float
    respondents: int | None = Field(default=None, ge=0)
