"""Campaigns (the yearly Action Month and commemoration days, and extra ones) and units' plans for them."""

import re
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.api.errors import Conflict, Invalid, NotFound, field_error, refuse_nulls
from app.models import Activity, Attachment, Campaign, CampaignKind, CampaignPlan, Unit
from app.models.campaign import (
    CampaignCreate,
    CampaignPlanCreate,
    CampaignPlanPublic,
    CampaignPlanUpdate,
    CampaignPublic,
    CampaignUpdate,
)
from app.services import audit
from app.services.calendar import campaign_rules, campaigns_for_year, local_today
from app.services.units import ensure_active_on, referencing_rows


def first_year() -> int:
    """The first year that has the recurring campaigns (the plan's start)."""
    return campaign_rules()["years"][0]


def recurring_codes(year: int) -> set[str]:
    """The codes of the campaigns created for `year` automatically."""
    return {row["code"] for row in campaigns_for_year(year)}


def _recurring_pattern() -> re.Pattern:
    kinds = "|".join(re.escape(rule["kind"].replace("_", "-")) for rule in campaign_rules()["kinds"])
    return re.compile(rf"^({kinds})-\d{{4}}$")


def is_recurring(campaign: Campaign) -> bool:
    """Whether the campaign is one of those created for every year automatically."""
    return campaign.code in recurring_codes(campaign.year)


def ensure_year(session: Session, year: int) -> list[Campaign]:
    """Create the year's recurring campaigns that are missing (years from the plan's start to next year).

    Safe to call from any request: a concurrent request creating the same campaign wins, and this one moves on.
    Returns the campaigns created.
    """
    if not first_year() <= year <= local_today().year + 1:
        return []
    existing = set(session.exec(select(Campaign.code).where(Campaign.year == year)))
    added = []
    for row in campaigns_for_year(year):
        if row["code"] in existing:
            continue
        campaign = Campaign(**{**row, "kind": CampaignKind(row["kind"])})
        try:
            with session.begin_nested():
                session.add(campaign)
                session.flush()
        except IntegrityError:
            continue  # created meanwhile by another request
        audit.record(session, None, "create", campaign, after=audit.snapshot(campaign))
        added.append(campaign)
    return added


def get(session: Session, campaign_id: int) -> Campaign:
    """The campaign `campaign_id`, or 404."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"No campaign {campaign_id}.")
    return campaign


def to_public(campaigns: list[Campaign]) -> list[CampaignPublic]:
    """Campaigns, marked recurring or not."""
    return [CampaignPublic(**c.model_dump(), recurring=is_recurring(c)) for c in campaigns]


def _window_errors(session: Session, campaign_id: int | None, starts_on: date, ends_on: date) -> list[dict]:
    errors = []
    if ends_on < starts_on:
        errors.append(field_error(["body", "ends_on"], "The campaign ends before it starts."))
        return errors
    if campaign_id is None:
        return errors
    outside = session.exec(select(func.count()).select_from(Activity).where(
        Activity.campaign_id == campaign_id, (Activity.held_on < starts_on) | (Activity.held_on > ends_on))).one()
    if outside:
        early = session.exec(select(func.count()).select_from(Activity).where(
            Activity.campaign_id == campaign_id, Activity.held_on < starts_on)).one()
        errors.append(field_error(["body", "starts_on" if early else "ends_on"],
                                  f"{outside} activities of the campaign would fall outside the new window."))
    late = session.exec(select(func.count()).select_from(CampaignPlan).where(
        CampaignPlan.campaign_id == campaign_id, CampaignPlan.document_date > ends_on)).one()
    if late:
        errors.append(field_error(["body", "ends_on"], f"{late} campaign plans are dated after the new end."))
    return errors


def create(session: Session, principal: Any, data: CampaignCreate) -> Campaign:
    """Create an extra campaign (a local or province-wide event); audited."""
    year = data.year if data.year is not None else data.starts_on.year
    errors = _window_errors(session, None, data.starts_on, data.ends_on)
    if year not in (data.starts_on.year, data.ends_on.year):
        errors.append(field_error(["body", "year"], "The year is the year the campaign starts (or ends) in."))
    if data.code and _recurring_pattern().match(data.code):
        errors.append(field_error(["body", "code"], f"Codes like {data.code!r} are kept for the campaigns created "
                                                    "every year; choose another."))
    if errors:
        raise Invalid("The campaign is not valid.", errors=errors)
    ensure_year(session, year)
    if data.kind != CampaignKind.other:
        same = session.exec(select(Campaign).where(Campaign.year == year, Campaign.kind == data.kind.value)).first()
        if same is not None and is_recurring(same):
            msg = (f"{same.name_vi} ({same.code}) exists for {year}: change it, or record this event with kind "
                   "'other'.")
            raise Conflict(msg, errors=[field_error(["body", "kind"], msg)])
    code = data.code or _free_code(session, data.kind, year)
    if session.exec(select(Campaign).where(Campaign.code == code)).first() is not None:
        msg = f"A campaign with code {code!r} exists."
        raise Conflict(msg, errors=[field_error(["body", "code"], msg)])
    campaign = Campaign(**data.model_dump(exclude={"code", "year"}), code=code, year=year)
    session.add(campaign)
    session.flush()
    audit.record(session, principal, "create", campaign, after=audit.snapshot(campaign))
    return campaign


def _free_code(session: Session, kind: CampaignKind, year: int) -> str:
    stem = f"{kind.value.replace('_', '-')}-{year}-"
    taken = set(session.exec(select(Campaign.code).where(Campaign.code.startswith(stem))))
    n = 1
    while f"{stem}{n}" in taken:
        n += 1
    return f"{stem}{n}"


def update(session: Session, principal: Any, campaign: Campaign, data: CampaignUpdate) -> Campaign:
    """Change a campaign's names, theme or window (activities and plans must still fit); audited."""
    refuse_nulls(data, "name_vi", "name_en", "starts_on", "ends_on")
    given = data.model_fields_set
    starts_on = data.starts_on if "starts_on" in given else campaign.starts_on
    ends_on = data.ends_on if "ends_on" in given else campaign.ends_on
    if (starts_on, ends_on) != (campaign.starts_on, campaign.ends_on):
        errors = _window_errors(session, campaign.id, starts_on, ends_on)
        if not errors and campaign.year not in (starts_on.year, ends_on.year):
            errors.append(field_error(["body", "starts_on"], f"The campaign belongs to {campaign.year}."))
        if errors:
            raise Invalid("The change is not valid.", errors=errors)
    before = audit.snapshot(campaign)
    for name in given:
        setattr(campaign, name, getattr(data, name))
    audit.save_update(session, principal, campaign, before)
    return campaign


def delete(session: Session, principal: Any, campaign: Campaign) -> None:
    """Delete an extra campaign that has no plans or activities; the yearly ones stay."""
    if is_recurring(campaign):
        raise Conflict(f"{campaign.code} is created every year automatically and cannot be deleted.")
    refs = referencing_rows(session, "campaign", campaign.id)
    if refs:
        listed = ", ".join(f"{n} {t.replace('_', ' ')}s" for t, n in sorted(refs.items()))
        raise Conflict(f"Campaign {campaign.code!r} has records ({listed}): it cannot be deleted.")
    before = audit.snapshot(campaign)
    session.delete(campaign)
    session.flush()
    audit.record(session, principal, "delete", campaign, before=before)


# --- campaign plans -------------------------------------------------------------------------------------------


def plans_to_public(session: Session, plans: list[CampaignPlan]) -> list[CampaignPlanPublic]:
    """Campaign plans with their campaign's and unit's codes."""
    unit_ids = {p.unit_id for p in plans}
    units = {u.id: u for u in session.exec(select(Unit).where(Unit.id.in_(unit_ids)))} if unit_ids else {}
    campaign_ids = {p.campaign_id for p in plans}
    codes = dict(session.exec(select(Campaign.id, Campaign.code).where(Campaign.id.in_(campaign_ids))).all()) \
        if campaign_ids else {}
    return [
        CampaignPlanPublic(**p.model_dump(), campaign_code=codes[p.campaign_id], unit_code=units[p.unit_id].code,
                           unit_name_vi=units[p.unit_id].name_vi)
        for p in plans
    ]


def get_plan(session: Session, campaign: Campaign, unit: Unit) -> CampaignPlan:
    """The unit's plan for the campaign, or 404."""
    plan = session.exec(select(CampaignPlan).where(CampaignPlan.campaign_id == campaign.id,
                                                   CampaignPlan.unit_id == unit.id)).first()
    if plan is None:
        raise NotFound(f"Unit {unit.code!r} has no plan for campaign {campaign.code}.")
    return plan


def _document_date_errors(campaign: Campaign, unit: Unit, document_date: date) -> None:
    if document_date > campaign.ends_on:
        msg = (f"A plan for {campaign.code} is issued before or during the campaign; it ended on "
               f"{campaign.ends_on.isoformat()}.")
        raise Invalid(msg, errors=[field_error(["body", "document_date"], msg)])
    ensure_active_on(unit, document_date, "document_date")


def create_plan(session: Session, principal: Any, campaign: Campaign, data: CampaignPlanCreate) -> CampaignPlan:
    """Record a unit's plan for a campaign (one per unit); the caller must write for that unit. Audited."""
    unit = session.exec(select(Unit).where(Unit.code == data.unit)).first()
    if unit is None:
        raise Invalid(f"No unit with code {data.unit!r}.",
                      errors=[field_error(["body", "unit"], f"No unit with code {data.unit!r}.")])
    principal.require_write_unit(unit.id)
    if unit.valid_to is not None and unit.valid_to < campaign.starts_on:
        msg = (f"Unit {unit.code!r} closed on {unit.valid_to.isoformat()}, before the campaign started "
               f"({campaign.starts_on.isoformat()}).")
        raise Invalid(msg, errors=[field_error(["body", "unit"], msg)])
    if unit.valid_from > campaign.ends_on:
        msg = f"Unit {unit.code!r} only exists from {unit.valid_from.isoformat()}, after the campaign ended."
        raise Invalid(msg, errors=[field_error(["body", "unit"], msg)])
    _document_date_errors(campaign, unit, data.document_date)
    exists = session.exec(select(CampaignPlan).where(CampaignPlan.campaign_id == campaign.id,
                                                     CampaignPlan.unit_id == unit.id)).first()
    if exists is not None:
        msg = f"Unit {unit.code!r} already has a plan for {campaign.code}: change it with PATCH."
        raise Conflict(msg, errors=[field_error(["body", "unit"], msg)])
    plan = CampaignPlan(**data.model_dump(exclude={"unit"}), campaign_id=campaign.id, unit_id=unit.id,
                        created_by_id=principal.user_id)
    session.add(plan)
    session.flush()
    audit.record(session, principal, "create", plan, after=audit.snapshot(plan))
    return plan


def update_plan(session: Session, principal: Any, campaign: Campaign, unit: Unit, plan: CampaignPlan,
                data: CampaignPlanUpdate) -> CampaignPlan:
    """Change a unit's campaign plan; audited."""
    refuse_nulls(data, "document_number", "document_date")
    given = data.model_fields_set
    if "document_date" in given:
        _document_date_errors(campaign, unit, data.document_date)
    before = audit.snapshot(plan)
    for name in given:
        setattr(plan, name, getattr(data, name))
    audit.save_update(session, principal, plan, before)
    return plan


def delete_plan(session: Session, principal: Any, plan: CampaignPlan) -> None:
    """Delete a unit's campaign plan that has no files attached; audited."""
    files = session.exec(select(func.count()).select_from(Attachment).where(
        Attachment.owner_type == "campaign_plan", Attachment.owner_id == plan.id)).one()
    if files:
        raise Conflict(f"The plan has {files} attached files: delete them first (DELETE /files/{{id}}).")
    before = audit.snapshot(plan)
    session.delete(plan)
    session.flush()
    audit.record(session, principal, "delete", plan, before=before)


