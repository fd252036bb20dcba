"""Who must report for a year, by when, and how completely and timely they did."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from app.api.errors import NotFound
from app.config import get_settings
from app.models import Activity, AnnualReport, Attachment, Campaign, CampaignKind, CampaignPlan, ReportKind, Unit
from app.services import calendar, campaigns
from app.services import units as unit_service


def due_on(year: int) -> date:
    """The local day on which a report of `year` is already late (default 10/12: "before 10/12")."""
    settings = get_settings()
    override = settings.report_due_overrides.get(year)
    if override is not None:
        return override
    return date(year, settings.report_due_month, settings.report_due_day)


def due_at(year: int) -> datetime:
    """The first late instant (UTC): local midnight starting the due day."""
    return calendar.local_midnight(due_on(year))


def is_on_time(submitted_at: datetime, year: int) -> bool:
    """Whether a submission at `submitted_at` is before the due moment of `year`."""
    return submitted_at < due_at(year)


def days_late(at: datetime, due: datetime) -> int | None:
    """Local calendar days from the due day to `at`, the due day itself being day 1; None when before `due`."""
    if at < due:
        return None
    return (calendar.local_today(at) - calendar.local_today(due)).days + 1


def active_in_year(year: int):
    """SQL condition: the unit counts for `year` (any day of it, or on 31/12, per the `active_in_year` setting)."""
    if get_settings().active_in_year == "end":
        return unit_service.active_on(date(year, 12, 31))
    return unit_service.active_between(date(year, 1, 1), date(year, 12, 31))


def unit_active_in_year(unit: Unit, year: int) -> bool:
    """Whether one unit counts for `year`, by the same rule as `active_in_year`."""
    first = date(year, 12, 31) if get_settings().active_in_year == "end" else date(year, 1, 1)
    last = date(year, 12, 31)
    return unit.valid_from <= last and (unit.valid_to is None or unit.valid_to >= first)


def obliged_units(session: Session, year: int, within: set[int] | None = None) -> list[Unit]:
    """The units that owe a report for `year`: active units of the reporting kinds, by kind then code."""
    stmt = select(Unit).where(Unit.kind.in_(get_settings().reporting_kinds), active_in_year(year))
    if within is not None:
        stmt = stmt.where(Unit.id.in_(list(within)))
    return list(session.exec(stmt.order_by(Unit.kind, Unit.code)))


@dataclass
class Obligation:
    """One obliged unit and where its report stands."""

    unit: Unit
    report: AnnualReport | None

    @property
    def submitted(self) -> bool:
        # A report counts once it has ever been submitted; drafts never count.
        return self.report is not None and self.report.first_submitted_at is not None


def obligations(session: Session, year: int, kind: ReportKind = ReportKind.annual,
                within: set[int] | None = None) -> list[Obligation]:
    """The obliged units of `year` with their report of `kind`, if any (two queries)."""
    units = obliged_units(session, year, within)
    reports = {
        r.unit_id: r
        for r in session.exec(
            select(AnnualReport).where(
                and_(AnnualReport.year == year, AnnualReport.kind == kind.value,
                     AnnualReport.unit_id.in_([u.id for u in units]))
            )
        )
    } if units else {}
    return [Obligation(unit=u, report=reports.get(u.id)) for u in units]


def share(numerator: int, denominator: int) -> dict:
    """A share as numerator, denominator and percentage (None when nothing is owed)."""
    value = round(100 * numerator / denominator, 1) if denominator else None
    return {"numerator": numerator, "denominator": denominator, "value": value}


def completeness(session: Session, year: int, kind: ReportKind = ReportKind.annual,
                 within: set[int] | None = None) -> dict:
    """Completeness (submitted / obliged) and timeliness (on time / obliged) of a year, with per-unit rows."""
    now = calendar.now().astimezone(UTC)
    deadline = due_at(year)
    rows, missing, late = [], [], []
    on_time_count = submitted_count = 0
    for ob in obligations(session, year, kind, within):
        unit, report = ob.unit, ob.report
        unit_ref = {"code": unit.code, "name": unit.name_vi, "kind": str(unit.kind)}
        row = {
            "unit_code": unit.code, "unit_name": unit.name_vi, "unit_kind": str(unit.kind),
            "status": str(report.status) if report else None,
            "submitted": ob.submitted,
            "first_submitted_at": report.first_submitted_at if report else None,
            "on_time": None, "days_late": None,
        }
        if ob.submitted:
            # The verdict stamped at the first submission, against the due date in force then.
            submitted_count += 1
            first = report.first_submitted_at
            row["on_time"] = bool(report.on_time)
            if row["on_time"]:
                on_time_count += 1
            else:
                row["days_late"] = days_late(first, report.due_at)
                late.append({**unit_ref, "status": row["status"], "first_submitted_at": first,
                             "days_late": row["days_late"]})
        else:
            # Past the deadline a missing report is already late: count the days so far.
            row["days_late"] = days_late(now, deadline)
            missing.append({**unit_ref, "status": row["status"], "days_late": row["days_late"]})
        rows.append(row)
    obliged = len(rows)
    return {
        "year": year,
        "kind": kind.value,
        "due_on": due_on(year),
        "due_at": deadline,
        "last_on_time_day": due_on(year) - timedelta(days=1),
        "as_of": now,
        "obliged": obliged,
        "submitted": submitted_count,
        "on_time": on_time_count,
        "late": submitted_count - on_time_count,
        "missing": obliged - submitted_count,
        "completeness": share(submitted_count, obliged),
        "timeliness": share(on_time_count, obliged),
        "units": rows,
        "missing_units": missing,
        "late_units": late,
    }


# --- the Action Month -------------------------------------------------------------------------------------------

def action_month(session: Session, year: int, principal=None) -> Campaign:
    """The year's Action Month campaign, created with the year's other campaigns when missing; 404 out of range."""
    campaigns.ensure_year(session, year)
    stmt = select(Campaign).where(Campaign.kind == CampaignKind.action_month.value, Campaign.year == year)
    campaign = session.exec(stmt.order_by(Campaign.id)).first()
    if campaign is None:
        raise NotFound(f"No Action Month is recorded for {year}.")
    return campaign


def action_month_board(session: Session, year: int, within: set[int] | None = None, principal=None) -> dict:
    """Each unit in scope with its Action Month plan, its activities in the campaign and participants by sex."""
    campaign = action_month(session, year, principal)
    stmt = select(Unit).where(Unit.kind.in_(get_settings().ind_unit_kinds), active_in_year(year))
    if within is not None:
        stmt = stmt.where(Unit.id.in_(list(within)))
    units = list(session.exec(stmt.order_by(Unit.kind, Unit.code)))
    ids = [u.id for u in units]

    plans = {p.unit_id: p for p in session.exec(
        select(CampaignPlan).where(CampaignPlan.campaign_id == campaign.id, CampaignPlan.unit_id.in_(ids)))}
    files: dict[int, list[dict]] = {}
    if plans:
        for a in session.exec(select(Attachment).where(
                Attachment.owner_type == "campaign_plan",
                Attachment.owner_id.in_([p.id for p in plans.values()])).order_by(Attachment.id)):
            files.setdefault(a.owner_id, []).append(
                {"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size})

    # An outlet's activities count for the unit that runs it.
    owner = {i: i for i in ids}
    for outlet_id, operator_id in session.exec(select(Unit.id, Unit.operator_id).where(Unit.operator_id.in_(ids))):
        owner[outlet_id] = operator_id
    in_campaign = or_(
        Activity.campaign_id == campaign.id,
        and_(Activity.held_on <= campaign.ends_on,
             func.coalesce(Activity.ends_on, Activity.held_on) >= campaign.starts_on),
    )
    counts: dict[int, list[int]] = {}
    for unit_id, n, male, female in session.exec(
        select(Activity.unit_id, func.count(Activity.id), func.coalesce(func.sum(Activity.participants_male), 0),
               func.coalesce(func.sum(Activity.participants_female), 0))
        .where(Activity.unit_id.in_(list(owner)), in_campaign).group_by(Activity.unit_id)
    ):
        acc = counts.setdefault(owner[unit_id], [0, 0, 0])
        acc[0] += int(n)
        acc[1] += int(male)
        acc[2] += int(female)

    rows, without = [], []
    for u in units:
        plan = plans.get(u.id)
        n, male, female = counts.get(u.id, [0, 0, 0])
        rows.append({
            "unit_code": u.code, "unit_name": u.name_vi, "unit_kind": u.kind.value,
            "plan": None if plan is None else {
                "id": plan.id, "document_number": plan.document_number, "document_date": plan.document_date,
                "title": plan.title, "files": files.get(plan.id, []),
            },
            "activities": n, "participants_male": male, "participants_female": female,
            "participants_total": male + female,
        })
        if plan is None:
            without.append({"code": u.code, "name": u.name_vi, "kind": u.kind.value})
    male = sum(r["participants_male"] for r in rows)
    female = sum(r["participants_female"] for r in rows)
    return {
        "year": year,
        "campaign": {"id": campaign.id, "code": campaign.code, "name_vi": campaign.name_vi,
                     "theme_vi": campaign.theme_vi, "starts_on": campaign.starts_on, "ends_on": campaign.ends_on},
        "units": rows,
        "totals": {
            "units": len(rows),
            "units_with_plan": len(rows) - len(without),
            "units_without_plan": len(without),
            "units_with_activities": sum(1 for r in rows if r["activities"]),
            "units_with_plan_and_activities": sum(1 for r in rows if r["plan"] and r["activities"]),
            "activities": sum(r["activities"] for r in rows),
            "participants_male": male, "participants_female": female, "participants_total": male + female,
        },
        "units_without_plan": without,
    }
