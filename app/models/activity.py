"""Communication activities (hoạt động truyền thông) and what they reached."""

from datetime import date, datetime

import sqlalchemy as sa
from pydantic import ConfigDict
from sqlmodel import Field, SQLModel

from app.models.base import Versioned

# The largest count one activity may carry (participants, broadcasts, products): far beyond any real event,
# well inside the database's integers even when summed over a country's records.
MAX_COUNT = 10_000_000


class ActivityBase(SQLModel):
    held_on: date = Field(index=True)
    # Last day of a multi-day activity; None for a one-day activity.
    ends_on: date | None = None
    title: str = Field(max_length=500)
    description: str | None = Field(default=None, max_length=10000)
    location: str | None = Field(default=None, max_length=300)
    kind: str = Field(max_length=40, index=True)  # code list activity_kind
    channel: str = Field(max_length=40, index=True)  # code list channel
    task_group: str = Field(max_length=40, index=True)  # code list task_group
    participants_male: int = Field(default=0, ge=0)
    participants_female: int = Field(default=0, ge=0)
    broadcasts: int = Field(default=0, ge=0)  # broadcasts, news items and posts
    cost_vnd: int = Field(default=0, ge=0, sa_type=sa.BigInteger)
    funding_source: str | None = Field(default=None, max_length=40)  # code list funding_source


class Activity(ActivityBase, Versioned, table=True):
    __table_args__ = (
        sa.CheckConstraint(
            "participants_male >= 0 AND participants_female >= 0 AND broadcasts >= 0 AND cost_vnd >= 0",
            name="non_negative",
        ),
        sa.CheckConstraint("ends_on IS NULL OR ends_on >= held_on", name="dates"),
        sa.Index("ix_activity_unit_held_on", "unit_id", "held_on"),
        sa.Index("ix_activity_held_on_scan", "held_on", "task_group", "kind", "unit_id"),  # indicator engine
        sa.Index("ix_activity_ends_on", "ends_on"),  # indicator engine (IND-02)
        sa.Index("ix_activity_updated_at", "updated_at"),  # indicator engine (data ETag)
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")


class ActivityTargetGroup(SQLModel, table=True):
    """A target group an activity reached, with participants by sex where counted."""

    __tablename__ = "activity_target_group"
    __table_args__ = (sa.UniqueConstraint("activity_id", "code", name="uq_activity_target_group"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True, ondelete="CASCADE")
    code: str = Field(max_length=40, index=True)  # code list target_group
    participants_male: int | None = Field(default=None, ge=0)
    participants_female: int | None = Field(default=None, ge=0)


class ActivityProduct(SQLModel, table=True):
    """Communication products an activity produced or handed out (leaflets, posters, clips …)."""

    __tablename__ = "activity_product"
    __table_args__ = (sa.UniqueConstraint("activity_id", "code", name="uq_activity_product"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True, ondelete="CASCADE")
    code: str = Field(max_length=40)  # code list product
    quantity: int = Field(ge=0)


# --- API schemas -------------------------------------------------------------------------------------------------

MAX_TITLE = 500
MAX_DESCRIPTION = 10000
MAX_LOCATION = 300
CODE_LEN = 40
# An activity reaches a handful of groups and hands out a handful of products; more is a data error.
MAX_NESTED = 50


class TargetGroupIn(SQLModel):
    """A target group the activity reached, with its participants by sex when they were counted."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=CODE_LEN)
    participants_male: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    participants_female: int | None = Field(default=None, ge=0, le=MAX_COUNT)


class ProductIn(SQLModel):
    """A communication product and how many were made or handed out."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=CODE_LEN)
    quantity: int = Field(ge=0, le=MAX_COUNT)


class ActivityCreate(SQLModel):
    """A communication activity that took place (planned activities are not records)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Our unit code.
    unit: str = Field(min_length=1, max_length=60)
    held_on: date
    ends_on: date | None = None
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    location: str | None = Field(default=None, max_length=MAX_LOCATION)
    kind: str = Field(min_length=1, max_length=CODE_LEN)
    channel: str = Field(min_length=1, max_length=CODE_LEN)
    task_group: str = Field(min_length=1, max_length=CODE_LEN)
    campaign_id: int | None = None
    participants_male: int = Field(default=0, ge=0, le=MAX_COUNT)
    participants_female: int = Field(default=0, ge=0, le=MAX_COUNT)
    # Optional check: when sent it must equal male + female (the total is always derived).
    participants_total: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    broadcasts: int = Field(default=0, ge=0, le=MAX_COUNT)
    cost_vnd: int = Field(default=0, ge=0, le=10**15)
    funding_source: str | None = Field(default=None, max_length=CODE_LEN)
    target_groups: list[TargetGroupIn] = Field(default=[], max_length=MAX_NESTED)
    products: list[ProductIn] = Field(default=[], max_length=MAX_NESTED)


class ActivityUpdate(SQLModel):
    """A partial change: only the fields sent change; `target_groups` and `products`, when sent, replace the lists."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    unit: str | None = Field(default=None, min_length=1, max_length=60)
    held_on: date | None = None
    ends_on: date | None = None
    title: str | None = Field(default=None, min_length=1, max_length=MAX_TITLE)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    location: str | None = Field(default=None, max_length=MAX_LOCATION)
    kind: str | None = Field(default=None, min_length=1, max_length=CODE_LEN)
    channel: str | None = Field(default=None, min_length=1, max_length=CODE_LEN)
    task_group: str | None = Field(default=None, min_length=1, max_length=CODE_LEN)
    campaign_id: int | None = None
    participants_male: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    participants_female: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    participants_total: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    broadcasts: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    cost_vnd: int | None = Field(default=None, ge=0, le=10**15)
    funding_source: str | None = Field(default=None, max_length=CODE_LEN)
    target_groups: list[TargetGroupIn] | None = Field(default=None, max_length=MAX_NESTED)
    products: list[ProductIn] | None = Field(default=None, max_length=MAX_NESTED)


class TargetGroupPublic(SQLModel):
    code: str
    participants_male: int | None
    participants_female: int | None


class ProductPublic(SQLModel):
    code: str
    quantity: int


class ActivityPublic(SQLModel):
    """An activity with its unit, campaign, target groups, products and derived total of participants."""

    id: int
    unit_code: str
    unit_name: str
    held_on: date
    ends_on: date | None
    title: str
    description: str | None
    location: str | None
    kind: str
    channel: str
    task_group: str
    campaign_id: int | None
    campaign_code: str | None
    participants_male: int
    participants_female: int
    participants_total: int
    broadcasts: int
    cost_vnd: int
    funding_source: str | None
    target_groups: list[TargetGroupPublic]
    products: list[ProductPublic]
    created_by_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime


class ImportRowError(SQLModel):
    """One problem in an imported file: the row (the header is row 1), the column, and what is wrong."""

    row: int
    field: str
    message: str


class ImportResult(SQLModel):
    """The outcome of an import: rows read, rows valid, rows written (0 on a dry run) and the problems found."""

    dry_run: bool
    rows: int
    valid_rows: int
    created: int
    error_count: int
    errors: list[ImportRowError]
