"""Campaigns: the yearly Action Month (15/11–15/12) and commemoration days, extra campaigns, and units' plans."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import select

from app.api.common import IdempotencyDep, Page, check_if_match, etag_of, paginate, set_etag
from app.api.deps import CurrentPrincipal, PageDep, unit_by_code
from app.api.errors import Forbidden
from app.db import SessionDep
from app.models import Campaign, CampaignKind, CampaignPlan, Unit
from app.models.campaign import (
    CampaignCreate,
    CampaignPlanCreate,
    CampaignPlanPublic,
    CampaignPlanUpdate,
    CampaignPublic,
    CampaignUpdate,
)
from app.services import campaigns as campaign_service
from app.services import units as unit_service
from app.services.calendar import local_today

router = APIRouter(prefix="/campaigns", tags=["campaigns"])


@router.get("")
def list_campaigns(
    session: SessionDep, _: CurrentPrincipal, page: PageDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    kind: Annotated[CampaignKind | None, Query()] = None,
) -> Page[CampaignPublic]:
    """Campaigns by date; a year's recurring campaigns are created when first asked for (2022 to next year)."""
    campaign_service.ensure_year(session, year if year is not None else local_today().year)
    stmt = select(Campaign)
    if year is not None:
        stmt = stmt.where(Campaign.year == year)
    if kind is not None:
        stmt = stmt.where(Campaign.kind == kind.value)
    rows, total = paginate(session, stmt.order_by(Campaign.starts_on, Campaign.id), page)
    return Page(items=campaign_service.to_public(rows), total=total, limit=page.limit, offset=page.offset)


@router.post("", status_code=201, responses={201: {"model": CampaignPublic}})
def create_campaign(
    data: CampaignCreate, request: Request, session: SessionDep, principal: CurrentPrincipal,
    idem: IdempotencyDep,
) -> Response:
    """Add an extra campaign, e.g. a province-wide event (coordinators and administrators)."""
    principal.require_staff_write()
    if (replayed := idem.replay(session, principal)) is not None:
        return replayed
    campaign = campaign_service.create(session, principal, data)
    body = campaign_service.to_public([campaign])[0].model_dump(mode="json")
    return idem.created(session, principal, body, location=f"{request.url.path}/{campaign.id}", etag=etag_of(campaign))


@router.get("/{campaign_id}")
def get_campaign(campaign_id: int, session: SessionDep, _: CurrentPrincipal, response: Response) -> CampaignPublic:
    """One campaign."""
    campaign = campaign_service.get(session, campaign_id)
    set_etag(response, campaign)
    return campaign_service.to_public([campaign])[0]


@router.patch("/{campaign_id}")
def update_campaign(
    campaign_id: int, data: CampaignUpdate, request: Request, response: Response, session: SessionDep,
    principal: CurrentPrincipal,
) -> CampaignPublic:
    """Change a campaign's names, theme or window; send If-Match (coordinators and administrators)."""
    principal.require_staff_write()
    campaign = campaign_service.get(session, campaign_id)
    check_if_match(request, campaign)
    campaign_service.update(session, principal, campaign, data)
    set_etag(response, campaign)
    return campaign_service.to_public([campaign])[0]


@router.delete("/{campaign_id}", status_code=204)
def delete_campaign(campaign_id: int, request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Delete an extra campaign with no plans or activities (coordinators and administrators)."""
    principal.require_staff_write()
    campaign = campaign_service.get(session, campaign_id)
    check_if_match(request, campaign)
    campaign_service.delete(session, principal, campaign)
    return Response(status_code=204)


# --- each unit's plan for a campaign -----------------------------------------------------------------------------


@router.get("/{campaign_id}/plans")
def list_plans(
    campaign_id: int, session: SessionDep, _: CurrentPrincipal, page: PageDep,
    unit: Annotated[str | None, Query(description="Code of a unit")] = None,
    within: Annotated[str | None, Query(description="Code of a unit: it and its whole subtree")] = None,
) -> Page[CampaignPlanPublic]:
    """The units' plans for a campaign, by unit code."""
    campaign = campaign_service.get(session, campaign_id)
    stmt = (select(CampaignPlan).join(Unit, Unit.id == CampaignPlan.unit_id)
            .where(CampaignPlan.campaign_id == campaign.id))
    if unit:
        stmt = stmt.where(CampaignPlan.unit_id == unit_by_code(session, unit).id)
    if within:
        stmt = stmt.where(CampaignPlan.unit_id.in_(unit_service.subtree_ids(session, unit_by_code(session, within).id)))
    rows, total = paginate(session, stmt.order_by(Unit.code), page)
    return Page(items=campaign_service.plans_to_public(session, rows), total=total, limit=page.limit,
                offset=page.offset)


@router.post("/{campaign_id}/plans", status_code=201, responses={201: {"model": CampaignPlanPublic}})
def create_plan(
    campaign_id: int, data: CampaignPlanCreate, request: Request, session: SessionDep, principal: CurrentPrincipal,
    idem: IdempotencyDep,
) -> Response:
    """Record a unit's plan for the campaign (an officer for its own unit; coordinators for any)."""
    if not principal.can_write():
        raise Forbidden("You may not record campaign plans.")
    if (replayed := idem.replay(session, principal)) is not None:
        return replayed
    campaign = campaign_service.get(session, campaign_id)
    plan = campaign_service.create_plan(session, principal, campaign, data)
    body = campaign_service.plans_to_public(session, [plan])[0].model_dump(mode="json")
    return idem.created(session, principal, body, location=f"{request.url.path}/{data.unit}", etag=etag_of(plan))


@router.get("/{campaign_id}/plans/{unit_code}")
def get_plan(
    campaign_id: int, unit_code: str, session: SessionDep, _: CurrentPrincipal, response: Response,
) -> CampaignPlanPublic:
    """One unit's plan for the campaign."""
    campaign = campaign_service.get(session, campaign_id)
    plan = campaign_service.get_plan(session, campaign, unit_by_code(session, unit_code))
    set_etag(response, plan)
    return campaign_service.plans_to_public(session, [plan])[0]


@router.patch("/{campaign_id}/plans/{unit_code}")
def update_plan(
    campaign_id: int, unit_code: str, data: CampaignPlanUpdate, request: Request, response: Response,
    session: SessionDep, principal: CurrentPrincipal,
) -> CampaignPlanPublic:
    """Change a unit's plan for the campaign; send If-Match (the unit's officer, coordinators)."""
    campaign = campaign_service.get(session, campaign_id)
    unit = unit_by_code(session, unit_code)
    principal.require_write_unit(unit.id)
    plan = campaign_service.get_plan(session, campaign, unit)
    check_if_match(request, plan)
    campaign_service.update_plan(session, principal, campaign, unit, plan, data)
    set_etag(response, plan)
    return campaign_service.plans_to_public(session, [plan])[0]


@router.delete("/{campaign_id}/plans/{unit_code}", status_code=204)
def delete_plan(
    campaign_id: int, unit_code: str, request: Request, session: SessionDep, principal: CurrentPrincipal,
) -> Response:
    """Delete a unit's plan for the campaign (the unit's officer, coordinators)."""
    campaign = campaign_service.get(session, campaign_id)
    unit = unit_by_code(session, unit_code)
    principal.require_write_unit(unit.id)
    plan = campaign_service.get_plan(session, campaign, unit)
    check_if_match(request, plan)
    campaign_service.delete_plan(session, principal, plan)
    return Response(status_code=204)
