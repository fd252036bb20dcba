"""Annual reports and period reviews: content rules, the frozen activity summary, and the workflow."""

from datetime import UTC, date, timedelta
from typing import Any

from sqlalchemy import and_, distinct, func
from sqlmodel import Session, select

from app.api.deps import Principal
from app.api.errors import Conflict, Forbidden, Invalid, NotFound, field_error
from app.config import get_settings
from app.models import (
    Activity,
    ActivityProduct,
    ActivityTargetGroup,
    AnnualReport,
    CodeItem,
    Plan,
    PlanPhase,
    ReportKind,
    ReportMediaStatus,
    ReportStatus,
    ReportTransition,
    Unit,
    UnitKind,
    User,
)
from app.models.report import MediaStatusPublic, ReportListItem, ReportPublic, ReportWrite, TransitionPublic
from app.services import audit, calendar, obligations, webhooks
from app.services import units as unit_service

CONVENTION_KINDS = (UnitKind.ward, UnitKind.commune)
EDITABLE = (ReportStatus.draft, ReportStatus.returned)
UNDER_REVIEW = (ReportStatus.submitted, ReportStatus.resubmitted)

# action -> {from status: to status}
TRANSITIONS: dict[str, dict[ReportStatus, ReportStatus]] = {
    "submit": {ReportStatus.draft: ReportStatus.submitted, ReportStatus.returned: ReportStatus.resubmitted},
    "accept": {s: ReportStatus.accepted for s in UNDER_REVIEW},
    "return": {s: ReportStatus.returned for s in UNDER_REVIEW},
    "reopen": {ReportStatus.accepted: ReportStatus.returned},
}
STAFF_ACTIONS = ("accept", "return", "reopen")
EVENTS = {"submit": "report.submitted", "accept": "report.accepted", "return": "report.returned"}
_DONE = {"edit": "edited", "submit": "submitted", "accept": "accepted", "return": "returned", "reopen": "reopened"}


# --- periods, look-ups -----------------------------------------------------------------------------------------

def default_period(session: Session, year: int, kind: ReportKind) -> tuple[date, date]:
    """The period a report covers: the calendar year, or for a review the phase (mid-term) or plan (final)."""
    if kind == ReportKind.annual:
        return date(year, 1, 1), date(year, 12, 31)
    rows = session.exec(
        select(PlanPhase, Plan).join(Plan, Plan.id == PlanPhase.plan_id)
        .where(PlanPhase.review_year == year).order_by(Plan.id, PlanPhase.start_year)
    ).all()
    for phase, plan in rows:
        if kind == ReportKind.midterm and phase.end_year < plan.end_year:
            return date(phase.start_year, 1, 1), date(phase.end_year, 12, 31)
        if kind == ReportKind.final and phase.end_year == plan.end_year:
            return date(plan.start_year, 1, 1), date(plan.end_year, 12, 31)
    label = "mid-term" if kind == ReportKind.midterm else "final"
    raise Invalid(f"No plan has a {label} review in {year}.", errors=[field_error(
        ["query", "kind"], f"The {label} review is held only in the review year of a plan's phase.")])


def get(session: Session, unit: Unit, year: int, kind: ReportKind, *, for_update: bool = False) -> AnnualReport | None:
    """The unit's report of `kind` for `year`, if any (locked for the transaction when about to change it)."""
    stmt = select(AnnualReport).where(
        AnnualReport.unit_id == unit.id, AnnualReport.year == year, AnnualReport.kind == kind.value)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.exec(stmt).first()


def get_or_404(session: Session, unit: Unit, year: int, kind: ReportKind, *, for_update: bool = False
               ) -> AnnualReport:
    """The report, or 404."""
    report = get(session, unit, year, kind, for_update=for_update)
    if report is None:
        raise NotFound(f"{unit.code} has no {kind.value} report for {year}.")
    return report


def outlets_run_by(session: Session, unit: Unit, year: int) -> list[Unit]:
    """The media outlets that `unit` runs and that exist in `year`, by code."""
    return list(session.exec(
        select(Unit).where(Unit.operator_id == unit.id, Unit.kind == UnitKind.media.value,
                           unit_service.active_between(date(year, 1, 1), date(year, 12, 31)))
        .order_by(Unit.code)
    ))


def media_statuses(session: Session, report: AnnualReport) -> list[MediaStatusPublic]:
    """The outlets' statuses reported, by outlet code."""
    rows = session.exec(
        select(ReportMediaStatus, Unit).join(Unit, Unit.id == ReportMediaStatus.outlet_id)
        .where(ReportMediaStatus.report_id == report.id).order_by(Unit.code)
    ).all()
    return [MediaStatusPublic(outlet=u.code, outlet_name=u.name_vi, status=m.status) for m, u in rows]


def snapshot(session: Session, report: AnnualReport) -> dict[str, Any]:
    """The report for the audit log, with its media statuses."""
    data = audit.snapshot(report) or {}
    data["media_statuses"] = {m.outlet: m.status.value for m in media_statuses(session, report)}
    return data


# --- content ---------------------------------------------------------------------------------------------------

def _check_unit_may_report(unit: Unit, year: int) -> None:
    if unit.kind.value not in get_settings().reporting_kinds:
        raise Invalid(f"Units of kind {unit.kind.value} do not file reports.", errors=[field_error(
            ["path", "unit"], f"{unit.code} is a {unit.kind.value}; reports come from "
            + ", ".join(get_settings().reporting_kinds) + ".")])
    if unit.valid_to is not None and year > unit.valid_to.year:
        raise Invalid(f"{unit.code} closed on {unit.valid_to.isoformat()}; it has no report for {year}.",
                      errors=[field_error(["path", "year"], f"The unit closed in {unit.valid_to.year}.")])
    if year < unit.valid_from.year:
        raise Invalid(f"{unit.code} exists from {unit.valid_from.isoformat()}; it has no report for {year}.",
                      errors=[field_error(["path", "year"], f"The unit exists from {unit.valid_from.year}.")])


def _content_errors(session: Session, unit: Unit, year: int, kind: ReportKind, data: ReportWrite,
                    period: tuple[date, date, date]) -> tuple[list[dict], dict[int, Any]]:
    """Field errors of the content, and the outlets' statuses by outlet id when valid."""
    errors: list[dict] = []
    start, end, cutoff = period
    if end.year != year:
        errors.append(field_error(["body", "period_end"], f"The period must end in {year}."))
    if start > end:
        errors.append(field_error(["body", "period_start"], "The period must start before it ends."))
    elif kind == ReportKind.annual and start < date(year - 1, 1, 1):
        errors.append(field_error(["body", "period_start"], "An annual report covers a year at most."))
    if not start <= cutoff <= end:
        errors.append(field_error(["body", "cutoff_on"], "The cut-off date must lie within the period."))

    groups = set(session.exec(select(CodeItem.code).where(CodeItem.list_name == "task_group",
                                                          CodeItem.active.is_(True))))
    for key in data.results_by_task_group:
        if key not in groups:
            errors.append(field_error(["body", "results_by_task_group", key],
                                      f"Unknown task group {key!r}; use " + ", ".join(sorted(groups)) + "."))

    adopted, clean = data.conventions_adopted, data.conventions_without_discrimination
    if unit.kind not in CONVENTION_KINDS:
        for name, value in (("conventions_adopted", adopted), ("conventions_without_discrimination", clean)):
            if value is not None:
                errors.append(field_error(["body", name], "Only wards and communes report community conventions."))
    elif (adopted is None) != (clean is None):
        missing = "conventions_adopted" if adopted is None else "conventions_without_discrimination"
        errors.append(field_error(["body", missing], "Give both convention figures, or neither."))
    elif adopted is not None and clean > adopted:
        errors.append(field_error(["body", "conventions_without_discrimination"],
                                  "Cannot exceed the conventions adopted."))

    outlets = {o.code: o for o in outlets_run_by(session, unit, year)}
    statuses: dict[int, Any] = {}
    seen: set[str] = set()
    for i, item in enumerate(data.media_statuses):
        loc = ["body", "media_statuses", i, "outlet"]
        if item.outlet in seen:
            errors.append(field_error(loc, f"Outlet {item.outlet} is given twice."))
        elif item.outlet not in outlets:
            errors.append(field_error(loc, f"{item.outlet} is not a media outlet run by {unit.code} in {year}."))
        else:
            statuses[outlets[item.outlet].id] = item.status
        seen.add(item.outlet)
    return errors, statuses


def missing_for_submission(session: Session, report: AnnualReport, unit: Unit) -> list[dict]:
    """The figures a submission still needs (as field errors): conventions of wards/communes, outlets' statuses."""
    if report.kind != ReportKind.annual:
        return []
    errors = []
    if unit.kind in CONVENTION_KINDS:
        for name in ("conventions_adopted", "conventions_without_discrimination"):
            if getattr(report, name) is None:
                errors.append(field_error(["body", name], "Required for wards and communes.", "missing"))
    given = {m.outlet for m in media_statuses(session, report)}
    for outlet in outlets_run_by(session, unit, report.year):
        if outlet.code not in given:
            errors.append(field_error(["body", "media_statuses", outlet.code],
                                      f"Give the Gender Indicators for Media status of {outlet.code}.", "missing"))
    return errors


def save(session: Session, principal: Principal, unit: Unit, year: int, kind: ReportKind, data: ReportWrite,
         report: AnnualReport | None) -> AnnualReport:
    """Create the draft or replace the content of an editable report (audited)."""
    principal.require_write_unit(unit.id)
    if report is not None and report.status not in EDITABLE:
        raise illegal(report, "edit")
    _check_unit_may_report(unit, year)
    first, last = default_period(session, year, kind)
    start = data.period_start or first
    end = data.period_end or last
    default_cutoff = min(obligations.due_on(year) - timedelta(days=1), end)
    cutoff = data.cutoff_on or default_cutoff
    errors, statuses = _content_errors(session, unit, year, kind, data, (start, end, cutoff))
    if errors:
        raise Invalid("The report has invalid fields.", errors=errors)

    before = snapshot(session, report) if report is not None else None
    values = data.model_dump(exclude={"media_statuses", "period_start", "period_end", "cutoff_on"})
    values.update(period_start=start, period_end=end, cutoff_on=cutoff)
    if report is None:
        report = AnnualReport(unit_id=unit.id, year=year, kind=kind, due_at=obligations.due_at(year),
                              created_by_id=principal.user_id, **values)
        session.add(report)
        session.flush()
    else:
        for name, value in values.items():
            setattr(report, name, value)
        if report.first_submitted_at is None:
            report.due_at = obligations.due_at(year)
        report.version += 1
        report.updated_at = calendar.now().astimezone(UTC)
    existing = {m.outlet_id: m for m in session.exec(
        select(ReportMediaStatus).where(ReportMediaStatus.report_id == report.id))}
    for outlet_id, row in existing.items():
        if outlet_id not in statuses:
            session.delete(row)
    for outlet_id, status in statuses.items():
        if outlet_id in existing:
            existing[outlet_id].status = status
        else:
            session.add(ReportMediaStatus(report_id=report.id, outlet_id=outlet_id, status=status))
    session.flush()
    audit.record(session, principal, "create" if before is None else "update", report,
                 before=before, after=snapshot(session, report))
    return report


# --- activity summary --------------------------------------------------------------------------------------------

def _activity_unit_ids(session: Session, unit: Unit) -> list[int]:
    """The unit and the media outlets it runs (an outlet's activities are reported by its operator)."""
    outlets = session.exec(select(Unit.id).where(Unit.operator_id == unit.id)).all()
    return [unit.id, *outlets]


def activity_summary(session: Session, unit: Unit, first: date, last: date) -> dict[str, Any]:
    """The unit's activities held in [first, last], aggregated in SQL: counts, participants, products, cost."""
    ids = _activity_unit_ids(session, unit)
    scope = and_(Activity.unit_id.in_(ids), Activity.held_on >= first, Activity.held_on <= last)
    male, female = Activity.participants_male, Activity.participants_female

    n, m, f, broadcasts, cost = session.exec(
        select(func.count(Activity.id), func.coalesce(func.sum(male), 0), func.coalesce(func.sum(female), 0),
               func.coalesce(func.sum(Activity.broadcasts), 0), func.coalesce(func.sum(Activity.cost_vnd), 0))
        .where(scope)
    ).one()

    def people(count, sm, sf) -> dict[str, int]:
        return {"activities": int(count), "male": int(sm or 0), "female": int(sf or 0),
                "total": int(sm or 0) + int(sf or 0)}

    by_kind = {k: int(c) for k, c in session.exec(
        select(Activity.kind, func.count(Activity.id)).where(scope).group_by(Activity.kind).order_by(Activity.kind))}
    by_channel = {k: int(c) for k, c in session.exec(
        select(Activity.channel, func.count(Activity.id)).where(scope)
        .group_by(Activity.channel).order_by(Activity.channel))}
    by_task_group = {k: people(c, sm, sf) for k, c, sm, sf in session.exec(
        select(Activity.task_group, func.count(Activity.id), func.sum(male), func.sum(female)).where(scope)
        .group_by(Activity.task_group).order_by(Activity.task_group))}
    tg = ActivityTargetGroup
    by_target_group = {k: people(c, sm, sf) for k, c, sm, sf in session.exec(
        select(tg.code, func.count(distinct(tg.activity_id)), func.sum(tg.participants_male),
               func.sum(tg.participants_female))
        .join(Activity, Activity.id == tg.activity_id).where(scope).group_by(tg.code).order_by(tg.code))}
    products = {k: int(q) for k, q in session.exec(
        select(ActivityProduct.code, func.sum(ActivityProduct.quantity))
        .join(Activity, Activity.id == ActivityProduct.activity_id).where(scope)
        .group_by(ActivityProduct.code).order_by(ActivityProduct.code))}
    source = func.coalesce(Activity.funding_source, "unspecified")
    cost_by_source = {k: int(v) for k, v in session.exec(
        select(source, func.sum(Activity.cost_vnd)).where(scope).group_by(source).order_by(source))}

    codes = session.exec(select(Unit.code).where(Unit.id.in_(ids)).order_by(Unit.code)).all()
    return {
        "from": first.isoformat(), "to": last.isoformat(),
        "computed_at": calendar.now().astimezone(UTC).isoformat(),
        "units": list(codes),
        "activities": int(n),
        "participants": {"male": int(m), "female": int(f), "total": int(m) + int(f)},
        "broadcasts": int(broadcasts),
        "cost_vnd": int(cost),
        "by_kind": by_kind,
        "by_channel": by_channel,
        "by_task_group": by_task_group,
        "by_target_group": by_target_group,
        "products": products,
        "cost_by_funding_source": cost_by_source,
    }


# --- workflow ------------------------------------------------------------------------------------------------------

def allowed_actions(status: ReportStatus) -> list[str]:
    """The actions legal from `status`, whoever takes them ("edit" is a PUT)."""
    actions = ["edit"] if status in EDITABLE else []
    return actions + [a for a, moves in TRANSITIONS.items() if status in moves]


def caller_actions(principal: Principal, report: AnnualReport) -> list[str]:
    """The actions this caller may take on the report now."""
    return [a for a in allowed_actions(report.status) if may(principal, report, a)]


def may(principal: Principal, report: AnnualReport, action: str) -> bool:
    """Whether the caller's role allows `action` on the report (whatever its status)."""
    if action in STAFF_ACTIONS:
        return principal.is_staff() and principal.can_write() and principal.write_unit_id is None
    return principal.can_write_unit(report.unit_id)


def illegal(report: AnnualReport, action: str) -> Conflict:
    """The 409 problem for an action the report's status does not allow."""
    allowed = allowed_actions(report.status)
    return Conflict(
        f"The report is {report.status.value}; it cannot be {_DONE[action]}. "
        f"Allowed now: {', '.join(allowed) or 'nothing'}.",
        title="Action not allowed in this status", current_status=report.status.value, allowed_actions=allowed)


def authorize(principal: Principal, report: AnnualReport, action: str) -> None:
    """403 unless the caller's role may take `action` on this report."""
    if not may(principal, report, action):
        if action in STAFF_ACTIONS:
            raise Forbidden(f"Only coordinators and administrators may {action} a report.")
        raise Forbidden("Only the unit's officers and the coordinators may change this report.")


def report_path(report: AnnualReport, unit: Unit) -> str:
    """The report's path in the API."""
    path = f"/api/v1/reports/{report.year}/units/{unit.code}"
    return path if report.kind == ReportKind.annual else f"{path}?kind={report.kind.value}"


def transition(session: Session, principal: Principal, report: AnnualReport, unit: Unit, action: str,
               comment: str | None = None) -> AnnualReport:
    """Take a workflow action: check role and status, stamp, record the step, audit, and queue the event."""
    authorize(principal, report, action)
    moves = TRANSITIONS[action]
    if report.status not in moves:
        raise illegal(report, action)
    now = calendar.now().astimezone(UTC)
    before = snapshot(session, report)
    from_status, to_status = report.status, moves[report.status]

    if action == "submit":
        missing = missing_for_submission(session, report, unit)
        if missing:
            raise Invalid("The report lacks figures required for submission.", errors=missing,
                          title="Report incomplete")
        report.submitted_at = now
        if report.first_submitted_at is None:
            # Timeliness is decided once, by the first submission against the due date in force.
            report.due_at = obligations.due_at(report.year)
            report.first_submitted_at = now
            report.on_time = now < report.due_at
        report.activity_summary = activity_summary(session, unit, report.period_start, report.cutoff_on)
    elif action == "accept":
        report.accepted_at = now
    elif action == "return":
        report.return_comment = comment
        report.reopen_reason = None
    elif action == "reopen":
        report.reopen_reason = comment
        report.return_comment = None
        report.accepted_at = None

    report.status = to_status
    report.version += 1
    report.updated_at = now
    session.add(ReportTransition(report_id=report.id, action=action, from_status=from_status.value,
                                 to_status=to_status.value, comment=comment, at=now, by_user_id=principal.user_id))
    session.flush()
    audit.record(session, principal, action, report, before=before, after=snapshot(session, report))
    if action in EVENTS:
        webhooks.enqueue(session, EVENTS[action], {
            "event": EVENTS[action], "year": report.year, "unit": unit.code, "kind": report.kind.value,
            "status": report.status.value, "report": report_path(report, unit), "at": now.isoformat(),
        })
    return report


def history(session: Session, report: AnnualReport) -> list[TransitionPublic]:
    """The report's workflow steps, oldest first."""
    rows = session.exec(
        select(ReportTransition, User.username).join(User, User.id == ReportTransition.by_user_id, isouter=True)
        .where(ReportTransition.report_id == report.id).order_by(ReportTransition.at, ReportTransition.id)
    ).all()
    return [TransitionPublic(action=t.action, from_status=t.from_status, to_status=t.to_status, comment=t.comment,
                             at=t.at, by=username) for t, username in rows]


# --- output ----------------------------------------------------------------------------------------------------------

def to_public(session: Session, principal: Principal, report: AnnualReport, unit: Unit) -> ReportPublic:
    """The report as the API shows it, with what is still missing and what the caller may do."""
    return ReportPublic(
        **report.model_dump(exclude={"unit_id", "created_by_id"}),
        unit_code=unit.code, unit_name=unit.name_vi, unit_kind=unit.kind.value,
        media_statuses=media_statuses(session, report),
        missing_for_submission=missing_for_submission(session, report, unit) if report.status in EDITABLE else [],
        actions=caller_actions(principal, report),
    )


def list_statement(year: int | None, statuses: list[ReportStatus] | None, kind: ReportKind | None,
                   within: set[int] | None):
    """The reports matching the filters, joined to their unit, newest year first then by unit code."""
    stmt = select(AnnualReport, Unit).join(Unit, Unit.id == AnnualReport.unit_id)
    if year is not None:
        stmt = stmt.where(AnnualReport.year == year)
    if statuses:
        stmt = stmt.where(AnnualReport.status.in_([s.value for s in statuses]))
    if kind is not None:
        stmt = stmt.where(AnnualReport.kind == kind.value)
    if within is not None:
        stmt = stmt.where(AnnualReport.unit_id.in_(list(within)))
    return stmt.order_by(AnnualReport.year.desc(), AnnualReport.kind, Unit.code)


def to_list_item(report: AnnualReport, unit: Unit) -> ReportListItem:
    """A row of the report list."""
    return ReportListItem(
        id=report.id, year=report.year, kind=report.kind, unit_code=unit.code, unit_name=unit.name_vi,
        unit_kind=unit.kind.value, status=report.status, first_submitted_at=report.first_submitted_at,
        submitted_at=report.submitted_at, on_time=report.on_time, accepted_at=report.accepted_at,
        updated_at=report.updated_at, version=report.version)
