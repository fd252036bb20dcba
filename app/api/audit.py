"""The audit log, read-only: who changed what, when, with the values before and after."""

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import Session, select

from app.api.common import Page, paginate
from app.api.deps import CurrentPrincipal, PageDep, Principal, unit_by_code
from app.api.errors import Forbidden, Invalid, NotFound, field_error
from app.db import SessionDep
from app.models import AuditEntry, Unit, User
from app.models.audit import AuditEntryPublic
from app.services import users as user_service
from app.services.calendar import local_midnight, local_zone

router = APIRouter(prefix="/audit", tags=["audit"])

_INSTANT_HELP = "A date (YYYY-MM-DD, a local calendar day) or an ISO 8601 date and time (local time without a zone)"


def _require_staff(principal: Principal) -> None:
    if not principal.is_staff():
        raise Forbidden("Only coordinators and administrators may read the audit log.")


def _instant(value: str, name: str, *, end: bool) -> tuple[datetime, bool]:
    """The instant a `from`/`to` bound names, and whether it is exclusive (a whole day given as `to`)."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return (local_midnight(day + timedelta(days=1)), True) if end else (local_midnight(day), False)
        if "T" in text:
            text = text.replace(" ", "+")  # an unencoded "+" of the offset arrives as a space
        moment = datetime.fromisoformat(text)
    except ValueError:
        message = "Give a date (YYYY-MM-DD) or a date and time (ISO 8601)."
        raise Invalid(f"Bad {name!r}: {value!r}.", errors=[field_error(["query", name], message)]) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local_zone())
    return moment.astimezone(UTC), False


def _to_public(session: Session, entries: list[AuditEntry]) -> list[AuditEntryPublic]:
    user_ids = {e.user_id for e in entries if e.user_id is not None}
    unit_ids = {e.unit_id for e in entries if e.unit_id is not None}
    names = dict(session.exec(select(User.id, User.username).where(User.id.in_(user_ids))).all()) if user_ids else {}
    codes = dict(session.exec(select(Unit.id, Unit.code).where(Unit.id.in_(unit_ids))).all()) if unit_ids else {}
    return [
        AuditEntryPublic(id=e.id, at=e.at, user_id=e.user_id, username=names.get(e.user_id), token_id=e.token_id,
                         action=e.action, resource_type=e.resource_type, resource_id=e.resource_id,
                         unit_code=codes.get(e.unit_id), before=e.before, after=e.after, request_id=e.request_id)
        for e in entries
    ]


@router.get("")
def list_audit(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep,
    resource_type: Annotated[str | None, Query(max_length=40, description="e.g. user, api_token, activity")] = None,
    resource_id: Annotated[str | None, Query(max_length=80)] = None,
    user: Annotated[str | None, Query(max_length=80, description="Username of who made the change")] = None,
    unit: Annotated[str | None, Query(max_length=60, description="Our code of the unit the record belongs to")] = None,
    action: Annotated[str | None, Query(max_length=40, description="e.g. create, update, delete, revoke")] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=40, description=_INSTANT_HELP)] = None,
    to: Annotated[str | None, Query(max_length=40, description=_INSTANT_HELP + "; a date includes that day")] = None,
) -> Page[AuditEntryPublic]:
    """Audit entries, newest first (coordinators and administrators)."""
    _require_staff(principal)
    stmt = select(AuditEntry)
    if resource_type:
        stmt = stmt.where(AuditEntry.resource_type == resource_type)
    if resource_id:
        stmt = stmt.where(AuditEntry.resource_id == resource_id)
    if user:
        stmt = stmt.where(AuditEntry.user_id == user_service.get_by_username(session, user).id)
    if unit:
        stmt = stmt.where(AuditEntry.unit_id == unit_by_code(session, unit).id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if from_:
        start, _ = _instant(from_, "from", end=False)
        stmt = stmt.where(AuditEntry.at >= start)
    if to:
        stop, exclusive = _instant(to, "to", end=True)
        stmt = stmt.where(AuditEntry.at < stop if exclusive else AuditEntry.at <= stop)
    rows, total = paginate(session, stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()), page)
    return Page(items=_to_public(session, rows), total=total, limit=page.limit, offset=page.offset)


@router.get("/{entry_id}")
def get_audit_entry(entry_id: int, session: SessionDep, principal: CurrentPrincipal) -> AuditEntryPublic:
    """One audit entry (coordinators and administrators)."""
    _require_staff(principal)
    entry = session.get(AuditEntry, entry_id)
    if entry is None:
        raise NotFound(f"No audit entry {entry_id}.")
    return _to_public(session, [entry])[0]
