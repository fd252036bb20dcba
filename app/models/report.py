"""Annual reports (báo cáo năm) and period reviews, with the figures only a report gives."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import ConfigDict, StringConstraints
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, Versioned, str_enum_column, utcnow


class ReportKind(StrEnum):
    annual = "annual"
    midterm = "midterm"  # sơ kết 2022–2025
    final = "final"  # tổng kết 2022–2030


class ReportStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    returned = "returned"
    resubmitted = "resubmitted"
    accepted = "accepted"


class MediaStatus(StrEnum):
    none = "none"
    pilot = "pilot"
    official = "official"


class ReportBase(SQLModel):
    year: int = Field(index=True)
    kind: ReportKind = str_enum_column(ReportKind, default=ReportKind.annual)
    period_start: date
    period_end: date
    cutoff_on: date
    # Narrative, in the usual parts of an annual report.
    leadership: str = Field(default="", max_length=20000)
    results_by_task_group: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    results_vs_targets: str = Field(default="", max_length=20000)
    funding: str = Field(default="", max_length=20000)
    assessment: str = Field(default="", max_length=20000)
    next_year_tasks: str = Field(default="", max_length=20000)
    proposals: str = Field(default="", max_length=20000)
    # Figures of wards and communes: community conventions adopted, and those free of gender discrimination.
    conventions_adopted: int | None = Field(default=None, ge=0)
    conventions_without_discrimination: int | None = Field(default=None, ge=0)


class AnnualReport(ReportBase, Versioned, table=True):
    __tablename__ = "annual_report"
    __table_args__ = (
        sa.UniqueConstraint("unit_id", "year", "kind", name="uq_annual_report_unit_year_kind"),
        sa.CheckConstraint(
            "conventions_without_discrimination IS NULL OR conventions_adopted IS NULL "
            "OR conventions_without_discrimination <= conventions_adopted",
            name="conventions",
        ),
        sa.Index("ix_annual_report_year_status", "year", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    status: ReportStatus = str_enum_column(ReportStatus, default=ReportStatus.draft)
    due_at: datetime = Field(sa_type=UTCDateTime)
    # First submission time and whether it was on time; the latest submission time.
    first_submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    on_time: bool | None = None
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    return_comment: str | None = Field(default=None, max_length=4000)
    reopen_reason: str | None = Field(default=None, max_length=4000)
    # Summary of the unit's activities in the period, computed from records and frozen at submission.
    activity_summary: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")


class ReportMediaStatus(SQLModel, table=True):
    """Gender Indicators for Media status of an outlet, reported by the unit that runs it."""

    __tablename__ = "report_media_status"
    __table_args__ = (sa.UniqueConstraint("report_id", "outlet_id", name="uq_report_media_status"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="annual_report.id", index=True, ondelete="CASCADE")
    outlet_id: int = Field(foreign_key="unit.id", index=True)
    status: MediaStatus = str_enum_column(MediaStatus)


class ReportTransition(SQLModel, table=True):
    """One step of a report's workflow, with who took it and why."""

    __tablename__ = "report_transition"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="annual_report.id", index=True, ondelete="CASCADE")
    action: str = Field(max_length=20)
    from_status: str = Field(max_length=20)
    to_status: str = Field(max_length=20)
    comment: str | None = Field(default=None, max_length=4000)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    by_user_id: int | None = Field(default=None, foreign_key="user.id")


# --- API schemas -----------------------------------------------------------------------------------------------

TaskGroupText = Annotated[str, StringConstraints(max_length=20000)]


class MediaStatusIn(SQLModel):
    """The Gender Indicators for Media status of one outlet the reporting unit runs."""

    model_config = ConfigDict(extra="forbid")

    outlet: str = Field(max_length=60, description="Code of the media outlet (a unit of kind media)")
    status: MediaStatus


class ReportWrite(SQLModel):
    """The whole editable content of a report (PUT replaces it; fields left out take their defaults)."""

    model_config = ConfigDict(extra="forbid")

    period_start: date | None = Field(default=None, description="Default: 1 January (reviews: the phase's start)")
    period_end: date | None = Field(default=None, description="Default: 31 December of the year")
    cutoff_on: date | None = Field(default=None, description="Day the figures are taken to; default: the day "
                                   "before the due date")
    leadership: str = Field(default="", max_length=20000)
    results_by_task_group: dict[str, TaskGroupText] = Field(
        default_factory=dict, max_length=20, description='Results by task group: {"1": text, …, "7": text}')
    results_vs_targets: str = Field(default="", max_length=20000)
    funding: str = Field(default="", max_length=20000)
    assessment: str = Field(default="", max_length=20000)
    next_year_tasks: str = Field(default="", max_length=20000)
    proposals: str = Field(default="", max_length=20000)
    conventions_adopted: int | None = Field(default=None, ge=0, le=100000)
    conventions_without_discrimination: int | None = Field(default=None, ge=0, le=100000)
    media_statuses: list[MediaStatusIn] = Field(default_factory=list, max_length=200)


class ReturnRequest(SQLModel):
    """Return a report to its unit with a comment the officer sees."""

    model_config = ConfigDict(extra="forbid")

    comment: str = Field(min_length=1, max_length=4000)


class ReopenRequest(SQLModel):
    """Reopen an accepted report for amendment, with the reason."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=4000)


class MediaStatusPublic(SQLModel):
    outlet: str
    outlet_name: str
    status: MediaStatus


class ReportPublic(SQLModel):
    id: int
    year: int
    kind: ReportKind
    unit_code: str
    unit_name: str
    unit_kind: str
    status: ReportStatus
    period_start: date
    period_end: date
    cutoff_on: date
    due_at: datetime
    leadership: str
    results_by_task_group: dict[str, Any]
    results_vs_targets: str
    funding: str
    assessment: str
    next_year_tasks: str
    proposals: str
    conventions_adopted: int | None
    conventions_without_discrimination: int | None
    media_statuses: list[MediaStatusPublic]
    first_submitted_at: datetime | None
    submitted_at: datetime | None
    on_time: bool | None
    accepted_at: datetime | None
    return_comment: str | None
    reopen_reason: str | None
    activity_summary: dict[str, Any] | None
    # What still blocks a submission, and what the caller may do now.
    missing_for_submission: list[dict[str, Any]]
    actions: list[str]
    created_at: datetime
    updated_at: datetime
    version: int


class ReportListItem(SQLModel):
    id: int
    year: int
    kind: ReportKind
    unit_code: str
    unit_name: str
    unit_kind: str
    status: ReportStatus
    first_submitted_at: datetime | None
    submitted_at: datetime | None
    on_time: bool | None
    accepted_at: datetime | None
    updated_at: datetime
    version: int


class TransitionPublic(SQLModel):
    action: str
    from_status: str
    to_status: str
    comment: str | None
    at: datetime
    by: str | None


class Share(SQLModel):
    numerator: int
    denominator: int
    value: float | None = Field(description="Percentage; null when nothing is owed")


class CompletenessRow(SQLModel):
    unit_code: str
    unit_name: str
    unit_kind: str
    status: ReportStatus | None
    submitted: bool
    first_submitted_at: datetime | None
    on_time: bool | None
    days_late: int | None


class UnitDue(SQLModel):
    code: str
    name: str
    kind: str
    status: ReportStatus | None = None
    first_submitted_at: datetime | None = None
    days_late: int | None = None


class Completeness(SQLModel):
    year: int
    kind: ReportKind
    due_on: date
    due_at: datetime
    last_on_time_day: date
    as_of: datetime
    obliged: int
    submitted: int
    on_time: int
    late: int
    missing: int
    completeness: Share
    timeliness: Share
    units: list[CompletenessRow]
    missing_units: list[UnitDue]
    late_units: list[UnitDue]
