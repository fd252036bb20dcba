"""Outgoing notifications: webhooks and their deliveries, e-mail reminders, evidence files."""

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from pydantic import ConfigDict, field_validator
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


# Events a webhook may subscribe to (`ping` is sent only by the test action).
WEBHOOK_EVENTS = ("report.submitted", "report.returned", "report.accepted")


def _check_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http:// or https:// URL")
    return value


def _check_events(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    unknown = [e for e in value if e not in WEBHOOK_EVENTS]
    if unknown:
        raise ValueError(f"unknown event(s) {', '.join(unknown)}; known: {', '.join(WEBHOOK_EVENTS)}")
    # Keep the order of EVENTS, without duplicates.
    return [e for e in WEBHOOK_EVENTS if e in value]


class _WebhookChecks(SQLModel):
    """The URL and event checks shared by the create and update bodies."""

    @field_validator("url", check_fields=False)
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        return _check_url(value)

    @field_validator("events", check_fields=False)
    @classmethod
    def _known_events(cls, value: list[str] | None) -> list[str] | None:
        return _check_events(value)


class WebhookCreate(_WebhookChecks):
    """A system's endpoint to be told about events; without a secret one is generated and shown once."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=1000)
    events: list[str] = Field(min_length=1, max_length=len(WEBHOOK_EVENTS))
    secret: str | None = Field(default=None, min_length=16, max_length=200)
    active: bool = True


class WebhookUpdate(_WebhookChecks):
    """Fields to change; a new `secret` replaces the old one (it is not shown back)."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=1000)
    events: list[str] | None = Field(default=None, min_length=1, max_length=len(WEBHOOK_EVENTS))
    secret: str | None = Field(default=None, min_length=16, max_length=200)
    active: bool | None = None


class WebhookPublic(SQLModel):
    """A webhook as shown after creation: never its secret."""

    id: int
    url: str
    events: list[str]
    active: bool
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int


class WebhookCreated(WebhookPublic):
    """The answer to a creation: the only time the secret is shown."""

    secret: str


class WebhookDeliveryPublic(SQLModel):
    """One entry of a webhook's delivery log."""

    id: int
    webhook_id: int
    event: str
    payload: dict[str, Any]
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None


class AttachmentPublic(SQLModel):
    """An evidence file's description; its bytes are at `download_url`."""

    id: int
    owner_type: str
    owner_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by_id: int | None
    uploaded_at: datetime
    download_url: str
