"""Indicators (chỉ tiêu) of a plan and their targets per year."""

from enum import StrEnum
from typing import Annotated

import sqlalchemy as sa
from pydantic import ConfigDict, StringConstraints
from sqlmodel import Field, SQLModel

from app.models.base import Versioned, str_enum_column


class Measure(StrEnum):
    share_of_units = "share_of_units"  # percent of units in scope
    share_of_items = "share_of_items"  # percent of counted items (conventions)
    change = "change"  # change against a baseline (survey)


class IndicatorBase(SQLModel):
    code: str = Field(max_length=20)
    name_vi: str = Field(max_length=500)
    name_en: str = Field(max_length=500)
    description_vi: str = Field(default="", max_length=4000)
    measure: Measure = str_enum_column(Measure)
    # Named computation method of the indicator engine.
    method: str = Field(max_length=40)
    unit_of_measure: str = Field(default="%", max_length=20)
    baseline_year: int | None = None
    baseline_value: float | None = None
    # Target figure of the national programme (Decision 1790/QĐ-TTg), for comparison.
    national_target_vi: str | None = Field(default=None, max_length=300)
    sort_order: int = 0


class Indicator(IndicatorBase, Versioned, table=True):
    __table_args__ = (sa.UniqueConstraint("plan_id", "code", name="uq_indicator_plan_code"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)


class IndicatorTargetBase(SQLModel):
    year: int
    # The target value; for a range (IND-03: +15 to +20) the minimum, with value_max the upper end.
    value: float
    value_max: float | None = None
    # A qualifier of the target: IND-04 counts "pilot" outlets by 2025, "official" by 2030.
    qualifier: str | None = Field(default=None, max_length=40)
    # A milestone set by the document (as opposed to a year filled in by a coordinator).
    is_milestone: bool = True
    source_document: str = Field(max_length=300)
    note: str | None = Field(default=None, max_length=1000)


class IndicatorTarget(IndicatorTargetBase, Versioned, table=True):
    __tablename__ = "indicator_target"
    __table_args__ = (sa.UniqueConstraint("indicator_id", "year", name="uq_indicator_target_year"),)

    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", index=True, ondelete="CASCADE")


class TargetPublic(SQLModel):
    """A year's target: stored, or on the straight trajectory between stored milestones."""

    year: int
    value: float
    value_max: float | None = None
    qualifier: str | None = None
    interpolated: bool
    is_milestone: bool
    source_document: str | None = None


class IndicatorPublic(IndicatorBase):
    id: int
    plan_code: str
    version: int
    milestones: list[TargetPublic] = []


class IndicatorDetail(IndicatorPublic):
    targets: list[TargetPublic] = []


IndicatorCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=20,
                                                 pattern=r"^[A-Za-z0-9]+([._-][A-Za-z0-9]+)*$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Year = Annotated[int, Field(ge=2000, le=2100)]


class IndicatorCreate(SQLModel):
    """A new indicator of a plan (by the plan's code); its targets are set with PUT …/targets/{year}."""

    model_config = ConfigDict(extra="forbid")

    plan: str = Field(max_length=40)
    code: IndicatorCode
    name_vi: Annotated[Text, StringConstraints(max_length=500)]
    name_en: str = Field(default="", max_length=500)
    description_vi: str = Field(default="", max_length=4000)
    measure: Measure
    method: str = Field(max_length=40)
    unit_of_measure: str = Field(default="%", min_length=1, max_length=20)
    baseline_year: Year | None = None
    baseline_value: float | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    national_target_vi: str | None = Field(default=None, max_length=300)
    sort_order: int = Field(default=0, ge=0, le=10_000)


class IndicatorUpdate(SQLModel):
    """Changes to an indicator (its code and plan are fixed)."""

    model_config = ConfigDict(extra="forbid")

    name_vi: Annotated[Text, StringConstraints(max_length=500)] | None = None
    name_en: str | None = Field(default=None, max_length=500)
    description_vi: str | None = Field(default=None, max_length=4000)
    measure: Measure | None = None
    method: str | None = Field(default=None, max_length=40)
    unit_of_measure: str | None = Field(default=None, min_length=1, max_length=20)
    baseline_year: Year | None = None
    baseline_value: float | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    national_target_vi: str | None = Field(default=None, max_length=300)
    sort_order: int | None = Field(default=None, ge=0, le=10_000)


class TargetIn(SQLModel):
    """A year's target as set by a document (PUT …/targets/{year})."""

    model_config = ConfigDict(extra="forbid")

    value: float = Field(ge=-1_000_000, le=1_000_000)
    value_max: float | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    qualifier: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)] | None = None
    is_milestone: bool = True
    source_document: Annotated[Text, StringConstraints(max_length=300)]
    note: str | None = Field(default=None, max_length=1000)


class StoredTargetPublic(IndicatorTargetBase):
    """A stored target, with its version (its ETag)."""

    id: int
    indicator_code: str
    plan_code: str
    interpolated: bool = False
    version: int
