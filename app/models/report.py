"""Annual reports (báo cáo năm) and period reviews, with the figures only a report gives."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
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
