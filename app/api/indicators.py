"""Indicators (chỉ tiêu) of the plans and their targets per year."""

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlmodel import select

from app.api.common import Page, paginate, set_etag
from app.api.deps import CurrentPrincipal, PageDep
from app.db import SessionDep
from app.models import Indicator, Plan
from app.models.indicator import IndicatorDetail, IndicatorPublic, TargetPublic
from app.services import indicators as indicator_service

router = APIRouter(prefix="/indicators", tags=["indicators"])


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


@router.get("/{code}")
def get_indicator(
    code: str, session: SessionDep, _: CurrentPrincipal, response: Response,
    plan: Annotated[str | None, Query(description="Plan code")] = None,
) -> IndicatorDetail:
    """One indicator with its target for every year of the plan."""
    indicator = indicator_service.get_by_code(session, code, plan_code=plan)
    set_etag(response, indicator)
    return indicator_service.to_detail(session, indicator)


@router.get("/{code}/targets")
def get_targets(
    code: str, session: SessionDep, _: CurrentPrincipal,
    plan: Annotated[str | None, Query(description="Plan code")] = None,
) -> list[TargetPublic]:
    """The indicator's target for every year: milestones as stored, the years between on a straight line."""
    indicator = indicator_service.get_by_code(session, code, plan_code=plan)
    return indicator_service.year_targets(session, indicator)
