"""Indicators (chỉ tiêu) of the plans and their targets per year."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from sqlmodel import select

from app.api.common import IdempotencyDep, Page, check_if_match, etag_of, paginate, set_etag
from app.api.deps import CurrentPrincipal, PageDep
from app.api.errors import NotFound
from app.db import SessionDep
from app.models import Indicator, Plan
from app.models.indicator import (
    IndicatorCreate,
    IndicatorDetail,
    IndicatorPublic,
    IndicatorUpdate,
    StoredTargetPublic,
    TargetIn,
    TargetPublic,
)
from app.services import indicators as indicator_service

router = APIRouter(prefix="/indicators", tags=["indicators"])

PlanQuery = Annotated[str | None, Query(description="Plan code (when several plans have this indicator code)")]
YearPath = Annotated[int, Path(ge=2000, le=2100)]


@router.get("")
def list_indicators(
    session: SessionDep, _: CurrentPrincipal, page: PageDep,
    plan: Annotated[str | None, Query(description="Plan code")] = None,
) -> Page[IndicatorPublic]:
    """Indicators with their milestones, in the plan's order."""
    stmt = select(Indicator).join(Plan, Plan.id == Indicator.plan_id)
    if plan:
        stmt = stmt.where(Plan.code == plan)
    rows, total = paginate(session, stmt.order_by(Plan.id, Indicator.sort_order, Indicator.code), page)
    return Page(items=indicator_service.to_public(session, rows), total=total, limit=page.limit, offset=page.offset)


@router.post("", status_code=201, responses={201: {"model": IndicatorDetail}})
def create_indicator(
    data: IndicatorCreate, request: Request, session: SessionDep, principal: CurrentPrincipal,
    idem: IdempotencyDep,
) -> Response:
    """Add an indicator to a plan (coordinators and administrators); set its targets with PUT …/targets/{year}."""
    principal.require_staff_write()
    if (replayed := idem.replay(session, principal)) is not None:
        return replayed
    indicator = indicator_service.create_indicator(session, principal, data)
    body = indicator_service.to_detail(session, indicator).model_dump(mode="json")
    location = f"{request.url.path}/{indicator.code}?plan={data.plan}"
    return idem.created(session, principal, body, location=location, etag=etag_of(indicator))


@router.get("/{code}")
def get_indicator(
    code: str, session: SessionDep, _: CurrentPrincipal, response: Response, plan: PlanQuery = None,
) -> IndicatorDetail:
    """One indicator with its target for every year of the plan."""
    indicator = indicator_service.get_by_code(session, code, plan_code=plan)
    set_etag(response, indicator)
    return indicator_service.to_detail(session, indicator)


@router.patch("/{code}")
def update_indicator(
    code: str, data: IndicatorUpdate, request: Request, response: Response, session: SessionDep,
    principal: CurrentPrincipal, plan: PlanQuery = None,
) -> IndicatorDetail:
    """Change an indicator's names, method or baseline; send If-Match (coordinators and administrators)."""
    principal.require_staff_write()
    indicator = indicator_service.get_by_code(session, code, plan_code=plan)
    check_if_match(request, indicator)
    indicator_service.update_indicator(session, principal, indicator, data)
    set_etag(response, indicator)
    return indicator_service.to_detail(session, indicator)


@router.delete("/{code}", status_code=204)
def delete_indicator(
    code: str, request: Request, session: SessionDep, principal: CurrentPrincipal, plan: PlanQuery = None,
) -> Response:
    """Delete an indicator and its stored targets (coordinators and administrators)."""
    principal.require_staff_write()
    indicator = indicator_service.get_by_code(session, code, plan_code=plan)
    check_if_match(request, indicator)
    indicator_service.delete_indicator(session, principal, indicator)
    return Response(status_code=204)


@router.get("/{code}/targets")
def get_targets(code: str, session: SessionDep, _: CurrentPrincipal, plan: PlanQuery = None) -> list[TargetPublic]:
    """The indicator's target for every year: milestones as stored, the years between on a straight line."""
    indicator = indicator_service.get_by_code(session, code, plan_code=plan)
    return indicator_service.year_targets(session, indicator)


def _stored(session, indicator: Indicator, year: int):
    target = indicator_service.stored_target(session, indicator, year)
    if target is None:
        raise NotFound(f"No target is stored for {indicator.code} in {year} "
                       f"(GET /indicators/{indicator.code}/targets gives the trajectory).")
    return target


@router.get("/{code}/targets/{year}")
def get_target(
    code: str, year: YearPath, session: SessionDep, _: CurrentPrincipal, response: Response, plan: PlanQuery = None,
) -> StoredTargetPublic:
    """The target stored for one year, with its ETag (404 for a year on the trajectory)."""
    indicator = indicator_service.get_by_code(session, code, plan_code=plan)
    target = _stored(session, indicator, year)
    set_etag(response, target)
    return indicator_service.target_to_public(session, indicator, target)


@router.put("/{code}/targets/{year}", responses={201: {"model": StoredTargetPublic}})
def put_target(
    code: str, year: YearPath, data: TargetIn, request: Request, response: Response, session: SessionDep,
    principal: CurrentPrincipal, plan: PlanQuery = None,
) -> StoredTargetPublic:
    """Set the year's target as a document sets it (201 when new, 200 when replaced); coordinators and admins."""
    principal.require_staff_write()
    indicator = indicator_service.get_by_code(session, code, plan_code=plan)
    target = indicator_service.stored_target(session, indicator, year)
    check_if_match(request, target)  # None: no target stored for the year yet
    is_new = target is None
    target = indicator_service.put_target(session, principal, indicator, year, data, target)
    set_etag(response, target)
    if is_new:
        response.status_code = 201
    return indicator_service.target_to_public(session, indicator, target)


@router.delete("/{code}/targets/{year}", status_code=204)
def delete_target(
    code: str, year: YearPath, request: Request, session: SessionDep, principal: CurrentPrincipal,
    plan: PlanQuery = None,
) -> Response:
    """Remove the year's stored target; the year falls back on the trajectory (coordinators and admins)."""
    principal.require_staff_write()
    indicator = indicator_service.get_by_code(session, code, plan_code=plan)
    target = _stored(session, indicator, year)
    check_if_match(request, target)
    indicator_service.delete_target(session, principal, indicator, target)
    return Response(status_code=204)
