"""E-mail reminders, sent to a real SMTP server (aiosmtpd) listening on loopback."""

import socket
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.utils import getaddresses

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from app import cli
from app.config import get_settings
from app.models import AnnualReport, Campaign, CampaignPlan, ReminderLog, ReportKind, ReportStatus
from app.services import reminders
from tests.factories import make_unit, make_user, unit


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.messages.append((envelope.mail_from, sorted(envelope.rcpt_tos), msg))
        return "250 Message accepted"

    def for_unit(self, name_vi: str) -> list:
        return [m for _, _, m in self.messages if f"Kính gửi: {name_vi}\n" in m.get_content()]


@pytest.fixture
def smtp(monkeypatch):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("SMTP_FROM", "bdg2030@backan.gov.vn")
    get_settings.cache_clear()
    yield inbox
    controller.stop()


def officer(session, code, email, **kw):
    return make_user(session, role="officer", unit_code=code, email=email, **kw)


def report(session, code, year, *, submitted: bool):
    u = unit(session, code)
    row = AnnualReport(unit_id=u.id, year=year, kind=ReportKind.annual, period_start=date(year, 1, 1),
                       period_end=date(year, 12, 31), cutoff_on=date(year, 11, 30),
                       due_at=datetime(year, 12, 9, 17, tzinfo=UTC),
                       status=ReportStatus.submitted if submitted else ReportStatus.draft,
                       first_submitted_at=datetime(year, 12, 1, 3, tzinfo=UTC) if submitted else None,
                       submitted_at=datetime(year, 12, 1, 3, tzinfo=UTC) if submitted else None,
                       on_time=True if submitted else None)
    session.add(row)
    session.commit()
    return row


class TestReportReminders:
    def test_arrives_once_only_to_units_that_have_not_submitted(self, engine, session, smtp):
        song_cau = unit(session, "p-song-cau")
        officer(session, "p-song-cau", "an@songcau.vn")
        officer(session, "p-song-cau", "binh@songcau.vn")
        officer(session, "p-song-cau", "cu@songcau.vn", is_active=False)  # left the job
        make_user(session, role="viewer", unit_code="p-song-cau", email="viewer@songcau.vn")
        officer(session, "p-song-cau", None)  # no address
        officer(session, "x-duong-quang", "dung@duongquang.vn")
        report(session, "x-duong-quang", 2026, submitted=True)
        officer(session, "p-duc-xuan", "em@ducxuan.vn")
        report(session, "p-duc-xuan", 2026, submitted=False)  # a draft is not a submission
        officer(session, "hoi-lhpn", "giang@phunu.vn")
        officer(session, "loa-p-song-cau", "loa@songcau.vn")  # media outlets do not report
        officer(session, "tt-yte", "yte@bk.vn")  # health: not a reporting kind by default
        gone = make_unit(session, kind="ward", valid_to=date(2025, 6, 30))
        make_user(session, role="officer", email="old@ward.vn", unit_id=gone.id)

        first = reminders.run(engine, date(2026, 12, 3))

        expected = {  # unit → addresses, by the rule written out here
            "an@songcau.vn binh@songcau.vn": "Phường Sông Cầu",
            "em@ducxuan.vn": "Phường Đức Xuân",
            "giang@phunu.vn": "Hội Liên hiệp Phụ nữ thành phố",
        }
        got = {" ".join(rcpts): m for _, rcpts, m in smtp.messages}
        assert sorted(got) == sorted(expected)
        for rcpts, name in expected.items():
            assert got[rcpts].get_content().startswith(f"Kính gửi: {name}\n")
        assert first.count("sent") == 3

        msg = got["an@songcau.vn binh@songcau.vn"]
        assert msg["Subject"] == "[BĐG 2030] Nhắc nộp báo cáo năm 2026 (hạn trước 10/12/2026)"
        assert msg["From"] == "bdg2030@backan.gov.vn"
        assert sorted(a for _, a in getaddresses([msg["To"]])) == ["an@songcau.vn", "binh@songcau.vn"]
        assert msg.get_content_charset() == "utf-8"
        text = msg.get_content()
        assert "Phường Sông Cầu chưa nộp báo cáo kết quả thực hiện Chương trình Truyền thông về bình đẳng giới " \
               "năm 2026" in text
        assert "Hạn nộp báo cáo: trước ngày 10/12/2026. Thời hạn còn 7 ngày, đến hết ngày 09/12/2026." in text

        log = session.exec(select(ReminderLog).where(ReminderLog.unit_id == song_cau.id)).one()
        assert log.dedup_key == f"annual_report:2026:{song_cau.id}:-7"
        assert log.recipients == "an@songcau.vn, binh@songcau.vn"

        second = reminders.run(engine, date(2026, 12, 3))
        assert len(smtp.messages) == 3
        assert second.count("sent") == 0 and second.count("already-sent") == 3
        # A unit with no address is reported, not logged: it gets the reminder once someone adds one.
        no_address = [r.reminder.unit.code for r in second.results if r.status == "no-recipients"]
        assert "p-song-cau" not in no_address and "phong-ldtbxh" in no_address

    def test_the_series_before_and_after_the_deadline(self, engine, session, smtp):
        officer(session, "p-song-cau", "an@songcau.vn")
        inbox = lambda: smtp.for_unit("Phường Sông Cầu")  # noqa: E731

        for day in (date(2026, 12, 2), date(2026, 12, 10)):  # too early; the due day is no reminder day
            assert reminders.run(engine, day).count("sent") == 0
        assert inbox() == []

        reminders.run(engine, date(2026, 12, 5))  # cron missed 03/12: the 7-day reminder still goes
        reminders.run(engine, date(2026, 12, 9))
        reminders.run(engine, date(2026, 12, 9))
        reminders.run(engine, date(2026, 12, 11))
        reminders.run(engine, date(2026, 12, 17))
        reminders.run(engine, date(2026, 12, 18))
        subjects = [m["Subject"] for m in inbox()]
        assert subjects == ["[BĐG 2030] Nhắc nộp báo cáo năm 2026 (hạn trước 10/12/2026)"] * 2 + \
            ["[BĐG 2030] Báo cáo năm 2026 đã quá hạn (hạn trước 10/12/2026)"] * 2
        texts = [m.get_content() for m in inbox()]
        assert "Thời hạn còn 5 ngày, đến hết ngày 09/12/2026." in texts[0]
        assert "Hôm nay là ngày cuối cùng của thời hạn." in texts[1]
        assert "Đến ngày 11/12/2026 (quá hạn 2 ngày), hệ thống chưa nhận được báo cáo của Phường Sông Cầu." \
            in texts[2]
        assert "Đến ngày 17/12/2026 (quá hạn 8 ngày)" in texts[3]

    def test_a_missed_reminder_expires(self, engine, session, smtp):
        officer(session, "p-song-cau", "an@songcau.vn")
        # 03/12 + 3 catch-up days = 06/12; on 07/12 the 7-day reminder is stale and the 1-day one not yet due.
        assert reminders.run(engine, date(2026, 12, 7)).results == []
        assert smtp.for_unit("Phường Sông Cầu") == []

    def test_settings_choose_the_days(self, engine, session, smtp, monkeypatch):
        monkeypatch.setenv("REMINDER_DAYS_BEFORE", "[3]")
        monkeypatch.setenv("REPORT_DUE_DAY", "15")
        get_settings.cache_clear()
        officer(session, "p-song-cau", "an@songcau.vn")
        assert reminders.run(engine, date(2026, 12, 3)).results == []
        reminders.run(engine, date(2026, 12, 12))
        [msg] = smtp.for_unit("Phường Sông Cầu")
        assert msg["Subject"] == "[BĐG 2030] Nhắc nộp báo cáo năm 2026 (hạn trước 15/12/2026)"

    def test_a_failed_send_is_not_logged_and_goes_next_time(self, engine, session, smtp, monkeypatch):
        officer(session, "p-song-cau", "an@songcau.vn")
        port = get_settings().smtp_port
        monkeypatch.setenv("SMTP_PORT", str(free_port()))  # nobody listens there
        get_settings.cache_clear()
        failed = reminders.run(engine, date(2026, 12, 3))
        assert failed.count("error") > 0 and failed.count("sent") == 0
        assert session.exec(select(ReminderLog)).all() == []
        monkeypatch.setenv("SMTP_PORT", str(port))
        get_settings.cache_clear()
        assert reminders.run(engine, date(2026, 12, 3)).count("sent") == 1
        assert len(smtp.for_unit("Phường Sông Cầu")) == 1


class TestPlanReminders:
    def test_units_without_an_action_month_plan(self, engine, session, smtp):
        campaign = session.exec(select(Campaign).where(Campaign.code == "action-month-2026")).one()
        officer(session, "p-song-cau", "an@songcau.vn")
        officer(session, "x-duong-quang", "dung@duongquang.vn")
        session.add(CampaignPlan(campaign_id=campaign.id, unit_id=unit(session, "p-song-cau").id,
                                 document_number="45/KH-UBND", document_date=date(2026, 11, 2)))
        session.commit()

        first = reminders.run(engine, date(2026, 11, 8))
        assert {r.reminder.kind for r in first.results} == {"action_month_plan"}  # no report reminder yet
        assert smtp.for_unit("Phường Sông Cầu") == []
        [msg] = smtp.for_unit("Xã Dương Quang")
        assert msg["Subject"] == ("[BĐG 2030] Nhắc xây dựng kế hoạch hưởng ứng Tháng hành động vì bình đẳng giới "
                                  "năm 2026 (trước 15/11/2026)")
        text = msg.get_content()
        assert ("chưa có kế hoạch hưởng ứng Tháng hành động vì bình đẳng giới và phòng ngừa, ứng phó với bạo lực "
                "trên cơ sở giới năm 2026 (15/11/2026 – 15/12/2026) của đơn vị") in text
        assert "Tháng hành động bắt đầu từ ngày 15/11/2026 (còn 7 ngày)." in text

        reminders.run(engine, date(2026, 11, 8))
        reminders.run(engine, date(2026, 11, 14))
        reminders.run(engine, date(2026, 11, 15))  # the month has begun: no more plan reminders
        assert len(smtp.for_unit("Xã Dương Quang")) == 2


class TestCommand:
    def test_dry_run_sends_and_logs_nothing_then_the_real_run_prints_what_went(self, engine, session, smtp,
                                                                                  capsys):
        officer(session, "p-song-cau", "an@songcau.vn")
        assert cli.main(["remind", "--date", "2026-12-03", "--dry-run"]) == 0
        out = capsys.readouterr().out
        assert "would-send" in out and "p-song-cau" in out and "an@songcau.vn" in out
        assert smtp.messages == [] and session.exec(select(ReminderLog)).all() == []

        assert cli.main(["remind", "--date", "2026-12-03"]) == 0
        out = capsys.readouterr().out
        line = next(s for s in out.splitlines() if "p-song-cau" in s)
        assert line.split()[0] == "sent" and "7 ngày trước 10/12/2026" in line and "an@songcau.vn" in line
        assert len(smtp.messages) == 1

        cli.main(["remind", "--date", "2026-12-03"])
        assert "already-sent" in capsys.readouterr().out and len(smtp.messages) == 1
