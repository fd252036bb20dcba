"""The audit log of every change, and the stored answers of idempotent requests."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_resource", "resource_type", "resource_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    token_id: int | None = Field(default=None, foreign_key="api_token.id")
    action: str = Field(max_length=40)  # create, update, delete, submit, accept …
    resource_type: str = Field(max_length=40)
    resource_id: str = Field(max_length=80)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    before: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    request_id: str | None = Field(default=None, max_length=64)


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a creating POST sent with an Idempotency-Key, replayed on retries."""

    __tablename__ = "idempotency_record"
    __table_args__ = (sa.UniqueConstraint("user_id", "key", name="uq_idempotency_record_user_key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    key: str = Field(max_length=200)
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    request_hash: str = Field(max_length=64)
    status_code: int
    response_body: str = Field(sa_type=sa.Text)
    response_headers: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class AuditEntryPublic(SQLModel):
    """One audit entry: who (user, token), when, what (action on a resource), and the values before and after."""

    id: int
    at: datetime
    user_id: int | None
    username: str | None
    token_id: int | None
    action: str
    resource_type: str
    resource_id: str
    unit_code: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
