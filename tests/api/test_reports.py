"""The report resource: drafts, content rules, defaults, list and filters."""

import itertools
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from app.models import AuditEntry, Role, TokenKind, User
from app.services import calendar
from tests.factories import make_token, make_unit, unit

API = "/api/v1"
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
_seq = itertools.count(1)


# --- helpers shared by the report test modules ---------------------------------------------------------------------

def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    """A moment given in Asia/Ho_Chi_Minh wall-clock time."""
    return datetime(y, m, d, hh, mm, ss, tzinfo=HCM)


def set_clock(monkeypatch, when: datetime) -> None:
    """Make the application's clock read `when`."""
    monkeypatch.setattr(calendar, "now", lambda: when)


def ward_body(outlet: str = "loa-p-song-cau", **extra) -> dict:
    """A complete report body of a ward that runs `outlet`."""
    body = {
        "leadership": "UBND phường ban hành kế hoạch thực hiện Chương trình truyền thông về bình đẳng giới.",
        "results_by_task_group": {"1": "Tổ chức 4 hội nghị tuyên truyền pháp luật.", "5": "Loa phát 20 tin bài."},
        "funding": "Ngân sách nhà nước: 12.000.000 đồng.",
        "conventions_adopted": 6,
        "conventions_without_discrimination": 5,
        "media_statuses": [{"outlet": outlet, "status": "pilot"}],
    }
    body.update(extra)
    return body


def report_url(year: int, unit: str, action: str = "") -> str:
    return f"{API}/reports/{year}/units/{unit}" + (f"/{action}" if action else "")


def quick_user(session, role: str, unit_code: str | None = None) -> User:
    """A user without a usable password (hashing one costs a third of a second; these tests log in by token)."""
    session.commit()  # leave any read snapshot the test held (SQLite), so that the write sees the app's commits
    n = next(_seq)
    user = User(username=f"bc-{role}-{n}", full_name=f"Cán bộ {n}", role=Role(role), password_hash="!",
                unit_id=unit(session, unit_code).id if unit_code else None)
    session.add(user)
    session.commit()
    return user


class People:
    """Login headers of one user per (role, unit), made on first use (no password hashing: tests log in by token)."""

    def __init__(self, session):
        self.session = session
        self.users: dict[tuple[str, str | None], tuple[dict, str]] = {}

    def __call__(self, role: str = "coordinator", unit_code: str | None = None) -> dict:
        return self.user(role, unit_code)[0]

    def user(self, role: str, unit_code: str | None = None) -> tuple[dict, str]:
        """Headers and username."""
        key = (role, unit_code)
        if key not in self.users:
            user = quick_user(self.session, role, unit_code)
            token = make_token(self.session, user, kind=TokenKind.login)
            self.users[key] = ({"Authorization": f"Bearer {token}"}, user.username)
        return self.users[key]


@pytest.fixture
def people(session) -> People:
    return People(session)


# --- tests ----------------------------------------------------------------------------------------------------------

class TestDraft:
    def test_no_report_is_404(self, client, session, people):
        r = client.get(report_url(2024, "p-song-cau"), headers=people("viewer"))
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"

    def test_officer_creates_the_draft_with_defaults(self, client, session, people):
        h = people("officer", "p-song-cau")
        r = client.put(report_url(2024, "p-song-cau"), json=ward_body(), headers=h)
        assert r.status_code == 201, r.text
        body = r.json()
        assert r.headers["location"] == report_url(2024, "p-song-cau")
        assert r.headers["etag"] == f'"{body["id"]}.1"'
        assert (body["status"], body["kind"], body["unit_code"], body["unit_kind"]) == (
            "draft", "annual", "p-song-cau", "ward")
        # The calendar year; figures taken to the day before the 10/12 deadline.
        assert (body["period_start"], body["period_end"], body["cutoff_on"]) == ("2024-01-01", "2024-12-31",
                                                                                  "2024-12-09")
        assert body["due_at"] == "2024-12-09T17:00:00Z"  # 10/12 00:00 in UTC+7
        assert body["media_statuses"] == [{"outlet": "loa-p-song-cau", "status": "pilot",
                                           "outlet_name": "Hệ thống loa truyền thanh phường Sông Cầu"}]
        assert body["results_by_task_group"]["5"] == "Loa phát 20 tin bài."
        assert body["missing_for_submission"] == [] and body["actions"] == ["edit", "submit"]
        assert body["first_submitted_at"] is None and body["activity_summary"] is None

        got = client.get(report_url(2024, "p-song-cau"), headers=people("viewer"))
        assert got.status_code == 200 and got.headers["etag"] == r.headers["etag"]
        assert got.json()["actions"] == []  # a viewer may do nothing

    def test_update_honours_if_match_and_bumps_the_version(self, client, session, people):
        h = people("officer", "p-song-cau")
        etag = client.put(report_url(2024, "p-song-cau"), json=ward_body(), headers=h).headers["etag"]
        r = client.put(report_url(2024, "p-song-cau"), json=ward_body(proposals="Đề nghị bổ sung kinh phí."),
                       headers={**h, "If-Match": etag})
        assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["proposals"].startswith("Đề nghị")
        stale = client.put(report_url(2024, "p-song-cau"), json=ward_body(proposals="cũ"),
                           headers={**h, "If-Match": etag})
        assert stale.status_code == 412
        assert client.get(report_url(2024, "p-song-cau"), headers=h).json()["proposals"].startswith("Đề nghị")

    def test_if_match_on_a_report_that_does_not_exist_is_412(self, client, session, people):
        h = people("coordinator")
        r = client.put(report_url(2024, "p-song-cau"), json=ward_body(), headers={**h, "If-Match": '"1.1"'})
        assert r.status_code == 412
        assert client.get(report_url(2024, "p-song-cau"), headers=h).status_code == 404

    def test_put_replaces_the_content(self, client, session, people):
        h = people("coordinator")
        client.put(report_url(2024, "p-song-cau"), json=ward_body(), headers=h)
        r = client.put(report_url(2024, "p-song-cau"), json={"leadership": "Chỉ phần lãnh đạo."}, headers=h)
        body = r.json()
        assert body["media_statuses"] == [] and body["conventions_adopted"] is None and body["funding"] == ""
        # What a submission would now lack is listed.
        assert {e["field"] for e in body["missing_for_submission"]} == {
            "body.conventions_adopted", "body.conventions_without_discrimination",
            "body.media_statuses.loa-p-song-cau"}

    def test_every_write_is_audited(self, client, session, people):
        h = people("officer", "p-song-cau")
        rid = client.put(report_url(2024, "p-song-cau"), json=ward_body(), headers=h).json()["id"]
        client.put(report_url(2024, "p-song-cau"), json=ward_body(conventions_adopted=7), headers=h)
        entries = session.exec(select(AuditEntry).where(AuditEntry.resource_type == "annual_report",
                                                        AuditEntry.resource_id == str(rid))
                               .order_by(AuditEntry.id)).all()
        assert [e.action for e in entries] == ["create", "update"]
        assert entries[0].before is None and entries[0].after["media_statuses"] == {"loa-p-song-cau": "pilot"}
        assert (entries[1].before["conventions_adopted"], entries[1].after["conventions_adopted"]) == (6, 7)


class TestWhoMayWrite:
    @pytest.mark.parametrize("role, unit_code", [("officer", "p-duc-xuan"), ("viewer", None)])
    def test_others_are_refused(self, client, session, people, role, unit_code):
        r = client.put(report_url(2024, "p-song-cau"), json=ward_body(),
                       headers=people(role, unit_code))
        assert r.status_code == 403

    @pytest.mark.parametrize("role, unit_code", [("admin", None), ("coordinator", None), ("officer", "p-song-cau")])
    def test_own_officer_and_staff_may(self, client, session, people, role, unit_code):
        r = client.put(report_url(2024, "p-song-cau"), json=ward_body(),
                       headers=people(role, unit_code))
        assert r.status_code == 201

    def test_read_only_token_is_refused(self, client, session, people):
        user = quick_user(session, "officer", "p-song-cau")
        token = make_token(session, user, scopes="read")
        r = client.put(report_url(2024, "p-song-cau"), json=ward_body(), headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403

    def test_anonymous_reads_nothing(self, client):
        assert client.get(f"{API}/reports").status_code == 401
        assert client.get(report_url(2024, "p-song-cau")).status_code == 401


class TestContentRules:
    def _put(self, client, people, body, unit="p-song-cau", year=2024, **params):
        r = client.put(report_url(year, unit), json=body, params=params, headers=people())
        return r

    def _fields(self, r) -> set[str]:
        assert r.status_code == 422, r.text
        return {e["field"] for e in r.json()["errors"]}

    def test_task_group_keys_are_one_to_seven(self, client, session, people):
        r = self._put(client, people, ward_body(results_by_task_group={"1": "a", "8": "b", "x": "c"}))
        assert self._fields(r) == {"body.results_by_task_group.8", "body.results_by_task_group.x"}
        ok = self._put(client, people, ward_body(results_by_task_group={str(k): "…" for k in range(1, 8)}))
        assert ok.status_code == 201

    def test_conventions_only_for_wards_and_communes(self, client, session, people):
        r = self._put(client, people, {"conventions_adopted": 3, "conventions_without_discrimination": 3},
                      unit="hoi-lhpn")
        assert self._fields(r) == {"body.conventions_adopted", "body.conventions_without_discrimination"}

    def test_conventions_both_or_none_and_not_more_clean_than_adopted(self, client, session, people):
        r = self._put(client, people, ward_body(conventions_without_discrimination=None))
        assert self._fields(r) == {"body.conventions_without_discrimination"}
        r = self._put(client, people, ward_body(conventions_adopted=None))
        assert self._fields(r) == {"body.conventions_adopted"}
        r = self._put(client, people, ward_body(conventions_adopted=4, conventions_without_discrimination=5))
        assert self._fields(r) == {"body.conventions_without_discrimination"}
        r = self._put(client, people, ward_body(conventions_adopted=-1))
        assert "body.conventions_adopted" in self._fields(r)
        # Equal is fine: every convention free of discrimination.
        assert self._put(client, people, ward_body(conventions_adopted=5)).status_code == 201

    def test_media_status_only_for_outlets_the_unit_runs(self, client, session, people):
        r = self._put(client, people, ward_body(media_statuses=[
            {"outlet": "loa-p-song-cau", "status": "official"},
            {"outlet": "loa-p-duc-xuan", "status": "pilot"},  # run by another ward
            {"outlet": "p-duc-xuan", "status": "none"},  # not an outlet
        ]))
        assert r.status_code == 422
        errors = r.json()["errors"]
        assert [e["field"] for e in errors] == ["body.media_statuses.1.outlet", "body.media_statuses.2.outlet"]
        assert "loa-p-duc-xuan" in errors[0]["message"] and "p-duc-xuan" in errors[1]["message"]
        r = self._put(client, people, ward_body(media_statuses=[{"outlet": "loa-p-song-cau", "status": "pilot"},
                                                                 {"outlet": "loa-p-song-cau", "status": "none"}]))
        assert self._fields(r) == {"body.media_statuses.1.outlet"}
        r = self._put(client, people, ward_body(media_statuses=[{"outlet": "loa-p-song-cau", "status": "full"}]))
        assert self._fields(r) == {"body.media_statuses.0.status"}
        # The centre reports the city station.
        r = self._put(client, people, {"media_statuses": [{"outlet": "dai-tt-th", "status": "official"}]},
                      unit="tt-vhttt")
        assert r.status_code == 201 and r.json()["media_statuses"][0]["outlet"] == "dai-tt-th"

    def test_unknown_fields_and_long_text_are_refused_and_nothing_is_written(self, client, session, people):
        assert "body.score" in self._fields(self._put(client, people, ward_body(score=5)))
        assert "body.leadership" in self._fields(self._put(client, people, ward_body(leadership="x" * 20001)))
        assert client.get(report_url(2024, "p-song-cau"), headers=people()).status_code == 404

    def test_period_and_cutoff(self, client, session, people):
        r = self._put(client, people, ward_body(period_end="2025-01-31"))
        assert "body.period_end" in self._fields(r)
        r = self._put(client, people, ward_body(period_start="2024-06-01", period_end="2024-03-01"))
        assert "body.period_start" in self._fields(r)
        r = self._put(client, people, ward_body(cutoff_on="2023-12-31"))
        assert self._fields(r) == {"body.cutoff_on"}
        # A period from 15/12 of the year before, with a cut-off of 30/11.
        r = self._put(client, people, ward_body(period_start="2023-12-15", period_end="2024-12-14",
                                                 cutoff_on="2024-11-30"))
        assert r.status_code == 201
        assert (r.json()["period_start"], r.json()["cutoff_on"]) == ("2023-12-15", "2024-11-30")

    def test_due_date_override_moves_the_default_cutoff(self, client, session, people, monkeypatch):
        from app.config import get_settings

        monkeypatch.setenv("REPORT_DUE_OVERRIDES", '{"2024": "2024-12-20"}')
        get_settings.cache_clear()
        r = self._put(client, people, ward_body())
        assert (r.json()["cutoff_on"], r.json()["due_at"]) == ("2024-12-19", "2024-12-19T17:00:00Z")

    def test_units_that_do_not_report(self, client, session, people):
        for code in ("loa-p-song-cau", "tt-yte", "tp-bac-kan"):
            r = self._put(client, people, {}, unit=code)
            assert self._fields(r) == {"path.unit"}, code

    def test_a_closed_unit_has_no_report_after_it_closed(self, client, session, people):
        make_unit(session, code="p-cu", kind="ward", valid_to=date(2025, 6, 30), parent_code="tp-bac-kan")
        assert self._put(client, people, {"conventions_adopted": 1, "conventions_without_discrimination": 1},
                         unit="p-cu", year=2025).status_code == 201
        r = self._put(client, people, {}, unit="p-cu", year=2026)
        assert self._fields(r) == {"path.year"} and "2025-06-30" in r.json()["detail"]
        make_unit(session, code="p-moi", kind="ward", valid_from=date(2025, 7, 1), parent_code="tp-bac-kan")
        assert self._fields(self._put(client, people, {}, unit="p-moi", year=2024)) == {"path.year"}

    def test_bad_year_and_unknown_unit(self, client, session, people):
        assert self._put(client, people, {}, year=1999).status_code == 422
        assert self._put(client, people, {}, unit="khong-co").status_code == 404


class TestReviews:
    def test_midterm_and_final_cover_the_phase_and_the_plan(self, client, session, people):
        h = people()
        mid = client.put(report_url(2025, "hoi-lhpn"), json={}, params={"kind": "midterm"}, headers=h)
        assert mid.status_code == 201
        assert (mid.json()["kind"], mid.json()["period_start"], mid.json()["period_end"]) == (
            "midterm", "2022-01-01", "2025-12-31")
        assert mid.headers["location"] == report_url(2025, "hoi-lhpn") + "?kind=midterm"
        final = client.put(report_url(2030, "hoi-lhpn"), json={}, params={"kind": "final"}, headers=h)
        assert (final.json()["period_start"], final.json()["period_end"]) == ("2022-01-01", "2030-12-31")
        # The annual report of 2025 is another report.
        assert client.get(report_url(2025, "hoi-lhpn"), headers=h).status_code == 404
        annual = client.put(report_url(2025, "hoi-lhpn"), json={}, headers=h)
        assert annual.status_code == 201 and annual.json()["id"] != mid.json()["id"]
        got = client.get(report_url(2025, "hoi-lhpn"), params={"kind": "midterm"}, headers=h).json()
        assert got["id"] == mid.json()["id"]

    def test_reviews_only_in_their_year(self, client, session, people):
        h = people()
        r = client.put(report_url(2024, "hoi-lhpn"), json={}, params={"kind": "midterm"}, headers=h)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.kind"
        r = client.put(report_url(2025, "hoi-lhpn"), json={}, params={"kind": "final"}, headers=h)
        assert r.status_code == 422


class TestList:
    def test_filters_and_pages(self, client, session, people):
        h = people()
        for year, code in ((2023, "p-song-cau"), (2024, "p-song-cau"), (2024, "p-duc-xuan"), (2024, "hoi-lhpn")):
            outlet = f"loa-{code}"
            body = ward_body(outlet) if code.startswith("p-") else {}
            assert client.put(report_url(year, code), json=body, headers=h).status_code == 201
        client.post(report_url(2024, "p-duc-xuan", "submit"), headers=h)
        client.put(report_url(2025, "hoi-lhpn"), json={}, params={"kind": "midterm"}, headers=h)

        def codes(**params):
            body = client.get(f"{API}/reports", params=params, headers=people("viewer")).json()
            return body["total"], [(i["year"], i["kind"], i["unit_code"], i["status"]) for i in body["items"]]

        total, rows = codes()
        assert total == 5 and rows[0] == (2025, "midterm", "hoi-lhpn", "draft")
        assert codes(year=2024)[1] == [(2024, "annual", "hoi-lhpn", "draft"), (2024, "annual", "p-duc-xuan",
                                                                             "submitted"),
                                       (2024, "annual", "p-song-cau", "draft")]
        assert codes(status="submitted")[1] == [(2024, "annual", "p-duc-xuan", "submitted")]
        assert codes(status=["submitted", "draft"], year=2024)[0] == 3
        assert codes(unit="p-song-cau")[0] == 2
        assert codes(unit="tp-bac-kan")[0] == 5  # the whole city
        assert codes(kind="midterm")[0] == 1
        page = client.get(f"{API}/reports", params={"limit": 2, "offset": 4}, headers=h).json()
        assert (page["total"], len(page["items"])) == (5, 1)
        assert client.get(f"{API}/reports", params={"status": "lost"}, headers=h).status_code == 422

