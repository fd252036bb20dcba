"""Operational statistics of the activities: counts, participants by sex, broadcasts, products and cost.

Grouped by year and any of unit, kind, task group, channel, campaign, funding source, target group or product,
with SQL aggregates (GROUP BY); the scope's units are applied to the per-unit aggregates.
"""

from collections import defaultdict
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from app.models import Activity, ActivityProduct, ActivityTargetGroup, Campaign
from app.services.engine import in_years, resolve_scope

DIMENSIONS = ("year", "unit", "kind", "task_group", "channel", "campaign", "funding_source", "target_group",
              "product")
MEASURES = ("activities", "participants_male", "participants_female", "participants_total", "women_share",
            "broadcasts", "cost_vnd", "products")


def compute(
    session: Session, *, years: list[int], by: list[str], unit_code: str | None = None,
    kinds: list[str] | None = None, boundaries: str = "as_reported",
) -> list[dict[str, Any]]:
    """Statistics rows: one per year and combination of the `by` dimensions, with the measures of MEASURES.

    `by=target_group` counts the participants recorded for each target group; `by=product` adds up each
    product's quantity (other rows: all products). An activity belongs to the year of its first day.
    """
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimension {unknown[0]!r}")
    if "target_group" in by and "product" in by:
        raise ValueError("target_group and product cannot be combined")
    dims = ["year"] + [d for d in dict.fromkeys(by) if d != "year"]
    scope = resolve_scope(session, unit_code=unit_code, kinds=kinds, boundaries=boundaries)
    if not years:
        return []

    columns = {"unit": Activity.unit_id, "kind": Activity.kind, "task_group": Activity.task_group,
               "channel": Activity.channel, "campaign": Campaign.code, "funding_source": Activity.funding_source,
               "target_group": ActivityTargetGroup.code, "product": ActivityProduct.code}
    plain = [d for d in dims if d not in ("year", "unit")]
    keys = [columns[d] for d in plain] + [Activity.unit_id]

    # One query per year: a plain range of the held_on index, no date function per row.
    def grouped(year: int, *measures, with_products: bool = False):
        stmt = select(*keys, *measures).select_from(Activity).where(in_years(Activity.held_on, [year]))
        if "campaign" in dims:
            stmt = stmt.outerjoin(Campaign, Campaign.id == Activity.campaign_id)
        if "target_group" in dims:
            stmt = stmt.join(ActivityTargetGroup, ActivityTargetGroup.activity_id == Activity.id)
        if "product" in dims or with_products:
            stmt = stmt.join(ActivityProduct, ActivityProduct.activity_id == Activity.id)
        if len(scope.members) <= 900:
            stmt = stmt.where(Activity.unit_id.in_(sorted(scope.members)))
        return stmt.group_by(*keys)

    if "target_group" in dims:
        male = func.sum(func.coalesce(ActivityTargetGroup.participants_male, 0))
        female = func.sum(func.coalesce(ActivityTargetGroup.participants_female, 0))
    else:
        male, female = func.sum(Activity.participants_male), func.sum(Activity.participants_female)

    # Per-unit aggregates are folded into the requested dimensions (and, with current boundaries, successors).
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0] * 6)
    width = len(keys) - 1
    for year in sorted(set(years)):
        # Each row of the joins is one activity (for one target group or product): count(*) counts activities.
        main = grouped(year, func.count(), male, female, func.sum(Activity.broadcasts), func.sum(Activity.cost_vnd))
        products = grouped(year, func.sum(ActivityProduct.quantity), with_products=True)
        for stmt, offset in ((main, 0), (products, 5)):
            for row in session.exec(stmt):
                unit_id = row[width]
                if unit_id not in scope.members:
                    continue
                values = dict(zip(plain, row[:width], strict=True))
                values["year"] = year
                if "unit" in dims:
                    values["unit"] = scope.code(scope.home[unit_id])
                acc = totals[tuple(values[d] for d in dims)]
                for i, v in enumerate(row[width + 1:]):
                    acc[offset + i] += int(v or 0)

    def order(key: tuple) -> tuple:
        return tuple((v is None, str(v) if v is not None else "") for v in key)

    rows = []
    for key in sorted(totals, key=order):
        activities, male, female, broadcasts, cost, products = totals[key]
        total = male + female
        rows.append({
            **dict(zip(dims, key, strict=True)),
            "activities": activities, "participants_male": male, "participants_female": female,
            "participants_total": total, "women_share": round(100 * female / total, 2) if total else None,
            "broadcasts": broadcasts, "cost_vnd": cost, "products": products,
        })
    return rows
