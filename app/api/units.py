"""Units (đơn vị): the tree of offices, organisations, wards, communes and media outlets."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlmodel import select

from app.api.common import Page, paginate, set_etag
from app.api.deps import CurrentPrincipal, PageDep, unit_by_code
from app.db import SessionDep
from app.models import Unit, UnitKind
from app.models.unit import UnitPublic
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
    if q:
        stmt = stmt.where(Unit.name_vi.ilike(f"%{q}%") | Unit.name_en.ilike(f"%{q}%"))
    rows, total = paginate(session, stmt.order_by(Unit.kind, Unit.code), page)
    return Page(items=unit_service.to_public(session, rows), total=total, limit=page.limit, offset=page.offset)


@router.get("/{code}")
def get_unit(code: str, session: SessionDep, _: CurrentPrincipal, response: Response) -> UnitPublic:
    """One unit by our code."""
    unit = unit_by_code(session, code)
    set_etag(response, unit)
    return unit_service.to_public(session, [unit])[0]
