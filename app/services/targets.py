"""Targets per year: the stored milestones and the straight trajectory between them, and the status rules."""

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import lru_cache

from app.models import Indicator, IndicatorTarget
from app.models.indicator import TargetPublic


def targets_by_year(
    indicator: Indicator, stored: list[IndicatorTarget], first_year: int, last_year: int
) -> dict[int, TargetPublic]:
    """Each year's target from `first_year` to `last_year`.

    A stored target wins. A year between two stored targets (or between the baseline and the first
    stored target) lies on the straight line joining them. Before the first stored target, with no
    baseline, a year has no target; after the last one, the last target holds.
    """
    points: list[tuple[int, float, float | None]] = []
    if indicator.baseline_year is not None and indicator.baseline_value is not None:
        points.append((indicator.baseline_year, indicator.baseline_value, indicator.baseline_value))
    by_year = {t.year: t for t in stored}
    points += [(t.year, t.value, t.value_max) for t in sorted(stored, key=lambda t: t.year)]
    points.sort(key=lambda p: p[0])

    result: dict[int, TargetPublic] = {}
    for year in range(first_year, last_year + 1):
        if year in by_year:
            t = by_year[year]
            result[year] = TargetPublic(
                year=year, value=t.value, value_max=t.value_max, qualifier=t.qualifier,
                interpolated=False, is_milestone=t.is_milestone, source_document=t.source_document,
            )
            continue
        before = [p for p in points if p[0] < year]
        after = [p for p in points if p[0] > year]
        if not before:
            continue
        y0, v0, m0 = before[-1]
        if not after:
            value, value_max = v0, m0
        else:
            y1, v1, m1 = after[0]
            share = (year - y0) / (y1 - y0)
            value = round(v0 + (v1 - v0) * share, 4)
            low_max = m0 if m0 is not None else v0
            value_max = None if m1 is None else round(low_max + (m1 - low_max) * share, 4)
        nearest = next((by_year[p[0]] for p in after if p[0] in by_year), None) or next(
            (by_year[p[0]] for p in reversed(before) if p[0] in by_year), None
        )
        result[year] = TargetPublic(
            year=year, value=value, value_max=value_max,
            qualifier=nearest.qualifier if nearest else None,
            interpolated=True, is_milestone=False, source_document=None,
        )
    return result


# Statuses of a value against its year's target (docs/pulling-indicator-data.md explains them).
ACHIEVED, ON_TRACK, AT_RISK, OFF_TRACK, NO_DATA, NO_TARGET = (
    "achieved", "on_track", "at_risk", "off_track", "no_data", "no_target")


@lru_cache(maxsize=4096)
def units_needed(target: float, denominator: int, rounding: str) -> int:
    """How many of `denominator` units a share target of `target` percent asks for (70% of 9 → 7 with "ceil")."""
    exact = Decimal(str(target)) * denominator / 100
    mode = {"ceil": ROUND_CEILING, "floor": ROUND_FLOOR, "round": ROUND_HALF_UP}[rounding]
    return int(exact.quantize(Decimal(1), rounding=mode))


def status_of(
    *, value: float | None, numerator: float | None, target: float | None, target_count: int | None,
    is_milestone: bool, final_target: float | None, final_count: int | None, margin: float,
) -> str:
    """The status of a value against its year's target and the plan's final target.

    `achieved`: the target of a milestone year is met, or the final target is; `on_track`: the year's
    (trajectory) target is met; `at_risk`: below it by at most `margin` points; `off_track`: further
    below; `no_data`: nothing to compare; `no_target`: the indicator has no target at all. A share of
    units with a count target (`target_count`) meets it when the numerator reaches the count.
    """
    if value is None:
        return NO_DATA
    if target is None:
        return NO_TARGET

    def meets(goal: float, count: int | None) -> bool:
        if count is not None and numerator is not None:
            return numerator >= count
        return value >= goal - 1e-9

    if (is_milestone and meets(target, target_count)) or (
        final_target is not None and meets(final_target, final_count)
    ):
        return ACHIEVED
    if meets(target, target_count):
        return ON_TRACK
    if value >= target - margin - 1e-9:
        return AT_RISK
    return OFF_TRACK
