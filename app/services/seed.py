"""Loads the plan's reference data from app/seed/, idempotently: what exists is left as it is."""

import csv
import json
from datetime import date
from pathlib import Path

from sqlmodel import Session, select

from app.models import Campaign, CodeItem, Indicator, IndicatorTarget, Plan, PlanPhase, Unit
from app.services.calendar import campaign_rules, campaigns_for_year

SEED_DIR = Path(__file__).resolve().parent.parent / "seed"


def _csv_rows(name: str) -> list[dict[str, str]]:
    with (SEED_DIR / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def load_code_lists(session: Session) -> int:
    """Insert the code list entries that are missing; returns how many were added."""
    existing = {(c.list_name, c.code) for c in session.exec(select(CodeItem))}
    added = 0
    counters: dict[str, int] = {}
    for row in _csv_rows("codelists.csv"):
        counters[row["list_name"]] = counters.get(row["list_name"], 0) + 1
        if (row["list_name"], row["code"]) in existing:
            continue
        session.add(CodeItem(sort_order=counters[row["list_name"]], **row))
        added += 1
    session.flush()
    return added


def load_units(session: Session) -> int:
    """Insert the missing units of Bắc Kạn city (2022), then link parents and operators."""
    rows = _csv_rows("units.csv")
    by_code = {u.code: u for u in session.exec(select(Unit))}
    added = 0
    for row in rows:
        if row["code"] in by_code:
            continue
        unit = Unit(
            code=row["code"],
            official_code=row["official_code"] or None,
            name_vi=row["name_vi"],
            name_en=row["name_en"],
            kind=row["kind"],
            valid_from=date.fromisoformat(row["valid_from"]),
            valid_to=date.fromisoformat(row["valid_to"]) if row["valid_to"] else None,
        )
        session.add(unit)
        by_code[unit.code] = unit
        added += 1
    session.flush()
    for row in rows:
        unit = by_code[row["code"]]
        if row["parent_code"] and unit.parent_id is None:
            unit.parent_id = by_code[row["parent_code"]].id
        if row["operator_code"] and unit.operator_id is None:
            unit.operator_id = by_code[row["operator_code"]].id
    session.flush()
    return added


def load_plan(session: Session) -> int:
    """Insert the plan, its phases, its five indicators and their targets where missing."""
    data = json.loads((SEED_DIR / "plan.json").read_text(encoding="utf-8"))
    spec = dict(data["plan"])
    added = 0
    issuer_code = spec.pop("issuer_unit_code", None)
    plan = session.exec(select(Plan).where(Plan.code == spec["code"])).first()
    if plan is None:
        issuer = session.exec(select(Unit).where(Unit.code == issuer_code)).first() if issuer_code else None
        spec["issued_on"] = date.fromisoformat(spec["issued_on"]) if spec.get("issued_on") else None
        plan = Plan(**spec, issuer_unit_id=issuer.id if issuer else None)
        session.add(plan)
        session.flush()
        added += 1
    phases = {p.start_year for p in session.exec(select(PlanPhase).where(PlanPhase.plan_id == plan.id))}
    for phase in data["phases"]:
        if phase["start_year"] not in phases:
            session.add(PlanPhase(plan_id=plan.id, **phase))
            added += 1
    source = f"{plan.number or plan.code} ({plan.issuer_vi})"
    for spec in data["indicators"]:
        spec = dict(spec)
        target_specs = spec.pop("targets")
        indicator = session.exec(
            select(Indicator).where(Indicator.plan_id == plan.id, Indicator.code == spec["code"])
        ).first()
        if indicator is None:
            indicator = Indicator(plan_id=plan.id, **spec)
            session.add(indicator)
            session.flush()
            added += 1
        years = {
            t.year for t in session.exec(select(IndicatorTarget).where(IndicatorTarget.indicator_id == indicator.id))
        }
        for t in target_specs:
            for year in t["years"]:
                if year in years:
                    continue
                session.add(
                    IndicatorTarget(
                        indicator_id=indicator.id, year=year, value=t["value"], value_max=t.get("value_max"),
                        qualifier=t.get("qualifier"), note=t.get("note"), is_milestone=True,
                        source_document=source,
                    )
                )
                added += 1
    session.flush()
    return added


def load_campaigns(session: Session) -> int:
    """Insert the recurring campaigns of the plan's years that are missing."""
    first, last = campaign_rules()["years"]
    existing = set(session.exec(select(Campaign.code)))
    added = 0
    for year in range(first, last + 1):
        for row in campaigns_for_year(year):
            if row["code"] not in existing:
                session.add(Campaign(**row))
                added += 1
    session.flush()
    return added


def load_all(session: Session) -> dict[str, int]:
    """Load every reference data set; returns the rows added per set (all zero on a second run)."""
    return {
        "code_lists": load_code_lists(session),
        "units": load_units(session),
        "plan": load_plan(session),
        "campaigns": load_campaigns(session),
    }
