"""Succession events: mergers, splits, renames, dissolutions and transfers of units (the 2025 reform)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import select

from app.api.common import IdempotencyDep, Page, check_if_match, etag_of, paginate, set_etag
from app.api.deps import CurrentPrincipal, PageDep, unit_by_code
from app.api.errors import NotFound
from app.db import SessionDep
from app.models import SuccessionEvent, SuccessionKind, SuccessionLink
from app.models.unit import SuccessionEventCreate, SuccessionEventPublic, SuccessionEventUpdate
from app.services import units as unit_service

router = APIRouter(prefix="/succession-events", tags=["units"])


def _event(session, event_id: int) -> SuccessionEvent:
    event = session.get(SuccessionEvent, event_id)
    if event is None:
        raise NotFound(f"No succession event {event_id}.")
    return event


@router.get("")
def list_events(
    session: SessionDep, _: CurrentPrincipal, page: PageDep,
    kind: Annotated[SuccessionKind | None, Query()] = None,
    unit: Annotated[str | None, Query(description="Code of a unit taking part (either side)")] = None,
    effective_from: Annotated[date | None, Query(description="Events effective on or after this date")] = None,
    effective_to: Annotated[date | None, Query(description="Events effective on or before this date")] = None,
) -> Page[SuccessionEventPublic]:
    """Succession events by effective date."""
    stmt = select(SuccessionEvent)
    if kind is not None:
        stmt = stmt.where(SuccessionEvent.kind == kind.value)
    if unit:
        unit_id = unit_by_code(session, unit).id
        stmt = stmt.where(SuccessionEvent.id.in_(
            select(SuccessionLink.event_id).where(SuccessionLink.unit_id == unit_id)))
    if effective_from:
        stmt = stmt.where(SuccessionEvent.effective_on >= effective_from)
    if effective_to:
        stmt = stmt.where(SuccessionEvent.effective_on <= effective_to)
    rows, total = paginate(session, stmt.order_by(SuccessionEvent.effective_on, SuccessionEvent.id), page)
    return Page(items=unit_service.events_to_public(session, rows), total=total, limit=page.limit,
                offset=page.offset)


@router.post("", status_code=201, responses={201: {"model": SuccessionEventPublic}})
def create_event(
    data: SuccessionEventCreate, request: Request, session: SessionDep, principal: CurrentPrincipal,
    idem: IdempotencyDep,
) -> Response:
    """Record a merger, split, rename, dissolution or transfer; closes the predecessors the day before."""
    principal.require_staff_write()
    if (replayed := idem.replay(session, principal)) is not None:
        return replayed
    event = unit_service.record_event(session, principal, data)
    body = unit_service.events_to_public(session, [event])[0].model_dump(mode="json")
    return idem.created(session, principal, body, location=f"{request.url.path}/{event.id}", etag=etag_of(event))


@router.get("/{event_id}")
def get_event(event_id: int, session: SessionDep, _: CurrentPrincipal, response: Response) -> SuccessionEventPublic:
    """One succession event."""
    event = _event(session, event_id)
    set_etag(response, event)
    return unit_service.events_to_public(session, [event])[0]


@router.patch("/{event_id}")
def update_event(
    event_id: int, data: SuccessionEventUpdate, request: Request, response: Response, session: SessionDep,
    principal: CurrentPrincipal,
) -> SuccessionEventPublic:
    """Correct an event's legal basis or note (coordinators and administrators)."""
    principal.require_staff_write()
    event = _event(session, event_id)
    check_if_match(request, event)
    unit_service.update_event(session, principal, event, data)
    set_etag(response, event)
    return unit_service.events_to_public(session, [event])[0]


@router.delete("/{event_id}", status_code=204)
def delete_event(event_id: int, request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Delete an event; the units it closed stay closed (reopen them with PATCH /units/{code})."""
    principal.require_staff_write()
    event = _event(session, event_id)
    check_if_match(request, event)
    unit_service.delete_event(session, principal, event)
    return Response(status_code=204)
