"""The audit log: who changed what, when, with the values before and after, in the same transaction."""

from collections.abc import Callable
from typing import Any

from sqlmodel import Session, SQLModel

from app.models import AuditEntry
from app.models.base import bump

_SECRET_FIELDS = {"password_hash", "token_hash", "secret"}


def snapshot(obj: SQLModel | None) -> dict[str, Any] | None:
    """A JSON-ready copy of a record's columns, without secrets."""
    if obj is None:
        return None
    return obj.model_dump(mode="json", exclude=_SECRET_FIELDS)


def record(
    session: Session,
    principal: Any,
    action: str,
    resource: SQLModel,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    unit_id: int | None = None,
    resource_type: str | None = None,
) -> AuditEntry:
    """Add an audit entry for `action` on `resource` (flushed, committed with the change)."""
    entry = AuditEntry(
        user_id=getattr(principal, "user_id", None),
        token_id=getattr(principal, "token_id", None),
        action=action,
        resource_type=resource_type or resource.__tablename__,
        resource_id=str(resource.id),
        unit_id=unit_id if unit_id is not None else getattr(resource, "unit_id", None),
        before=before,
        after=after,
    )
    session.add(entry)
    session.flush()
    return entry


def save_update(
    session: Session,
    principal: Any,
    resource: SQLModel,
    before: dict[str, Any] | None,
    *,
    after: Callable[[], dict[str, Any] | None] | None = None,
) -> AuditEntry | None:
    """Bump a changed record's version, flush it and audit the update; `after` snapshots it once flushed.

    An update that changes nothing keeps the version and writes no audit entry; returns None then."""
    session.flush()
    if before is not None and _same(before, after() if after is not None else snapshot(resource)):
        return None
    bump(resource)
    session.add(resource)
    session.flush()
    return record(session, principal, "update", resource, before=before,
                  after=after() if after is not None else snapshot(resource))


def _same(before: dict[str, Any], after: dict[str, Any] | None) -> bool:
    """Whether two snapshots hold the same values, leaving out the version and the change time."""
    ignored = {"version", "updated_at"}
    return after is not None and {k: v for k, v in before.items() if k not in ignored} == {
        k: v for k, v in after.items() if k not in ignored}
