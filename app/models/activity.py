"""Communication activities (hoạt động truyền thông) and what they reached."""

from datetime import date

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import Versioned


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
