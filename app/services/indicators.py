"""Indicators of a plan and their targets."""

from sqlmodel import Session, select

from app.api.errors import NotFound
from app.models import Indicator, IndicatorTarget, Plan
from app.models.indicator import IndicatorDetail, IndicatorPublic, TargetPublic
from app.services.targets import targets_by_year


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
