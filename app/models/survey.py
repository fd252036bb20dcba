"""Awareness surveys (khảo sát nhận thức): scores per target group and year; 2025 is IND-03's baseline."""

from datetime import date
from typing import Annotated

import sqlalchemy as sa
from pydantic import ConfigDict, StringConstraints
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


class SurveyResultIn(SQLModel):
    """The score (0–100) of one target group (code list `target_group`)."""

    model_config = ConfigDict(extra="forbid")

    target_group: str = Field(max_length=40)
    score: float = Field(ge=0, le=100)
    respondents: int | None = Field(default=None, ge=0, le=10_000_000)


class SurveyResultPublic(SQLModel):
    target_group: str
    score: float
    respondents: int | None


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class SurveyRoundCreate(SQLModel):
    """A survey round with its results; `unit` (a code) is the area surveyed, none for the whole plan area."""

    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=2000, le=2100)
    name: Annotated[Text, StringConstraints(max_length=300)]
    conducted_by: str | None = Field(default=None, max_length=300)
    conducted_on: date | None = None
    is_baseline: bool = False
    unit: str | None = Field(default=None, max_length=60)
    note: str | None = Field(default=None, max_length=4000)
    results: list[SurveyResultIn] = Field(default_factory=list, max_length=100)


class SurveyRoundUpdate(SQLModel):
    """Changes to a survey round; `results`, when given, replaces all its results."""

    model_config = ConfigDict(extra="forbid")

    year: int | None = Field(default=None, ge=2000, le=2100)
    name: Annotated[Text, StringConstraints(max_length=300)] | None = None
    conducted_by: str | None = Field(default=None, max_length=300)
    conducted_on: date | None = None
    is_baseline: bool | None = None
    unit: str | None = Field(default=None, max_length=60)
    note: str | None = Field(default=None, max_length=4000)
    results: list[SurveyResultIn] | None = Field(default=None, max_length=100)


class SurveyRoundPublic(SurveyRoundBase):
    id: int
    unit_code: str | None
    results: list[SurveyResultPublic]
    version: int
