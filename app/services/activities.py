"""Activities: the rules every recorded activity obeys, its writes (audited) and its public form."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete as sa_delete
from sqlmodel import Session, select

from app.api.deps import Principal
from app.api.errors import Forbidden, Invalid, NotFound, field_error
from app.models import Activity, ActivityProduct, ActivityTargetGroup, Campaign, CodeItem, CodeListName, Unit
from app.models.activity import ActivityCreate, ActivityPublic, ActivityUpdate, ProductPublic, TargetGroupPublic
from app.services import audit, files
from app.services.calendar import local_today

# Columns of an activity that a create or update sets directly.
SCALAR_FIELDS = (
    "held_on", "ends_on", "title", "description", "location", "kind", "channel", "task_group", "campaign_id",
    "participants_male", "participants_female", "broadcasts", "cost_vnd", "funding_source",
)
# Input field → the code list its value must come from.
CODE_FIELDS = {
    "kind": CodeListName.activity_kind,
    "channel": CodeListName.channel,
    "task_group": CodeListName.task_group,
    "funding_source": CodeListName.funding_source,
}
# Optional free text: an empty string means "none".
_OPTIONAL_TEXT = ("description", "location", "funding_source")


def _fmt(day: date) -> str:
    return day.strftime("%d/%m/%Y")


@dataclass
class Lookups:
    """Code lists, units and campaigns, read once and reused for every activity checked (imports check thousands)."""

    session: Session
    today: date = field(default_factory=local_today)
    codes: dict[str, dict[str, bool]] = field(default_factory=dict)
    units_by_code: dict[str, Unit] = field(default_factory=dict)
    units_by_id: dict[int, Unit] = field(default_factory=dict)
    campaigns_by_id: dict[int, Campaign] = field(default_factory=dict)
    campaigns_by_code: dict[str, Campaign] = field(default_factory=dict)
    _all_loaded: bool = False

    def __post_init__(self) -> None:
        for item in self.session.exec(select(CodeItem)):
            self.codes.setdefault(item.list_name, {})[item.code] = item.active

    def preload(self) -> "Lookups":
        """Read every unit and campaign now (for imports)."""
        for unit in self.session.exec(select(Unit)):
            self._keep_unit(unit)
        for campaign in self.session.exec(select(Campaign)):
            self._keep_campaign(campaign)
        self._all_loaded = True
        return self

    def _keep_unit(self, unit: Unit) -> None:
        self.units_by_code[unit.code] = unit
        self.units_by_id[unit.id] = unit

    def _keep_campaign(self, campaign: Campaign) -> None:
        self.campaigns_by_id[campaign.id] = campaign
        self.campaigns_by_code[campaign.code] = campaign

    def unit(self, code: str) -> Unit | None:
        """The unit with our code `code`, if any."""
        if code not in self.units_by_code and not self._all_loaded:
            found = self.session.exec(select(Unit).where(Unit.code == code)).first()
            if found is not None:
                self._keep_unit(found)
        return self.units_by_code.get(code)

    def unit_by_id(self, unit_id: int) -> Unit | None:
        """The unit with id `unit_id`, if any."""
        if unit_id not in self.units_by_id and not self._all_loaded:
            found = self.session.get(Unit, unit_id)
            if found is not None:
                self._keep_unit(found)
        return self.units_by_id.get(unit_id)

    def campaign(self, campaign_id: int) -> Campaign | None:
        """The campaign with id `campaign_id`, if any."""
        if campaign_id not in self.campaigns_by_id and not self._all_loaded:
            found = self.session.get(Campaign, campaign_id)
            if found is not None:
                self._keep_campaign(found)
        return self.campaigns_by_id.get(campaign_id)

    def campaign_by_code(self, code: str) -> Campaign | None:
        """The campaign with code `code` (e.g. action-month-2025), if any."""
        if code not in self.campaigns_by_code and not self._all_loaded:
            found = self.session.exec(select(Campaign).where(Campaign.code == code)).first()
            if found is not None:
                self._keep_campaign(found)
        return self.campaigns_by_code.get(code)

    def code_problem(self, list_name: str, code: str, *, new: bool) -> str | None:
        """Why `code` may not be used from `list_name` (None if it may); a retired code is kept only on old records."""
        active = self.codes.get(list_name, {}).get(code)
        if active is None:
            return f"{code!r} is not a code of the list {list_name}."
        if new and not active:
            return f"{code!r} is retired from the list {list_name} and takes no new data."
        return None


def check(values: dict[str, Any], unit: Unit, lookups: Lookups, *, new_codes: set[str]) -> list[tuple[str, str]]:
    """The broken rules of an activity's complete state, as (field path, message); empty when it is valid.

    `values` holds the scalar fields, `participants_total` (the caller's claim, or None) and the lists
    `target_groups` / `products` (dicts); `new_codes` names the fields whose codes are newly set.
    """
    errors: list[tuple[str, str]] = []
    held_on, ends_on = values["held_on"], values["ends_on"]
    male, female = values["participants_male"], values["participants_female"]

    if held_on > lookups.today:
        errors.append(("held_on", f"{_fmt(held_on)} is in the future: record an activity once it has taken place."))
    if ends_on is not None and ends_on < held_on:
        errors.append(("ends_on", f"The last day {_fmt(ends_on)} is before the first day {_fmt(held_on)}."))
    for name, day in (("held_on", held_on), ("ends_on", ends_on)):
        if day is None:
            continue
        if day < unit.valid_from:
            errors.append((name, f"{_fmt(day)} is before the unit {unit.code} existed (from {_fmt(unit.valid_from)})."))
        elif unit.valid_to is not None and day > unit.valid_to:
            errors.append((name, f"{_fmt(day)} is after the unit {unit.code} closed on {_fmt(unit.valid_to)}: "
                                 "a closed unit takes no new data dated after it closed."))

    if values["campaign_id"] is not None:
        campaign = lookups.campaign(values["campaign_id"])
        if campaign is None:
            errors.append(("campaign_id", f"No campaign {values['campaign_id']}."))
        elif not campaign.starts_on <= held_on <= campaign.ends_on:
            errors.append(("held_on", f"{_fmt(held_on)} is outside the campaign {campaign.code} "
                                      f"({_fmt(campaign.starts_on)}–{_fmt(campaign.ends_on)})."))

    total = values.get("participants_total")
    if total is not None and total != male + female:
        errors.append(("participants_total", f"The total {total} is not participants_male + participants_female "
                                             f"= {male + female}."))

    for name, list_name in CODE_FIELDS.items():
        code = values[name]
        if code is not None and (problem := lookups.code_problem(list_name, code, new=name in new_codes)):
            errors.append((name, problem))
    if values["cost_vnd"] > 0 and not values["funding_source"]:
        errors.append(("funding_source", "A cost needs its funding source."))

    seen: set[str] = set()
    for i, group in enumerate(values["target_groups"]):
        code = group["code"]
        if code in seen:
            errors.append((f"target_groups.{i}.code", f"The target group {code!r} is listed twice."))
        seen.add(code)
        if problem := lookups.code_problem(CodeListName.target_group, code, new="target_groups" in new_codes):
            errors.append((f"target_groups.{i}.code", problem))
        for sex, whole in (("participants_male", male), ("participants_female", female)):
            part = group.get(sex)
            if part is not None and part > whole:
                errors.append((f"target_groups.{i}.{sex}",
                               f"{part} is more than the activity's {sex} ({whole})."))
    seen = set()
    for i, product in enumerate(values["products"]):
        code = product["code"]
        if code in seen:
            errors.append((f"products.{i}.code", f"The product {code!r} is listed twice."))
        seen.add(code)
        if problem := lookups.code_problem(CodeListName.product, code, new="products" in new_codes):
            errors.append((f"products.{i}.code", problem))
    return errors


def _raise_invalid(errors: list[tuple[str, str]]) -> None:
    if errors:
        raise Invalid("The activity breaks the rules named in `errors`.",
                      errors=[field_error(["body", *path.split(".")], message) for path, message in errors])


def _normalise(values: dict[str, Any]) -> dict[str, Any]:
    for name in _OPTIONAL_TEXT:
        if name in values and values[name] == "":
            values[name] = None
    return values


def get(session: Session, activity_id: int, *, for_update: bool = False) -> Activity:
    """The activity with id `activity_id`, or 404; `for_update` locks its row until the transaction ends."""
    activity = session.get(Activity, activity_id, with_for_update=for_update or None)
    if activity is None:
        raise NotFound(f"No activity {activity_id}.")
    return activity


def _children(session: Session, activity_ids: list[int]) -> tuple[dict[int, list], dict[int, list]]:
    groups: dict[int, list[ActivityTargetGroup]] = {i: [] for i in activity_ids}
    products: dict[int, list[ActivityProduct]] = {i: [] for i in activity_ids}
    if activity_ids:
        for g in session.exec(select(ActivityTargetGroup).where(ActivityTargetGroup.activity_id.in_(activity_ids))
                              .order_by(ActivityTargetGroup.id)):
            groups[g.activity_id].append(g)
        for p in session.exec(select(ActivityProduct).where(ActivityProduct.activity_id.in_(activity_ids))
                              .order_by(ActivityProduct.id)):
            products[p.activity_id].append(p)
    return groups, products


def nested(groups: list, products: list) -> dict[str, list[dict]]:
    """The target groups and products of an activity as plain dicts."""
    return {
        "target_groups": [{"code": g.code, "participants_male": g.participants_male,
                           "participants_female": g.participants_female} for g in groups],
        "products": [{"code": p.code, "quantity": p.quantity} for p in products],
    }


def full_snapshot(session: Session, activity: Activity) -> dict[str, Any]:
    """An activity's columns with its target groups and products, for the audit log."""
    groups, products = _children(session, [activity.id])
    return {**audit.snapshot(activity), **nested(groups[activity.id], products[activity.id])}


def to_public(session: Session, activities: list[Activity]) -> list[ActivityPublic]:
    """Activities with unit, campaign, target groups and products, in a fixed number of queries."""
    ids = [a.id for a in activities]
    groups, products = _children(session, ids)
    unit_ids = {a.unit_id for a in activities}
    units = {u.id: u for u in session.exec(select(Unit).where(Unit.id.in_(unit_ids)))} if unit_ids else {}
    campaign_ids = {a.campaign_id for a in activities if a.campaign_id is not None}
    campaigns = dict(session.exec(select(Campaign.id, Campaign.code).where(Campaign.id.in_(campaign_ids))).all()
                     ) if campaign_ids else {}
    return [
        ActivityPublic(
            **a.model_dump(exclude={"unit_id"}),
            unit_code=units[a.unit_id].code,
            unit_name=units[a.unit_id].name_vi,
            campaign_code=campaigns.get(a.campaign_id),
            participants_total=a.participants_male + a.participants_female,
            target_groups=[TargetGroupPublic(code=g.code, participants_male=g.participants_male,
                                             participants_female=g.participants_female) for g in groups[a.id]],
            products=[ProductPublic(code=p.code, quantity=p.quantity) for p in products[a.id]],
        )
        for a in activities
    ]


def _replace_children(session: Session, activity_id: int, *, target_groups: list[dict] | None,
                      products: list[dict] | None) -> None:
    if target_groups is not None:
        session.execute(sa_delete(ActivityTargetGroup).where(ActivityTargetGroup.activity_id == activity_id))
        session.add_all(ActivityTargetGroup(activity_id=activity_id, **g) for g in target_groups)
    if products is not None:
        session.execute(sa_delete(ActivityProduct).where(ActivityProduct.activity_id == activity_id))
        session.add_all(ActivityProduct(activity_id=activity_id, **p) for p in products)
    session.flush()


def _resolve_unit(lookups: Lookups, code: str) -> Unit:
    unit = lookups.unit(code)
    if unit is None:
        _raise_invalid([("unit", f"No unit with code {code!r}.")])
    return unit  # type: ignore[return-value]


def require_writer(principal: Principal) -> None:
    """Raise 403 unless the caller may write activities at all (viewers and read-only tokens may not)."""
    if not principal.can_write():
        raise Forbidden("You may not record activities.")


def create(session: Session, principal: Principal, data: ActivityCreate) -> Activity:
    """Record an activity for a unit the caller may write for (audited)."""
    require_writer(principal)
    lookups = Lookups(session)
    unit = _resolve_unit(lookups, data.unit)
    principal.require_write_unit(unit.id)
    values = _normalise(data.model_dump(exclude={"unit"}))
    _raise_invalid(check(values, unit, lookups, new_codes={*CODE_FIELDS, "target_groups", "products"}))
    activity = Activity(unit_id=unit.id, created_by_id=principal.user_id, **{k: values[k] for k in SCALAR_FIELDS})
    session.add(activity)
    session.flush()
    _replace_children(session, activity.id, target_groups=values["target_groups"], products=values["products"])
    audit.record(session, principal, "create", activity, after=full_snapshot(session, activity))
    return activity


def update(session: Session, principal: Principal, activity: Activity, data: ActivityUpdate) -> Activity:
    """Change an activity; lists sent replace the stored ones; moving it needs the right on both units (audited)."""
    require_writer(principal)
    principal.require_write_unit(activity.unit_id)
    lookups = Lookups(session)
    changes = _normalise(data.model_dump(exclude_unset=True))
    null_required = [name for name in ("held_on", "title", "kind", "channel", "task_group", "participants_male",
                                       "participants_female", "broadcasts", "cost_vnd", "unit")
                     if name in changes and changes[name] is None]
    _raise_invalid([(name, "This field may be changed but not removed.") for name in null_required])
    unit = lookups.unit_by_id(activity.unit_id)
    if "unit" in changes:
        unit = _resolve_unit(lookups, changes.pop("unit"))
        principal.require_write_unit(unit.id)

    before = full_snapshot(session, activity)
    values = {name: changes.get(name, getattr(activity, name)) for name in SCALAR_FIELDS}
    values["participants_total"] = changes.get("participants_total")
    values["target_groups"] = changes.get("target_groups", before["target_groups"])
    values["products"] = changes.get("products", before["products"])
    new_codes = {name for name in (*CODE_FIELDS, "target_groups", "products")
                 if name in changes and changes[name] != before[name]}
    _raise_invalid(check(values, unit, lookups, new_codes=new_codes))

    for name in SCALAR_FIELDS:
        setattr(activity, name, values[name])
    activity.unit_id = unit.id
    after_columns = audit.snapshot(activity)
    after_nested = {k: values[k] for k in ("target_groups", "products")}
    unchanged = all(after_columns[k] == before[k] for k in after_columns) and all(
        after_nested[k] == before[k] for k in after_nested)
    if unchanged:
        return activity
    _replace_children(session, activity.id,
                      target_groups=changes.get("target_groups"), products=changes.get("products"))
    audit.save_update(session, principal, activity, before, after=lambda: full_snapshot(session, activity))
    return activity


def delete(session: Session, principal: Principal, activity: Activity) -> list[str]:
    """Delete an activity with its target groups, products and evidence files (audited).

    Returns the storage keys of the deleted files, whose bytes go once the deletion is committed."""
    require_writer(principal)
    principal.require_write_unit(activity.unit_id)
    before = full_snapshot(session, activity)
    storage_keys = files.delete_for_owner(session, principal, "activity", activity.id, activity.unit_id)
    _replace_children(session, activity.id, target_groups=[], products=[])
    session.delete(activity)
    session.flush()
    audit.record(session, principal, "delete", activity, before=before, unit_id=before["unit_id"])
    return storage_keys
