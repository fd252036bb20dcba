"""Units (đơn vị): the tree of offices, organisations, wards, communes and media outlets."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import select

from app.api.common import IdempotencyDep, Page, check_if_match, etag_of, paginate, set_etag
from app.api.deps import CurrentPrincipal, PageDep, unit_by_code
from app.db import SessionDep
from app.models import Unit, UnitKind
from app.models.unit import UnitCreate, UnitLineage, UnitPublic, UnitUpdate
from app.services import units as unit_service

router = APIRouter(prefix="/units", tags=["units"])


@router.get("")
def list_units(
    session: SessionDep,
    _: CurrentPrincipal,
    page: PageDep,
    kind: Annotated[list[UnitKind] | None, Query(description="One or more unit kinds")] = None,
    parent: Annotated[str | None, Query(description="Code of the parent unit (direct children)")] = None,
    within: Annotated[str | None, Query(description="Code of a unit: it and its whole subtree")] = None,
    official_code: Annotated[str | None, Query(max_length=20)] = None,
    on: Annotated[date | None, Query(description="Only units that exist on this date")] = None,
    active_in: Annotated[int | None, Query(ge=2000, le=2100, description="Only units that exist during this year")]
    = None,
    q: Annotated[str | None, Query(max_length=100, description="Part of the name")] = None,
) -> Page[UnitPublic]:
    """Units, filtered; ordered by kind then code. A look-up by official code should give a date (`on`)."""
    stmt = select(Unit)
    if kind:
        stmt = stmt.where(Unit.kind.in_([k.value for k in kind]))
    if parent:
        stmt = stmt.where(Unit.parent_id == unit_by_code(session, parent).id)
    if within:
        stmt = stmt.where(Unit.id.in_(unit_service.subtree_ids(session, unit_by_code(session, within).id)))
    if official_code:
        stmt = stmt.where(Unit.official_code == official_code)
    if on:
        stmt = stmt.where(unit_service.active_on(on))
    if active_in is not None:
        stmt = stmt.where(unit_service.active_between(date(active_in, 1, 1), date(active_in, 12, 31)))
    if q:
        stmt = unit_service.matching_name(session, stmt, q)
    rows, total = paginate(session, stmt.order_by(Unit.kind, Unit.code), page)
    return Page(items=unit_service.to_public(session, rows), total=total, limit=page.limit, offset=page.offset)


@router.post("", status_code=201, responses={201: {"model": UnitPublic}})
def create_unit(
    data: UnitCreate, request: Request, session: SessionDep, principal: CurrentPrincipal,
    idem: IdempotencyDep,
) -> Response:
    """Create a unit (coordinators and administrators)."""
    principal.require_staff_write()
    if (replayed := idem.replay(session, principal)) is not None:
        return replayed
    unit = unit_service.create(session, principal, data)
    body = unit_service.to_public(session, [unit])[0].model_dump(mode="json")
    return idem.created(session, principal, body, location=f"{request.url.path}/{unit.code}", etag=etag_of(unit))


@router.get("/{code}")
def get_unit(code: str, session: SessionDep, _: CurrentPrincipal, response: Response) -> UnitPublic:
    """One unit by our code, with the codes of the units it succeeded and that succeeded it."""
    unit = unit_by_code(session, code)
    set_etag(response, unit)
    return unit_service.to_public(session, [unit])[0]


@router.patch("/{code}")
def update_unit(
    code: str, data: UnitUpdate, request: Request, response: Response, session: SessionDep,
    principal: CurrentPrincipal,
) -> UnitPublic:
    """Change a unit or close it (`valid_to`: its last day); send If-Match (coordinators and administrators)."""
    principal.require_staff_write()
    unit = unit_by_code(session, code)
    check_if_match(request, unit)
    unit_service.update(session, principal, unit, data)
    set_etag(response, unit)
    return unit_service.to_public(session, [unit])[0]


@router.delete("/{code}", status_code=204)
def delete_unit(code: str, request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Delete a unit that has no records (a unit with records is closed instead); coordinators and administrators."""
    principal.require_staff_write()
    unit = unit_by_code(session, code)
    check_if_match(request, unit)
    unit_service.delete(session, principal, unit)
    return Response(status_code=204)


@router.get("/{code}/lineage")
def get_lineage(code: str, session: SessionDep, _: CurrentPrincipal) -> UnitLineage:
    """The units this unit came from and those it became, through every succession event, both ways."""
    return unit_service.lineage(session, unit_by_code(session, code))
