"""E-mail reminders: annual reports not yet submitted, and Action Month plans not yet recorded.

`python -m app.cli remind` runs once a day (cron). Each reminder is due on its day (N days before or after the
deadline, from the settings); a run that missed that day still sends it up to `reminder_catch_up_days` later, as
long as no later reminder of the same series is due. Every reminder sent is logged with a unique key
(kind, year, unit, offset), so a second run — or two runs at once — sends nothing twice.
"""

import smtplib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.config import Settings, get_settings
from app.models import AnnualReport, Campaign, CampaignKind, CampaignPlan, ReminderLog, ReportKind, Role, Unit, User
from app.models.base import utcnow
from app.services import calendar
from app.services.obligations import active_in_year, due_on

REPORT = "annual_report"
PLAN = "action_month_plan"
TAG = "[BĐG 2030]"


def vn(day: date) -> str:
    """A date as Vietnamese write it: 10/12/2026."""
    return day.strftime("%d/%m/%Y")


def units_without_report(session: Session, year: int) -> list[Unit]:
    """Obliged units (active, of the reporting kinds) with no annual report of `year` ever submitted."""
    submitted = select(AnnualReport.unit_id).where(
        AnnualReport.year == year, AnnualReport.kind == ReportKind.annual,
        AnnualReport.first_submitted_at.is_not(None))
    stmt = select(Unit).where(Unit.kind.in_(get_settings().reporting_kinds), active_in_year(year),
                              Unit.id.not_in(submitted))
    return list(session.exec(stmt.order_by(Unit.kind, Unit.code)))


def action_month(session: Session, year: int) -> Campaign | None:
    """The Action Month campaign of `year`, if recorded."""
    return session.exec(select(Campaign).where(Campaign.kind == CampaignKind.action_month,
                                               Campaign.year == year)).first()


def action_month_start(session: Session, year: int) -> date:
    """The first day of the year's Action Month (the recorded campaign, else the calendar's 15/11)."""
    campaign = action_month(session, year)
    if campaign is not None:
        return campaign.starts_on
    rule = next(r for r in calendar.campaigns_for_year(year) if r["kind"] == CampaignKind.action_month)
    return rule["starts_on"]


def units_without_plan(session: Session, year: int) -> list[Unit]:
    """Units in scope of the Action Month (setting `ind_unit_kinds`, active) without a plan for it."""
    stmt = select(Unit).where(Unit.kind.in_(get_settings().ind_unit_kinds), active_in_year(year))
    campaign = action_month(session, year)
    if campaign is not None:
        stmt = stmt.where(Unit.id.not_in(select(CampaignPlan.unit_id).where(
            CampaignPlan.campaign_id == campaign.id)))
    return list(session.exec(stmt.order_by(Unit.kind, Unit.code)))


def recipients(session: Session, unit_ids: Iterable[int]) -> dict[int, list[str]]:
    """E-mail addresses of the active officers of each unit."""
    result: dict[int, list[str]] = {}
    rows = session.exec(select(User).where(User.unit_id.in_(list(unit_ids)), User.role == Role.officer,
                                           User.is_active.is_(True), User.email.is_not(None)).order_by(User.id))
    for user in rows:
        email = (user.email or "").strip()
        if email and email not in result.setdefault(user.unit_id, []):
            result[user.unit_id].append(email)
    return result


def current_offset(deadline: date, before: list[int], after: list[int], today: date, catch_up: int) -> int | None:
    """The reminder of a series due `today`: its offset in days from the deadline (negative: before), or None."""
    series = sorted({-abs(n) for n in before if n} | {abs(n) for n in after if n})
    reached = [n for n in series if deadline + timedelta(days=n) <= today]
    if not reached:
        return None
    offset = reached[-1]
    if (today - (deadline + timedelta(days=offset))).days > catch_up:
        return None
    # A "before" reminder makes no sense once the deadline has passed.
    if offset < 0 and today >= deadline:
        return None
    return offset


@dataclass
class Reminder:
    """One e-mail to the officers of one unit."""

    kind: str
    year: int
    offset: int
    deadline: date
    unit: Unit
    to: list[str]
    subject: str
    body: str

    @property
    def key(self) -> str:
        """The de-duplication key: kind, year, unit and offset."""
        return f"{self.kind}:{self.year}:{self.unit.id}:{self.offset:+d}"


def _footer(settings: Settings) -> str:
    lines = []
    if settings.reminder_site_url:
        lines.append(f"Truy cập hệ thống: {settings.reminder_site_url}")
    lines += ["", "Thư này do hệ thống BĐG 2030 gửi tự động, vui lòng không trả lời thư này."]
    return "\n".join(lines)


def report_message(unit: Unit, year: int, deadline: date, today: date, settings: Settings) -> tuple[str, str]:
    """Subject and text of a reminder about the annual report of `year`."""
    last_day = deadline - timedelta(days=1)
    if today < deadline:
        left = (deadline - today).days
        subject = f"{TAG} Nhắc nộp báo cáo năm {year} (hạn trước {vn(deadline)})"
        when = ("Hôm nay là ngày cuối cùng của thời hạn." if left == 1
                else f"Thời hạn còn {left} ngày, đến hết ngày {vn(last_day)}.")
        lead = (f"Đến ngày {vn(today)}, {unit.name_vi} chưa nộp báo cáo kết quả thực hiện Chương trình "
                f"Truyền thông về bình đẳng giới năm {year}.\n\n"
                f"Hạn nộp báo cáo: trước ngày {vn(deadline)}. {when}\n\n"
                "Đề nghị đơn vị hoàn thiện và nộp báo cáo trên hệ thống đúng thời hạn.")
    else:
        late = (today - deadline).days + 1
        subject = f"{TAG} Báo cáo năm {year} đã quá hạn (hạn trước {vn(deadline)})"
        lead = (f"Hạn nộp báo cáo kết quả thực hiện Chương trình Truyền thông về bình đẳng giới năm {year} "
                f"là trước ngày {vn(deadline)}. Đến ngày {vn(today)} (quá hạn {late} ngày), hệ thống chưa nhận "
                f"được báo cáo của {unit.name_vi}.\n\n"
                "Đề nghị đơn vị khẩn trương hoàn thiện và nộp báo cáo trên hệ thống.")
    body = (f"Kính gửi: {unit.name_vi}\n\n{lead}\n\n"
            "Nếu đơn vị đã nộp báo cáo, xin bỏ qua thư này.\n" + _footer(settings))
    return subject, body


def plan_message(unit: Unit, year: int, start: date, campaign: Campaign | None, today: date,
                 settings: Settings) -> tuple[str, str]:
    """Subject and text of a reminder about the unit's plan for the Action Month of `year`."""
    left = (start - today).days
    name = (campaign.name_vi if campaign is not None else
            f"Tháng hành động vì bình đẳng giới và phòng ngừa, ứng phó với bạo lực trên cơ sở giới năm {year}")
    window = f" ({vn(campaign.starts_on)} – {vn(campaign.ends_on)})" if campaign is not None else ""
    subject = (f"{TAG} Nhắc xây dựng kế hoạch hưởng ứng Tháng hành động vì bình đẳng giới năm {year} "
               f"(trước {vn(start)})")
    body = (f"Kính gửi: {unit.name_vi}\n\n"
            f"Đến ngày {vn(today)}, hệ thống chưa có kế hoạch hưởng ứng {name}{window} của đơn vị.\n\n"
            f"Tháng hành động bắt đầu từ ngày {vn(start)} (còn {left} ngày). Đề nghị đơn vị ban hành kế hoạch "
            "hưởng ứng và cập nhật số, ngày ban hành kế hoạch (kèm tệp kế hoạch) trên hệ thống trước ngày "
            f"{vn(start)}.\n\n"
            "Nếu đơn vị đã cập nhật kế hoạch, xin bỏ qua thư này.\n" + _footer(settings))
    return subject, body


def due_reminders(session: Session, today: date) -> list[Reminder]:
    """The reminders due on `today` (local date), before de-duplication; units without an e-mail are left out."""
    settings = get_settings()
    found: list[Reminder] = []
    for year in (today.year - 1, today.year):
        deadline = due_on(year)
        offset = current_offset(deadline, settings.reminder_days_before, settings.reminder_days_after, today,
                                settings.reminder_catch_up_days)
        if offset is not None:
            units = units_without_report(session, year)
            emails = recipients(session, [u.id for u in units])
            for unit in units:
                subject, body = report_message(unit, year, deadline, today, settings)
                found.append(Reminder(REPORT, year, offset, deadline, unit, emails.get(unit.id, []), subject, body))
        start = action_month_start(session, year)
        offset = current_offset(start, settings.plan_reminder_days_before, [], today, settings.reminder_catch_up_days)
        if offset is not None:
            campaign = action_month(session, year)
            units = units_without_plan(session, year)
            emails = recipients(session, [u.id for u in units])
            for unit in units:
                subject, body = plan_message(unit, year, start, campaign, today, settings)
                found.append(Reminder(PLAN, year, offset, start, unit, emails.get(unit.id, []), subject, body))
    return found


def build_email(reminder: Reminder, settings: Settings) -> EmailMessage:
    """The e-mail of a reminder (UTF-8 plain text)."""
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = ", ".join(reminder.to)
    msg["Subject"] = reminder.subject
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2] or None)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(reminder.body, charset="utf-8")
    return msg


class SmtpMailer:
    """One SMTP connection for a run, opened on the first message (STARTTLS and login when set)."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or get_settings()
        self._smtp: smtplib.SMTP | None = None

    def send(self, msg: EmailMessage) -> None:
        """Send one message."""
        if self._smtp is None:
            s = self.settings
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
            try:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_user:
                    smtp.login(s.smtp_user, s.smtp_password or "")
            except BaseException:
                smtp.close()
                raise
            self._smtp = smtp
        self._smtp.send_message(msg)

    def close(self) -> None:
        """Say goodbye to the server."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except smtplib.SMTPException:
                self._smtp.close()
            self._smtp = None


@dataclass
class Result:
    """What happened to one due reminder."""

    reminder: Reminder
    status: str  # sent | would-send | already-sent | no-recipients | error
    error: str | None = None

    def line(self) -> str:
        """One line for the console."""
        r = self.reminder
        when = f"{abs(r.offset)} ngày {'trước' if r.offset < 0 else 'sau'} {vn(r.deadline)}"
        to = ", ".join(r.to) or "-"
        text = f"{self.status:13} {r.kind} {r.year} {r.unit.code:28} ({when}) → {to}"
        return text + (f"  [{self.error}]" if self.error else "")


@dataclass
class Run:
    """The outcome of a run."""

    today: date
    results: list[Result] = field(default_factory=list)

    def count(self, status: str) -> int:
        """How many reminders ended with `status`."""
        return sum(1 for r in self.results if r.status == status)


def run(engine: Engine, today: date | None = None, *, dry_run: bool = False, mailer=None) -> Run:
    """Send the reminders due on `today` (local date) that were not sent before; log each one sent."""
    settings = get_settings()
    today = today or calendar.local_today()
    outcome = Run(today)
    with Session(engine) as session:
        due = due_reminders(session, today)
        sent_keys = set(session.exec(select(ReminderLog.dedup_key).where(
            ReminderLog.dedup_key.in_([r.key for r in due])))) if due else set()
    own_mailer = mailer is None and not dry_run
    mailer = mailer or (None if dry_run else SmtpMailer(settings))
    try:
        for reminder in due:
            if reminder.key in sent_keys:
                outcome.results.append(Result(reminder, "already-sent"))
            elif not reminder.to:
                outcome.results.append(Result(reminder, "no-recipients"))
            elif dry_run:
                outcome.results.append(Result(reminder, "would-send"))
            else:
                outcome.results.append(_send_one(engine, reminder, mailer, settings))
    finally:
        if own_mailer and mailer is not None:
            mailer.close()
    return outcome


def _send_one(engine: Engine, reminder: Reminder, mailer, settings: Settings) -> Result:
    # The log row is written first and committed only once the server took the message: a concurrent run
    # trips on the unique key instead of sending a second copy, and a failed send is retried by the next run.
    with Session(engine) as session:
        session.add(ReminderLog(dedup_key=reminder.key, kind=reminder.kind, unit_id=reminder.unit.id,
                                recipients=", ".join(reminder.to)[:2000]))
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            return Result(reminder, "already-sent")
        try:
            mailer.send(build_email(reminder, settings))
        except (smtplib.SMTPException, OSError) as exc:
            session.rollback()
            return Result(reminder, "error", f"{type(exc).__name__}: {exc}"[:300])
        session.commit()
    return Result(reminder, "sent")
