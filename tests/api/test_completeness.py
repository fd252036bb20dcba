"""Obligations of a year: who must report, completeness and timeliness, missing and late units."""

from datetime import date

import pytest

from app.config import get_settings
from tests.api.test_reports import API, People, local, report_url, set_clock, ward_body
from tests.factories import make_unit

YEAR = 2024
REPORTING = {"department", "mass_org", "ward", "commune"}


@pytest.fixture
def people(session) -> People:
    return People(session)


def obliged_codes(client, headers, year: int, rule: str = "any") -> set[str]:
    """The obliged units, worked out here from the unit list."""
    units = client.get(f"{API}/units", params={"limit": 1000}, headers=headers).json()["items"]
    first, last = (date(year, 12, 31) if rule == "end" else date(year, 1, 1)), date(year, 12, 31)
    return {
        u["code"] for u in units
        if u["kind"] in REPORTING and date.fromisoformat(u["valid_from"]) <= last
        and (u["valid_to"] is None or date.fromisoformat(u["valid_to"]) >= first)
    }


def completeness(client, headers, year: int = YEAR, **params) -> dict:
    r = client.get(f"{API}/reports/{year}/completeness", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def submit_at(client, people, monkeypatch, code: str, when, body=None, **params):
    """Create the unit's report and submit it at `when` (local time)."""
    coord = people()
    if body is None:
        body = ward_body(f"loa-{code}") if code.startswith(("p-", "x-")) else {}
    r = client.put(report_url(YEAR, code), json=body, headers=coord, params=params)
    assert r.status_code == 201, r.text
    set_clock(monkeypatch, when)
    r = client.post(report_url(YEAR, code, "submit"), headers=coord, params=params)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def year_2024(client, session, people, monkeypatch):
    """A year with units on time, late, returned, accepted, a draft, and units that do not owe a report."""
    make_unit(session, code="p-da-dong", kind="ward", parent_code="tp-bac-kan", valid_to=date(2023, 12, 31))
    make_unit(session, code="hoi-moi", kind="mass_org", parent_code="tp-bac-kan", valid_from=date(2025, 1, 1))
    make_unit(session, code="p-giua-nam", kind="ward", parent_code="tp-bac-kan", valid_to=date(2024, 6, 30))
    make_unit(session, code="dn-may", kind="enterprise", parent_code="tp-bac-kan")
    conventions = {"conventions_adopted": 2, "conventions_without_discrimination": 2}

    submit_at(client, people, monkeypatch, "phong-ldtbxh", local(2024, 12, 1, 8))
    submit_at(client, people, monkeypatch, "hoi-lhpn", local(2024, 12, 9, 23, 59, 59))
    submit_at(client, people, monkeypatch, "p-giua-nam", local(2024, 6, 15, 9), body=conventions)
    submit_at(client, people, monkeypatch, "x-duong-quang", local(2024, 12, 5, 9))
    client.post(report_url(YEAR, "x-duong-quang", "accept"), headers=people())
    submit_at(client, people, monkeypatch, "p-song-cau", local(2024, 12, 10, 0, 0, 0))
    submit_at(client, people, monkeypatch, "mttq", local(2024, 12, 12, 8))
    client.post(report_url(YEAR, "mttq", "return"), json={"comment": "Thiếu phần kinh phí."}, headers=people())
    # A draft is not a submission.
    client.put(report_url(YEAR, "p-duc-xuan"), json=ward_body("loa-p-duc-xuan"), headers=people())
    return {"on_time": {"phong-ldtbxh", "hoi-lhpn", "p-giua-nam", "x-duong-quang"},
            "late": {"p-song-cau": 1, "mttq": 3}}


class TestCompleteness:
    def test_a_year_with_obliged_submitted_late_and_missing_units(self, client, people, monkeypatch, year_2024):
        set_clock(monkeypatch, local(2024, 12, 20, 12))
        viewer = people("viewer")
        obliged = obliged_codes(client, viewer, YEAR)
        assert {"p-giua-nam", "p-song-cau", "hoi-lhpn"} <= obliged
        assert not {"p-da-dong", "hoi-moi", "dn-may", "tt-yte", "loa-p-song-cau"} & obliged
        on_time, late = year_2024["on_time"], year_2024["late"]
        submitted = on_time | set(late)
        missing = obliged - submitted

        c = completeness(client, viewer)
        assert (c["year"], c["kind"], c["due_on"], c["last_on_time_day"], c["due_at"]) == (
            2024, "annual", "2024-12-10", "2024-12-09", "2024-12-09T17:00:00Z")
        assert (c["obliged"], c["submitted"], c["on_time"], c["late"], c["missing"]) == (
            len(obliged), len(submitted), len(on_time), len(late), len(missing))
        assert c["completeness"] == {"numerator": len(submitted), "denominator": len(obliged),
                                     "value": round(100 * len(submitted) / len(obliged), 1)}
        assert c["timeliness"] == {"numerator": len(on_time), "denominator": len(obliged),
                                   "value": round(100 * len(on_time) / len(obliged), 1)}
        assert {u["code"] for u in c["missing_units"]} == missing
        assert {u["code"]: u["days_late"] for u in c["late_units"]} == late
        # Missing reports are 11 days overdue on 20/12 (10/12 is day 1).
        assert {u["days_late"] for u in c["missing_units"]} == {11}

        rows = {r["unit_code"]: r for r in c["units"]}
        assert set(rows) == obliged
        assert (rows["mttq"]["status"], rows["mttq"]["submitted"], rows["mttq"]["on_time"]) == ("returned", True,
                                                                                                False)
        assert (rows["p-duc-xuan"]["status"], rows["p-duc-xuan"]["submitted"]) == ("draft", False)
        assert rows["x-duong-quang"]["status"] == "accepted" and rows["x-duong-quang"]["on_time"] is True
        assert rows["hoi-lhpn"]["first_submitted_at"] == "2024-12-09T16:59:59Z"
        assert rows["ldld"]["status"] is None and rows["ldld"]["submitted"] is False

    def test_filter_by_subtree(self, client, people, monkeypatch, year_2024):
        viewer = people("viewer")
        one = completeness(client, viewer, unit="p-song-cau")
        assert (one["obliged"], one["late"], [u["unit_code"] for u in one["units"]]) == (1, 1, ["p-song-cau"])
        city = completeness(client, viewer, unit="tp-bac-kan")
        assert city["obliged"] == len(obliged_codes(client, viewer, YEAR))
        assert client.get(f"{API}/reports/{YEAR}/completeness", params={"unit": "khong-co"},
                          headers=viewer).status_code == 404

    def test_units_active_at_the_end_of_the_year(self, client, people, monkeypatch, year_2024):
        monkeypatch.setenv("ACTIVE_IN_YEAR", "end")
        get_settings.cache_clear()
        viewer = people("viewer")
        obliged = obliged_codes(client, viewer, YEAR, rule="end")
        assert "p-giua-nam" not in obliged
        c = completeness(client, viewer)
        assert (c["obliged"], c["submitted"], c["on_time"]) == (len(obliged), 5, 3)

    def test_before_the_deadline_nothing_is_overdue(self, client, people, monkeypatch):
        submit_at(client, people, monkeypatch, "hoi-lhpn", local(2024, 11, 30, 10))
        set_clock(monkeypatch, local(2024, 12, 1, 10))
        c = completeness(client, people("viewer"))
        assert c["submitted"] == c["on_time"] == 1 and c["late_units"] == []
        assert {u["days_late"] for u in c["missing_units"]} == {None}

    def test_drafts_never_count(self, client, people):
        coord = people()
        for code in ("p-song-cau", "p-duc-xuan"):
            client.put(report_url(YEAR, code), json=ward_body(f"loa-{code}"), headers=coord)
        c = completeness(client, coord)
        assert (c["submitted"], c["completeness"]["numerator"]) == (0, 0)
        assert c["missing"] == c["obliged"]

    def test_a_due_date_set_for_the_year(self, client, people, monkeypatch):
        monkeypatch.setenv("REPORT_DUE_OVERRIDES", '{"2024": "2024-12-15"}')
        get_settings.cache_clear()
        report = submit_at(client, people, monkeypatch, "hoi-lhpn", local(2024, 12, 14, 23, 59, 59))
        assert report["on_time"] is True
        assert submit_at(client, people, monkeypatch, "mttq", local(2024, 12, 15, 0, 0))["on_time"] is False
        c = completeness(client, people("viewer"))
        assert (c["due_on"], c["last_on_time_day"], c["on_time"], c["late"]) == ("2024-12-15", "2024-12-14", 1, 1)
        # Other years keep 10/12.
        assert completeness(client, people("viewer"), year=2023)["due_on"] == "2023-12-10"

    def test_reviews_are_counted_apart(self, client, people, monkeypatch):
        submit_at(client, people, monkeypatch, "hoi-lhpn", local(2024, 12, 1, 8))
        c = completeness(client, people("viewer"), kind="midterm")
        assert (c["kind"], c["submitted"]) == ("midterm", 0)

    def test_a_year_before_any_unit(self, client, people):
        c = completeness(client, people("viewer"), year=2021)
        assert c["obliged"] == 0 and c["completeness"] == {"numerator": 0, "denominator": 0, "value": None}

    def test_readers_only(self, client):
        assert client.get(f"{API}/reports/{YEAR}/completeness").status_code == 401
