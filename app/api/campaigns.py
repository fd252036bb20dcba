"""Campaigns: the yearly Action Month (15/11–15/12) and the commemoration days."""

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlmodel import select

from app.api.common import Page, paginate, set_etag
from app.api.deps import CurrentPrincipal, PageDep
from app.api.errors import NotFound
from app.db import SessionDep
from app.models import Campaign, CampaignKind
from app.models.campaign import CampaignPublic

router = APIRouter(prefix="/campaigns", tags=["campaigns"])


@router.get("")
def list_campaigns(
    session: SessionDep, _: CurrentPrincipal, page: PageDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    kind: Annotated[CampaignKind | None, Query()] = None,
) -> Page[CampaignPublic]:
    """Campaigns by date."""
    stmt = select(Campaign)
    if year is not None:
        stmt = stmt.where(Campaign.year == year)
    if kind is not None:
        stmt = stmt.where(Campaign.kind == kind.value)
    rows, total = paginate(session, stmt.order_by(Campaign.starts_on, Campaign.id), page)
    return Page(items=[CampaignPublic.model_validate(r, from_attributes=True) for r in rows],
                total=total, limit=page.limit, offset=page.offset)


@router.get("/{campaign_id}")
def get_campaign(campaign_id: int, session: SessionDep, _: CurrentPrincipal, response: Response) -> CampaignPublic:
    """One campaign."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"No campaign {campaign_id}.")
    set_etag(response, campaign)
    return CampaignPublic.model_validate(campaign, from_attributes=True)
