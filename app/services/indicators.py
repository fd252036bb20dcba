"""Plans, the indicators of a plan and their targets: look-ups and the rules of changing them."""

from typing import Any

from sqlmodel import Session, select

from app.api.common import bump
from app.api.errors import Conflict, Invalid, NotFound, field_error, refuse_nulls
from app.models import Indicator, IndicatorTarget, Plan, PlanPhase, Unit
from app.models.indicator import (
    IndicatorCreate,
    IndicatorDetail,
    IndicatorPublic,
    IndicatorUpdate,
    Measure,
    StoredTargetPublic,
    TargetIn,
    TargetPublic,
)
from app.models.plan import PlanCreate, PlanPhaseIn, PlanPhasePublic, PlanPublic, PlanUpdate
from app.services import audit
from app.services.targets import targets_by_year
from app.services.units import referencing_rows

# --- indicators: reading --------------------------------------------------------------------------------------


def get_by_code(session: Session, code: str, *, plan_code: str | None = None) -> Indicator:
    """The indicator `code` of the given plan (default: the first plan that has it), or 404."""
    stmt = select(Indicator).join(Plan, Plan.id == Indicator.plan_id).where(Indicator.code == code)
    if plan_code:
        stmt = stmt.where(Plan.code == plan_code)
    indicator = session.exec(stmt.order_by(Plan.id)).first()
    if indicator is None:
        raise NotFound(f"No indicator with code {code!r}.")
    return indicator


def stored_targets(session: Session, indicator_ids: list[int]) -> dict[int, list[IndicatorTarget]]:
    """Stored targets of several indicators, in one query."""
    result: dict[int, list[IndicatorTarget]] = {i: [] for i in indicator_ids}
    stmt = select(IndicatorTarget).where(IndicatorTarget.indicator_id.in_(indicator_ids))
    for t in session.exec(stmt.order_by(IndicatorTarget.year)):
        result[t.indicator_id].append(t)
    return result


def year_targets(session: Session, indicator: Indicator) -> list[TargetPublic]:
    """The indicator's target for every year of its plan (stored or on the trajectory)."""
    plan = session.get(Plan, indicator.plan_id)
    stored = stored_targets(session, [indicator.id])[indicator.id]
    return list(targets_by_year(indicator, stored, plan.start_year, plan.end_year).values())


def to_public(session: Session, indicators: list[Indicator]) -> list[IndicatorPublic]:
    """Indicators with their plan code and milestones."""
    plans = {p.id: p.code for p in session.exec(select(Plan))}
    targets = stored_targets(session, [i.id for i in indicators])
    return [
        IndicatorPublic(
            **i.model_dump(), plan_code=plans[i.plan_id],
            milestones=[
                TargetPublic(year=t.year, value=t.value, value_max=t.value_max, qualifier=t.qualifier,
                             interpolated=False, is_milestone=True, source_document=t.source_document)
                for t in targets[i.id] if t.is_milestone
            ],
        )
        for i in indicators
    ]


def to_detail(session: Session, indicator: Indicator) -> IndicatorDetail:
    """One indicator with its target for every year of the plan."""
    public = to_public(session, [indicator])[0]
    return IndicatorDetail(**public.model_dump(), targets=year_targets(session, indicator))


def stored_target(session: Session, indicator: Indicator, year: int) -> IndicatorTarget | None:
    """The target stored for `year`, if any."""
    return session.exec(select(IndicatorTarget).where(IndicatorTarget.indicator_id == indicator.id,
                                                      IndicatorTarget.year == year)).first()


def target_to_public(session: Session, indicator: Indicator, target: IndicatorTarget) -> StoredTargetPublic:
    """A stored target with its indicator's and plan's codes."""
    plan = session.get(Plan, indicator.plan_id)
    return StoredTargetPublic(**target.model_dump(), indicator_code=indicator.code, plan_code=plan.code)


# --- plans --------------------------------------------------------------------------------------------------------


def plan_by_code(session: Session, code: str) -> Plan:
    """The plan with code `code`, or 404."""
    plan = session.exec(select(Plan).where(Plan.code == code)).first()
    if plan is None:
        raise NotFound(f"No plan with code {code!r}.")
    return plan


def plans_to_public(session: Session, plans: list[Plan]) -> list[PlanPublic]:
    """Plans with their phases, issuer's code and indicator codes."""
    ids = [p.id for p in plans]
    phases: dict[int, list[PlanPhase]] = {i: [] for i in ids}
    for phase in session.exec(select(PlanPhase).where(PlanPhase.plan_id.in_(ids)).order_by(PlanPhase.start_year)):
        phases[phase.plan_id].append(phase)
    indicators: dict[int, list[str]] = {i: [] for i in ids}
    stmt = select(Indicator.plan_id, Indicator.code).where(Indicator.plan_id.in_(ids))
    for plan_id, code in session.exec(stmt.order_by(Indicator.sort_order, Indicator.code)):
        indicators[plan_id].append(code)
    issuers = {p.issuer_unit_id for p in plans if p.issuer_unit_id}
    codes = dict(session.exec(select(Unit.id, Unit.code).where(Unit.id.in_(issuers))).all()) if issuers else {}
    return [
        PlanPublic(**p.model_dump(), issuer_unit_code=codes.get(p.issuer_unit_id),
                   phases=[PlanPhasePublic.model_validate(ph, from_attributes=True) for ph in phases[p.id]],
                   indicator_codes=indicators[p.id])
        for p in plans
    ]


def plan_snapshot(session: Session, plan: Plan) -> dict:
    """A plan's columns and phases, for the audit log."""
    phases = session.exec(select(PlanPhase).where(PlanPhase.plan_id == plan.id).order_by(PlanPhase.start_year))
    return {**audit.snapshot(plan),
            "phases": [ph.model_dump(mode="json", exclude={"id", "plan_id"}) for ph in phases]}


def _phase_errors(phases: list[PlanPhaseIn], start: int, end: int) -> list[dict]:
    errors = []
    ordered = sorted(enumerate(phases), key=lambda p: p[1].start_year)
    for i, phase in enumerate(phases):
        loc = ["body", "phases", i]
        if phase.end_year < phase.start_year:
            errors.append(field_error([*loc, "end_year"], "The phase ends before it starts."))
        elif phase.start_year < start or phase.end_year > end:
            errors.append(field_error([*loc, "start_year"], f"The phase lies outside the plan's years {start}–{end}."))
        if not phase.start_year <= phase.review_year <= phase.end_year + 1:
            errors.append(field_error([*loc, "review_year"],
                                      "The review falls in the phase or the year after it."))
    for (_, earlier), (j, later) in zip(ordered, ordered[1:], strict=False):
        if later.start_year <= earlier.end_year:
            errors.append(field_error(["body", "phases", j, "start_year"], "Phases overlap."))
    return errors


def _issuer_id(session: Session, code: str | None, errors: list[dict]) -> int | None:
    if not code:
        return None
    unit = session.exec(select(Unit).where(Unit.code == code)).first()
    if unit is None:
        errors.append(field_error(["body", "issuer_unit_code"], f"No unit with code {code!r}."))
        return None
    return unit.id


def _replace_phases(session: Session, plan: Plan, phases: list[PlanPhaseIn]) -> None:
    for old in session.exec(select(PlanPhase).where(PlanPhase.plan_id == plan.id)):
        session.delete(old)
    session.flush()
    for phase in phases:
        session.add(PlanPhase(plan_id=plan.id, **phase.model_dump()))
    session.flush()


def create_plan(session: Session, principal: Any, data: PlanCreate) -> Plan:
    """Create a plan with its phases; audited."""
    if session.exec(select(Plan).where(Plan.code == data.code)).first() is not None:
        msg = f"A plan with code {data.code!r} exists."
        raise Conflict(msg, errors=[field_error(["body", "code"], msg)])
    errors = []
    if data.end_year < data.start_year:
        errors.append(field_error(["body", "end_year"], "The plan ends before it starts."))
    else:
        errors += _phase_errors(data.phases, data.start_year, data.end_year)
    issuer_id = _issuer_id(session, data.issuer_unit_code, errors)
    if errors:
        raise Invalid("The plan is not valid.", errors=errors)
    plan = Plan(**data.model_dump(exclude={"phases", "issuer_unit_code"}), issuer_unit_id=issuer_id)
    session.add(plan)
    session.flush()
    _replace_phases(session, plan, data.phases)
    audit.record(session, principal, "create", plan, after=plan_snapshot(session, plan))
    return plan


def update_plan(session: Session, principal: Any, plan: Plan, data: PlanUpdate) -> Plan:
    """Change a plan; `phases`, when given, replaces them; its years must still hold its indicators' targets."""
    given = data.model_fields_set
    refuse_nulls(data, "title_vi", "issuer_vi", "start_year", "end_year", "phases", "title_en")
    errors: list[dict] = []
    start = data.start_year if "start_year" in given else plan.start_year
    end = data.end_year if "end_year" in given else plan.end_year
    if end < start:
        errors.append(field_error(["body", "end_year"], "The plan ends before it starts."))
    elif "phases" in given:
        errors += _phase_errors(data.phases, start, end)
    elif (start, end) != (plan.start_year, plan.end_year):
        current = session.exec(select(PlanPhase).where(PlanPhase.plan_id == plan.id)).all()
        if any(ph.start_year < start or ph.end_year > end for ph in current):
            errors.append(field_error(["body", "start_year"], "The plan's phases would lie outside its years; "
                                                              "send the phases too."))
    if not errors and (start, end) != (plan.start_year, plan.end_year):
        years = session.exec(select(IndicatorTarget.year).join(Indicator, Indicator.id == IndicatorTarget.indicator_id)
                             .where(Indicator.plan_id == plan.id)).all()
        outside = sorted({y for y in years if y < start or y > end})
        if outside:
            field = "start_year" if outside[0] < start else "end_year"
            errors.append(field_error(["body", field], "Targets are set for years outside the new period: "
                                                       + ", ".join(map(str, outside)) + "."))
    issuer_id = _issuer_id(session, data.issuer_unit_code, errors) if "issuer_unit_code" in given \
        else plan.issuer_unit_id
    if errors:
        raise Invalid("The change is not valid.", errors=errors)
    before = plan_snapshot(session, plan)
    for name in given - {"phases", "issuer_unit_code"}:
        setattr(plan, name, getattr(data, name))
    plan.issuer_unit_id = issuer_id
    if "phases" in given:
        _replace_phases(session, plan, data.phases)
    audit.save_update(session, principal, plan, before, after=lambda: plan_snapshot(session, plan))
    return plan


def delete_plan(session: Session, principal: Any, plan: Plan) -> None:
    """Delete a plan that has no indicators (and nothing else pointing at it); audited."""
    refs = referencing_rows(session, "plan", plan.id, skip=("plan_phase",))
    if refs:
        n = refs.get("indicator", 0)
        what = f"{n} indicators" if n else ", ".join(f"{v} {k}" for k, v in refs.items())
        raise Conflict(f"Plan {plan.code!r} has {what}: delete them first.", title="Plan has indicators")
    before = plan_snapshot(session, plan)
    _replace_phases(session, plan, [])
    session.delete(plan)
    session.flush()
    audit.record(session, principal, "delete", plan, before=before)


# --- indicators: writing ----------------------------------------------------------------------------------------


def known_methods() -> set[str]:
    """The computation methods the indicator engine knows."""
    from app.services.engine import METHODS, SURVEY_METHOD  # imported here: the engine imports this module

    return set(METHODS) | {SURVEY_METHOD}


def _indicator_errors(plan: Plan, measure: Measure, method: str, baseline_year: int | None,
                      baseline_value: float | None) -> list[dict]:
    from app.services.engine import SURVEY_METHOD

    errors = []
    methods = known_methods()
    if method not in methods:
        errors.append(field_error(["body", "method"], f"Unknown method {method!r}; one of: "
                                                      + ", ".join(sorted(methods)) + "."))
    elif (method == SURVEY_METHOD) != (measure == Measure.change):
        errors.append(field_error(["body", "measure"], f"Method {method!r} does not compute a {measure.value}."))
    if (baseline_year is None) != (baseline_value is None):
        field = "baseline_value" if baseline_value is None else "baseline_year"
        errors.append(field_error(["body", field], "Give both the baseline year and value, or neither."))
    elif baseline_year is not None and not plan.start_year <= baseline_year <= plan.end_year:
        msg = f"The baseline year lies outside the plan's years {plan.start_year}–{plan.end_year}."
        errors.append(field_error(["body", "baseline_year"], msg))
    return errors


def create_indicator(session: Session, principal: Any, data: IndicatorCreate) -> Indicator:
    """Create an indicator of a plan; audited."""
    plan = session.exec(select(Plan).where(Plan.code == data.plan)).first()
    if plan is None:
        raise Invalid(f"No plan with code {data.plan!r}.",
                      errors=[field_error(["body", "plan"], f"No plan with code {data.plan!r}.")])
    exists = session.exec(select(Indicator).where(Indicator.plan_id == plan.id, Indicator.code == data.code)).first()
    if exists is not None:
        msg = f"Plan {plan.code!r} already has an indicator {data.code!r}."
        raise Conflict(msg, errors=[field_error(["body", "code"], msg)])
    errors = _indicator_errors(plan, data.measure, data.method, data.baseline_year, data.baseline_value)
    if errors:
        raise Invalid("The indicator is not valid.", errors=errors)
    indicator = Indicator(**data.model_dump(exclude={"plan"}), plan_id=plan.id)
    session.add(indicator)
    session.flush()
    audit.record(session, principal, "create", indicator, after=audit.snapshot(indicator))
    return indicator


def update_indicator(session: Session, principal: Any, indicator: Indicator, data: IndicatorUpdate) -> Indicator:
    """Change an indicator's names, method or baseline; audited."""
    refuse_nulls(data, "name_vi", "name_en", "description_vi", "measure", "method", "unit_of_measure", "sort_order")
    given = data.model_fields_set
    new = {**indicator.model_dump(), **data.model_dump(include=given)}
    plan = session.get(Plan, indicator.plan_id)
    errors = _indicator_errors(plan, Measure(new["measure"]), new["method"], new["baseline_year"],
                               new["baseline_value"])
    if errors:
        raise Invalid("The change is not valid.", errors=errors)
    before = audit.snapshot(indicator)
    for name in given:
        setattr(indicator, name, getattr(data, name))
    audit.save_update(session, principal, indicator, before)
    return indicator


def delete_indicator(session: Session, principal: Any, indicator: Indicator) -> None:
    """Delete an indicator and its targets; audited (each target too)."""
    refs = referencing_rows(session, "indicator", indicator.id, skip=("indicator_target",))
    if refs:
        raise Conflict(f"Indicator {indicator.code!r} is referenced by "
                       + ", ".join(f"{v} {k}" for k, v in refs.items()) + ".")
    for target in stored_targets(session, [indicator.id])[indicator.id]:
        before = audit.snapshot(target)
        session.delete(target)
        session.flush()
        audit.record(session, principal, "delete", target, before=before)
    before = audit.snapshot(indicator)
    session.delete(indicator)
    session.flush()
    audit.record(session, principal, "delete", indicator, before=before)


def check_target_year(session: Session, indicator: Indicator, year: int) -> None:
    """Refuse a target year outside the indicator's plan (422 naming `year`)."""
    plan = session.get(Plan, indicator.plan_id)
    if not plan.start_year <= year <= plan.end_year:
        msg = f"The plan {plan.code!r} runs {plan.start_year}–{plan.end_year}; {year} is outside it."
        raise Invalid(msg, errors=[field_error(["path", "year"], msg)])


def put_target(session: Session, principal: Any, indicator: Indicator, year: int, data: TargetIn,
               target: IndicatorTarget | None) -> IndicatorTarget:
    """Store the year's target (create or replace); the indicator's version moves too. Audited."""
    check_target_year(session, indicator, year)
    errors = []
    if data.value_max is not None and data.value_max < data.value:
        errors.append(field_error(["body", "value_max"], "value_max is below value."))
    if indicator.measure != Measure.change:
        for name in ("value", "value_max"):
            v = getattr(data, name)
            if v is not None and not 0 <= v <= 100:
                errors.append(field_error(["body", name], "A share is between 0 and 100 (%)."))
    if errors:
        raise Invalid("The target is not valid.", errors=errors)
    before = audit.snapshot(target)
    if target is None:
        target = IndicatorTarget(indicator_id=indicator.id, year=year, **data.model_dump())
    else:
        for name, value in data.model_dump().items():
            setattr(target, name, value)
        bump(target)
    session.add(target)
    bump(indicator)
    session.add(indicator)
    session.flush()
    audit.record(session, principal, "update" if before else "create", target, before=before,
                 after=audit.snapshot(target))
    return target


def delete_target(session: Session, principal: Any, indicator: Indicator, target: IndicatorTarget) -> None:
    """Remove a stored target (the year falls back on the trajectory); audited."""
    before = audit.snapshot(target)
    session.delete(target)
    bump(indicator)
    session.add(indicator)
    session.flush()
    audit.record(session, principal, "delete", target, before=before)


