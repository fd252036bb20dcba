"""Plans (kế hoạch): the documents that set the indicators and their targets, with their phases."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import select

from app.api.common import IdempotencyDep, Page, check_if_match, etag_of, paginate, set_etag
from app.api.deps import CurrentPrincipal, PageDep
from app.db import SessionDep
from app.models import Plan
from app.models.plan import PlanCreate, PlanPublic, PlanUpdate
from app.services import indicators as indicator_service

router = APIRouter(prefix="/plans", tags=["plans"])


@router.get("")
def list_plans(
    session: SessionDep, _: CurrentPrincipal, page: PageDep,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="Plans whose period includes this year")] = None,
) -> Page[PlanPublic]:
    """Plans with their phases, in the order they were recorded."""
    stmt = select(Plan)
    if year is not None:
        stmt = stmt.where(Plan.start_year <= year, Plan.end_year >= year)
    rows, total = paginate(session, stmt.order_by(Plan.id), page)
    return Page(items=indicator_service.plans_to_public(session, rows), total=total, limit=page.limit,
                offset=page.offset)


@router.post("", status_code=201, responses={201: {"model": PlanPublic}})
def create_plan(
    data: PlanCreate, request: Request, session: SessionDep, principal: CurrentPrincipal,
    idem: IdempotencyDep,
) -> Response:
    """Record a plan (a province's, a ward's after 2025) beside the city's (coordinators and administrators)."""
    principal.require_staff_write()
    if (replayed := idem.replay(session, principal)) is not None:
        return replayed
    plan = indicator_service.create_plan(session, principal, data)
    body = indicator_service.plans_to_public(session, [plan])[0].model_dump(mode="json")
    return idem.created(session, principal, body, location=f"{request.url.path}/{plan.code}", etag=etag_of(plan))


@router.get("/{code}")
def get_plan(code: str, session: SessionDep, _: CurrentPrincipal, response: Response) -> PlanPublic:
    """One plan with its phases and the codes of its indicators."""
    plan = indicator_service.plan_by_code(session, code)
    set_etag(response, plan)
    return indicator_service.plans_to_public(session, [plan])[0]


@router.patch("/{code}")
def update_plan(
    code: str, data: PlanUpdate, request: Request, response: Response, session: SessionDep,
    principal: CurrentPrincipal,
) -> PlanPublic:
    """Change a plan (`phases` replaces them all); send If-Match (coordinators and administrators)."""
    principal.require_staff_write()
    plan = indicator_service.plan_by_code(session, code)
    check_if_match(request, plan)
    indicator_service.update_plan(session, principal, plan, data)
    set_etag(response, plan)
    return indicator_service.plans_to_public(session, [plan])[0]


@router.delete("/{code}", status_code=204)
def delete_plan(code: str, request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Delete a plan that has no indicators (coordinators and administrators)."""
    principal.require_staff_write()
    plan = indicator_service.plan_by_code(session, code)
    check_if_match(request, plan)
    indicator_service.delete_plan(session, principal, plan)
    return Response(status_code=204)
