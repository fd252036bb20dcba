"""The indicator engine: the plan's five indicators, computed live from the records with SQL aggregates.

Each indicator names its computation (`Indicator.method`); every value carries its numerator and
denominator and the units behind them, and a status against the year's target. The rules are written
down for users in `docs/pulling-indicator-data.md`.
"""

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, select

from app.api.errors import NotFound
from app.config import Settings, get_settings
from app.models import (
    Activity,
    ActivityProduct,
    ActivityTargetGroup,
    AnnualReport,
    Campaign,
    CampaignKind,
    CampaignPlan,
    Indicator,
    IndicatorTarget,
    MediaStatus,
    Plan,
    ReportKind,
    ReportMediaStatus,
    ReportStatus,
    SuccessionEvent,
    SuccessionLink,
    SurveyResult,
    SurveyRound,
    Unit,
)
from app.models.indicator import Measure, TargetPublic
from app.services.indicators import get_by_code, stored_targets
from app.services.targets import NO_DATA, status_of, targets_by_year, units_needed
from app.services.units import active_between, active_on, successors

# Reports that count: submitted (on time or late), resubmitted after a return, accepted. Never drafts or returned.
COUNTED_REPORT_STATUSES = (ReportStatus.submitted, ReportStatus.resubmitted, ReportStatus.accepted)
BY_VALUES = ("year", "unit")
BOUNDARIES = ("as_reported", "current")
# Above this many units in scope, a query reads the whole year and the scope is applied to its (per-unit) result.
_IN_LIST_LIMIT = 900


class GroupChange(BaseModel):
    """IND-03: one target group's awareness score in the baseline round and in the year's round."""

    target_group: str
    baseline: float
    score: float
    change_points: float
    change_relative: float | None


class IndicatorValue(BaseModel):
    """One row of the tidy table: an indicator's value for a year and a unit (None: the whole scope)."""

    indicator: str
    year: int
    unit: str | None = None
    numerator: int | float | None = None
    denominator: int | float | None = None
    value: float | None = None
    target: float | None = None
    target_max: float | None = None
    target_count: int | None = None
    target_qualifier: str | None = None
    # The year whose target is compared: the year itself, or the next milestone when the year has none.
    target_year: int | None = None
    status: str
    # IND-03: both forms of change (the setting `ind03_change` picks the one in `value`).
    change_relative: float | None = None
    change_points: float | None = None
    units_numerator: list[str] = []
    units_denominator: list[str] = []
    # Report-based indicators (IND-04, IND-05): units in scope whose counted report does not give the figure.
    missing_units: list[str] | None = None
    groups: list[GroupChange] | None = None


# --- scope: which units, and where their figures go ------------------------------------------------------------


@dataclass
class _UnitInfo:
    code: str
    kind: str
    parent_id: int | None
    closed: bool


@dataclass
class Scope:
    """The units of a request: the subtree asked for and, with current boundaries, the units merged into it."""

    units: dict[int, _UnitInfo]
    members: set[int]
    # Where each unit's figures are shown: itself, or (current boundaries) the unit that succeeded it.
    home: dict[int, int]
    root_id: int | None
    # Survey areas of the whole-scope row: unit ids, and None for rounds covering the whole plan area.
    area_keys: list[int | None] = field(default_factory=list)
    _groups: dict[int, set[int]] | None = None

    def code(self, unit_id: int) -> str:
        return self.units[unit_id].code

    def codes(self, ids: Iterable[int]) -> list[str]:
        units = self.units
        return sorted([units[i].code for i in ids])

    def eligible(self, active: set[int], kinds: Iterable[str]) -> set[int]:
        """Members of the given kinds that are active (in the year)."""
        kinds = set(kinds)
        return {u for u in self.members if u in active and self.units[u].kind in kinds}

    def groups(self) -> dict[int, set[int]]:
        """The members shown under each unit (by=unit rows)."""
        if self._groups is None:
            self._groups = defaultdict(set)
            for u in self.members:
                self._groups[self.home[u]].add(u)
        return self._groups


def _descendants(children: dict[int | None, list[int]], roots: Iterable[int]) -> set[int]:
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        u = stack.pop()
        if u in seen:
            continue
        seen.add(u)
        stack.extend(children.get(u, []))
    return seen


def resolve_scope(
    session: Session, *, unit_code: str | None = None, kinds: list[str] | None = None,
    boundaries: str = "as_reported", plan_issuer_id: int | None = None,
) -> Scope:
    """The units in scope: `unit_code`'s subtree (default: the city's, or all units), narrowed by `kinds` to the
    units of those kinds and what lies below them; with `boundaries="current"` also the units merged into them."""
    rows = session.exec(select(Unit.id, Unit.code, Unit.kind, Unit.parent_id, Unit.valid_to)).all()
    units = {r[0]: _UnitInfo(code=r[1], kind=str(r[2]), parent_id=r[3], closed=r[4] is not None) for r in rows}
    children: dict[int | None, list[int]] = defaultdict(list)
    for uid, info in units.items():
        children[info.parent_id].append(uid)

    root_id = None
    if unit_code:
        root_id = next((uid for uid, info in units.items() if info.code == unit_code), None)
        if root_id is None:
            raise NotFound(f"No unit with code {unit_code!r}.")
        roots = [root_id]
    elif kinds:
        roots = list(units)
    else:
        roots = [uid for uid, info in units.items() if info.kind == "city"] or list(units)
    if kinds:
        wanted = set(kinds)
        roots = [u for u in _descendants(children, roots) if units[u].kind in wanted]
    members = _descendants(children, roots)

    home = {uid: uid for uid in units}
    if boundaries == "current":
        closed = [uid for uid, info in units.items() if info.closed]
        succ = successors(session, closed)
        for uid in closed:
            # Only a closed unit with exactly one successor rolls up (merge, rename); a split stays apart.
            target, seen = uid, {uid}
            while units[target].closed and len(succ.get(target, [])) == 1 and succ[target][0] not in seen:
                target = succ[target][0]
                seen.add(target)
            home[uid] = target
        # Bring in what merged into the scope, and what lies below it, until nothing more comes.
        while True:
            extra = {u for u in units if u not in members and home[u] in members}
            if not extra:
                break
            members |= _descendants(children, extra)

    if unit_code:
        area_keys: list[int | None] = [root_id]
        if root_id == plan_issuer_id:
            area_keys.append(None)
    elif kinds:
        area_keys = []
    else:
        area_keys = [None] + ([plan_issuer_id] if plan_issuer_id else [])
    return Scope(units=units, members=members, home=home, root_id=root_id, area_keys=area_keys)


def _active_ids(session: Session, year: int, rule: str) -> set[int]:
    """Units active in the year: at any time in it ("any") or on 31 December ("end")."""

    first, last = date(year, 1, 1), date(year, 12, 31)
    cond = active_on(last) if rule == "end" else active_between(first, last)
    return set(session.exec(select(Unit.id).where(cond)).all())


def in_years(column, years: list[int]):
    """SQL condition: the date column falls in one of the years."""
    return or_(*(and_(column >= date(y, 1, 1), column <= date(y, 12, 31)) for y in years))


def _limit_units(stmt, column, scope: Scope):
    # A small scope is pushed into SQL; a large one would only make the statement long.
    if len(scope.members) <= _IN_LIST_LIMIT:
        stmt = stmt.where(column.in_(sorted(scope.members)))
    return stmt


# --- targets --------------------------------------------------------------------------------------------------


class _Targets:
    """An indicator's target for any year, and its final target."""

    def __init__(self, session: Session, indicator: Indicator, years: list[int]):

        plan = session.get(Plan, indicator.plan_id)
        self.indicator = indicator
        self.stored: list[IndicatorTarget] = stored_targets(session, [indicator.id])[indicator.id]
        first = min([plan.start_year, *years])
        last = max([plan.end_year, *years])
        self.by_year = targets_by_year(indicator, self.stored, first, last)
        milestones = [t for t in self.stored if t.is_milestone] or self.stored
        self.final = max(milestones, key=lambda t: t.year) if milestones else None
        self._cache: dict[int, tuple[TargetPublic | None, int | None]] = {}

    def for_year(self, year: int) -> tuple[TargetPublic | None, int | None]:
        """The year's target and the year it belongs to (the next milestone's for a year without one)."""
        if year not in self._cache:
            self._cache[year] = self._for_year(year)
        return self._cache[year]

    def _for_year(self, year: int) -> tuple[TargetPublic | None, int | None]:
        if year in self.by_year:
            return self.by_year[year], year
        ind = self.indicator
        if ind.baseline_year == year and ind.baseline_value is not None:
            return TargetPublic(year=year, value=ind.baseline_value, interpolated=False, is_milestone=False), year
        later = [t for t in self.stored if t.year > year]
        if later:
            t = min(later, key=lambda t: t.year)
            return TargetPublic(year=t.year, value=t.value, value_max=t.value_max, qualifier=t.qualifier,
                                interpolated=False, is_milestone=False, source_document=t.source_document), t.year
        return None, None


def _finish(fields: dict, targets: _Targets, settings: Settings, *, count_based: bool) -> IndicatorValue:
    """The row, from its figures (`fields`: numerator, denominator, value …) with its target and status."""
    target, target_year = targets.for_year(fields["year"])
    final = targets.final
    denominator, numerator, value = fields.get("denominator"), fields.get("numerator"), fields.get("value")
    rounding = settings.target_count_rounding
    target_count = final_count = final_value = None
    if target is not None:
        fields.update(target=target.value, target_max=target.value_max, target_qualifier=target.qualifier,
                      target_year=target_year)
        if count_based and denominator:
            target_count = fields["target_count"] = units_needed(target.value, int(denominator), rounding)
    if final is not None and (target is None or final.qualifier == target.qualifier):
        final_value = final.value
        if count_based and denominator:
            final_count = units_needed(final.value, int(denominator), rounding)
    fields["status"] = status_of(
        value=value, numerator=numerator, target=fields.get("target"), target_count=target_count,
        is_milestone=bool(target and target.is_milestone and target_year == fields["year"]),
        final_target=final_value, final_count=final_count, margin=settings.at_risk_margin,
    )
    return IndicatorValue(**fields)


# --- the computations -----------------------------------------------------------------------------------------


@dataclass
class _YearFacts:
    """What a share indicator needs for one year: units in the denominator, in the numerator, and missing.

    For a share of items (IND-05), `figures` holds each reporting unit's (denominator, numerator) figures.
    """

    eligible: set[int]
    hits: set[int] = field(default_factory=set)
    missing: set[int] | None = None
    figures: dict[int, tuple[int, int]] | None = None


_Method = Callable[[Session, Scope, list[int], dict[int, set[int]], Settings, _Targets], dict[int, _YearFacts]]


def units_with_law_session(session, scope, years, active, settings, targets) -> dict[int, _YearFacts]:
    """IND-01: units with ≥1 qualifying communication/dissemination activity held in the year."""
    # As a CASE, the test cannot lead the planner to the task-group or kind index: the year's range of the
    # (held_on, task_group, kind, unit_id) index is read instead, without touching the table. One query per
    # year keeps it a plain range scan.
    qualifies = case((or_(Activity.task_group.in_(settings.ind01_task_groups),
                          Activity.kind.in_(settings.ind01_activity_kinds)), 1), else_=0)
    hits: dict[int, set[int]] = {}
    for y in years:
        stmt = select(Activity.unit_id).where(in_years(Activity.held_on, [y]), qualifies == 1).distinct()
        hits[y] = set(session.exec(_limit_units(stmt, Activity.unit_id, scope)).all())
    return {y: _YearFacts(eligible=scope.eligible(active[y], settings.ind_unit_kinds), hits=hits[y]) for y in years}


def units_with_action_month(session, scope, years, active, settings, targets) -> dict[int, _YearFacts]:
    """IND-02: units with a plan for the year's Action Month and ≥1 activity linked to it or held in its window."""
    month = and_(Campaign.kind == CampaignKind.action_month, Campaign.year.in_(years))
    # Three index-friendly ways an activity belongs to the campaign: linked to it, begun in its window, or begun
    # before it and still running when it starts.
    linked = select(Campaign.id.label("cid"), Activity.unit_id.label("uid")).join(
        Activity, Activity.campaign_id == Campaign.id).where(month)
    begun = select(Campaign.id, Activity.unit_id).join(
        Activity, and_(Activity.held_on >= Campaign.starts_on, Activity.held_on <= Campaign.ends_on)).where(month)
    running = select(Campaign.id, Activity.unit_id).join(
        Activity, and_(Activity.ends_on >= Campaign.starts_on, Activity.held_on < Campaign.starts_on)).where(month)
    carried_out = sa.union(linked, begun, running).subquery()
    stmt = (
        select(Campaign.year, CampaignPlan.unit_id)
        .join(Campaign, Campaign.id == CampaignPlan.campaign_id)
        .join(carried_out, and_(carried_out.c.cid == Campaign.id, carried_out.c.uid == CampaignPlan.unit_id))
        .where(month)
        .distinct()
    )
    hits: dict[int, set[int]] = defaultdict(set)
    for y, uid in session.exec(_limit_units(stmt, CampaignPlan.unit_id, scope)):
        hits[int(y)].add(uid)
    return {y: _YearFacts(eligible=scope.eligible(active[y], settings.ind_unit_kinds), hits=hits[y]) for y in years}


def media_gender_indicators(session, scope, years, active, settings, targets) -> dict[int, _YearFacts]:
    """IND-04: outlets whose status for the year in a counted report is pilot or official (or official only)."""
    rank = case((ReportMediaStatus.status == MediaStatus.official, 2),
                (ReportMediaStatus.status == MediaStatus.pilot, 1), else_=0)
    stmt = (
        select(AnnualReport.year, ReportMediaStatus.outlet_id, func.max(rank))
        .join(AnnualReport, AnnualReport.id == ReportMediaStatus.report_id)
        .where(AnnualReport.kind == ReportKind.annual, AnnualReport.status.in_(COUNTED_REPORT_STATUSES),
               AnnualReport.year.in_(years))
        .group_by(AnnualReport.year, ReportMediaStatus.outlet_id)
    )
    ranks: dict[int, dict[int, int]] = defaultdict(dict)
    for y, outlet, best in session.exec(_limit_units(stmt, ReportMediaStatus.outlet_id, scope)):
        ranks[int(y)][outlet] = int(best)
    result = {}
    for y in years:
        target, _ = targets.for_year(y)
        needed = 2 if target is not None and target.qualifier == MediaStatus.official else 1
        eligible = scope.eligible(active[y], settings.ind04_unit_kinds)
        result[y] = _YearFacts(
            eligible=eligible,
            hits={o for o, r in ranks[y].items() if r >= needed},
            missing=eligible - ranks[y].keys(),
        )
    return result


def conventions_without_discrimination(session, scope, years, active, settings, targets) -> dict[int, _YearFacts]:
    """IND-05: conventions adopted free of gender discrimination / adopted, from counted annual reports."""
    stmt = (
        select(AnnualReport.year, AnnualReport.unit_id, AnnualReport.conventions_adopted,
               AnnualReport.conventions_without_discrimination)
        .where(AnnualReport.kind == ReportKind.annual, AnnualReport.status.in_(COUNTED_REPORT_STATUSES),
               AnnualReport.year.in_(years),
               AnnualReport.conventions_adopted.is_not(None),
               AnnualReport.conventions_without_discrimination.is_not(None))
    )
    figures: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    for y, uid, adopted, without in session.exec(_limit_units(stmt, AnnualReport.unit_id, scope)):
        figures[int(y)][uid] = (adopted, without)
    result = {}
    for y in years:
        eligible = scope.eligible(active[y], settings.ind05_unit_kinds)
        reported = {u: f for u, f in figures[y].items() if u in eligible}
        result[y] = _YearFacts(eligible=eligible, figures=reported, missing=eligible - reported.keys())
    return result


METHODS: dict[str, _Method] = {
    "units_with_law_session": units_with_law_session,
    "units_with_action_month": units_with_action_month,
    "media_gender_indicators": media_gender_indicators,
    "conventions_without_discrimination": conventions_without_discrimination,
}
SURVEY_METHOD = "awareness_change"


def _share_row(ind: Indicator, year: int, unit: str | None, facts: _YearFacts, group: set[int] | None,
               scope: Scope) -> dict:
    """The row of a share indicator over the members in `group` (None: the whole scope)."""
    eligible = facts.eligible if group is None else facts.eligible & group
    missing = None if facts.missing is None else scope.codes(facts.missing & eligible)
    if facts.figures is None:
        hits = facts.hits & eligible
        numerator, denominator = len(hits), len(eligible)
        units_num, units_den = scope.codes(hits), scope.codes(eligible)
        if facts.missing is not None and eligible and eligible <= facts.missing:
            # Not one unit reported: nothing is known, which is not a count of 0.
            numerator = None
    else:
        reported = {u: facts.figures[u] for u in eligible if u in facts.figures}
        units_den = scope.codes(reported)
        units_num = scope.codes(u for u, (_, without) in reported.items() if without > 0)
        if reported:
            denominator = sum(adopted for adopted, _ in reported.values())
            numerator = sum(without for _, without in reported.values())
        else:
            numerator = denominator = None
    value = round(100 * numerator / denominator, 4) if denominator and numerator is not None else None
    return {"indicator": ind.code, "year": year, "unit": unit, "numerator": numerator, "denominator": denominator,
            "value": value, "units_numerator": units_num, "units_denominator": units_den, "missing_units": missing}


def _share_rows(session, ind, years, scope, by, settings, targets, active) -> list[IndicatorValue]:
    method = METHODS.get(ind.method)
    if method is None:
        return [IndicatorValue(indicator=ind.code, year=y, status=NO_DATA) for y in years]
    facts = method(session, scope, years, active, settings, targets)
    count_based = ind.measure == Measure.share_of_units
    groups = scope.groups() if by == "unit" else {}
    order = sorted(groups, key=scope.code)
    rows = []
    for y in years:
        rows.append(_finish(_share_row(ind, y, None, facts[y], None, scope), targets, settings,
                            count_based=count_based))
        for home in order:
            if facts[y].eligible & groups[home]:
                row = _share_row(ind, y, scope.code(home), facts[y], groups[home], scope)
                rows.append(_finish(row, targets, settings, count_based=count_based))
    return rows


def _survey_rows(session, ind, years, scope, by, settings, targets) -> list[IndicatorValue]:
    """IND-03: change of awareness scores against the baseline round, per target group and over the groups."""
    base_year = ind.baseline_year
    conds = [SurveyRound.year.in_(years), SurveyRound.is_baseline.is_(True)]
    if base_year is not None:
        conds.append(SurveyRound.year == base_year)
    rounds = list(session.exec(select(SurveyRound).where(or_(*conds))))
    scores: dict[int, dict[str, float]] = defaultdict(dict)
    if rounds:
        stmt = select(SurveyResult.round_id, SurveyResult.target_group, SurveyResult.score).where(
            SurveyResult.round_id.in_([r.id for r in rounds]))
        for round_id, group, score in session.exec(stmt):
            scores[round_id][group] = score
    by_area: dict[int | None, list[SurveyRound]] = defaultdict(list)
    for r in rounds:
        by_area[r.unit_id].append(r)

    def latest(candidates: list[SurveyRound]) -> SurveyRound | None:
        return max(candidates, key=lambda r: (r.conducted_on or date.min, r.id), default=None)

    def row(year: int, unit: str | None, keys: list[int | None]) -> IndicatorValue:
        # The first area with rounds wins: a unit's own rounds before the plan area's.
        area = next((by_area[k] for k in keys if by_area.get(k)), [])
        baseline = latest([r for r in area if r.is_baseline and r.year == base_year]) or latest(
            [r for r in area if r.is_baseline]) or latest([r for r in area if r.year == base_year])
        current = None
        if baseline is not None:
            current = baseline if baseline.year == year else latest(
                [r for r in area if r.year == year and r.id != baseline.id])
        out: dict = {"indicator": ind.code, "year": year, "unit": unit}
        if baseline is None or current is None:
            return _finish(out, targets, settings, count_based=False)
        base, now = scores[baseline.id], scores[current.id]
        common = sorted(set(base) & set(now))
        if not common:
            return _finish(out, targets, settings, count_based=False)
        points = sum(now[g] - base[g] for g in common)
        base_sum = sum(base[g] for g in common)
        change_points = round(points / len(common), 4)
        change_relative = round(100 * points / base_sum, 4) if base_sum else None
        if settings.ind03_change == "points":
            denominator, value = len(common), change_points
        else:
            denominator, value = round(base_sum, 4), change_relative
        out.update(
            numerator=round(points, 4), denominator=denominator, value=value, change_points=change_points,
            change_relative=change_relative,
            groups=[GroupChange(target_group=g, baseline=base[g], score=now[g],
                                change_points=round(now[g] - base[g], 4),
                                change_relative=round(100 * (now[g] - base[g]) / base[g], 4) if base[g] else None)
                    for g in common],
        )
        return _finish(out, targets, settings, count_based=False)

    rows = []
    own = sorted((u for u in by_area if u is not None and u in scope.members), key=scope.code) if by == "unit" else []
    for y in years:
        rows.append(row(y, None, scope.area_keys))
        rows += [row(y, scope.code(u), [u]) for u in own]
    return rows


def _indicators(session: Session, codes: list[str] | None, plan_code: str | None) -> list[Indicator]:
    if codes:
        return [get_by_code(session, code, plan_code=plan_code) for code in dict.fromkeys(codes)]
    stmt = select(Plan)
    if plan_code:
        stmt = stmt.where(Plan.code == plan_code)
    plan = session.exec(stmt.order_by(Plan.id)).first()
    if plan is None:
        raise NotFound(f"No plan with code {plan_code!r}." if plan_code else "No plan is loaded.")
    return list(session.exec(
        select(Indicator).where(Indicator.plan_id == plan.id).order_by(Indicator.sort_order, Indicator.code)))


def compute(
    session: Session,
    *,
    indicators: list[str] | None,
    years: list[int],
    unit_code: str | None = None,
    by: str = "year",
    boundaries: str = "as_reported",
    kinds: list[str] | None = None,
    plan_code: str | None = None,
) -> list[IndicatorValue]:
    """Indicator values: one row per indicator × year for the scope, and with by="unit" one per unit too."""
    if by not in BY_VALUES:
        raise ValueError(f"by must be one of {BY_VALUES}")
    if boundaries not in BOUNDARIES:
        raise ValueError(f"boundaries must be one of {BOUNDARIES}")
    if not years:
        return []
    settings = get_settings()
    years = sorted(set(years))
    inds = _indicators(session, indicators, plan_code)
    issuer = session.get(Plan, inds[0].plan_id).issuer_unit_id if inds else None
    scope = resolve_scope(session, unit_code=unit_code, kinds=kinds, boundaries=boundaries, plan_issuer_id=issuer)
    active = {y: _active_ids(session, y, settings.active_in_year) for y in years}
    rows: list[IndicatorValue] = []
    for ind in inds:
        targets = _Targets(session, ind, years)
        if ind.method == SURVEY_METHOD:
            rows += _survey_rows(session, ind, years, scope, by, settings, targets)
        else:
            rows += _share_rows(session, ind, years, scope, by, settings, targets, active)
    return rows


# --- the version of the data, for ETags ----------------------------------------------------------------------

# Every table a value depends on. A write changes a table's row count, its highest id or its latest
# `updated_at` (every write bumps it); child tables without a timestamp add a checksum of their figures.
_VERSIONED = (Unit, SuccessionEvent, Activity, Campaign, CampaignPlan, AnnualReport, SurveyRound, Indicator,
              IndicatorTarget, Plan)
_CHILDREN = (
    (SuccessionLink, lambda: func.sum(SuccessionLink.unit_id + SuccessionLink.event_id)),
    # An activity's target groups and products change with the activity (its version is bumped).
    (ActivityTargetGroup, None),
    (ActivityProduct, None),
    (ReportMediaStatus, lambda: func.sum(case((ReportMediaStatus.status == MediaStatus.official, 3),
                                              (ReportMediaStatus.status == MediaStatus.pilot, 2), else_=1)
                                         * ReportMediaStatus.outlet_id)),
    (SurveyResult, lambda: func.sum(SurveyResult.score)),
)


def data_version(session: Session) -> tuple[str, datetime | None]:
    """A fingerprint of everything the indicators and statistics read, and the latest change time, in one query."""
    columns = []
    for model in _VERSIONED:
        columns += [select(func.count()).select_from(model).scalar_subquery(),
                    select(func.max(model.id)).scalar_subquery(),
                    select(func.max(model.updated_at)).scalar_subquery()]
    for model, checksum in _CHILDREN:
        columns += [select(func.count()).select_from(model).scalar_subquery(),
                    select(func.max(model.id)).scalar_subquery()]
        if checksum is not None:
            columns.append(select(checksum()).scalar_subquery())
    row = session.exec(select(*columns)).one()
    stamps = [row[i * 3 + 2] for i in range(len(_VERSIONED))]
    last = max((s for s in stamps if isinstance(s, datetime)), default=None)
    return "|".join(str(v) for v in row), last


def settings_fingerprint(settings: Settings) -> str:
    """The settings that change computed values."""
    keys = ("active_in_year", "ind03_change", "target_count_rounding", "at_risk_margin", "ind_unit_kinds",
            "ind01_task_groups", "ind01_activity_kinds", "ind04_unit_kinds", "ind05_unit_kinds", "timezone")
    return json.dumps({k: getattr(settings, k) for k in keys}, sort_keys=True, default=str)


def etag(session: Session, *parts: object) -> tuple[str, datetime | None]:
    """A strong ETag over the data version, the settings and the request (`parts`), with the last change time."""
    version, last = data_version(session)
    digest = hashlib.sha256(
        "\n".join([version, settings_fingerprint(get_settings()), *map(str, parts)]).encode()).hexdigest()
    return f'"{digest[:32]}"', last
