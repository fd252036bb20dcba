"""Outgoing notifications: webhooks and their deliveries, e-mail reminders, evidence files."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, Versioned, utcnow


class Webhook(Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=1000)
    # Space-separated event names, e.g. "report.submitted report.accepted".
    events: str = Field(max_length=500)
    secret: str = Field(max_length=200)
    active: bool = True
    created_by_id: int | None = Field(default=None, foreign_key="user.id")


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_delivery"

    id: int | None = Field(default=None, primary_key=True)
    webhook_id: int = Field(foreign_key="webhook.id", index=True, ondelete="CASCADE")
    event: str = Field(max_length=60)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    attempts: int = 0
    # pending, delivered, failed (gave up)
    status: str = Field(default="pending", max_length=12, index=True)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReminderLog(SQLModel, table=True):
    """A reminder sent; the unique key keeps the same reminder from going out twice."""

    __tablename__ = "reminder_log"
    __table_args__ = (sa.UniqueConstraint("dedup_key", name="uq_reminder_log_dedup_key"),)

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    recipients: str = Field(max_length=2000)
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Attachment(SQLModel, table=True):
    """An evidence file on an activity, a campaign plan or a report."""

    id: int | None = Field(default=None, primary_key=True)
    owner_type: str = Field(max_length=20)  # activity | campaign_plan | report
    owner_id: int = Field(index=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=120)
    size: int
    sha256: str = Field(max_length=64)
    # Path under the upload directory.
    storage_key: str = Field(max_length=300)
    uploaded_by_id: int | None = Field(default=None, foreign_key="user.id")
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
