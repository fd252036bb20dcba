"""GET /indicator-values and /indicators/{code}/values on a small world built by hand (tests/services/test_engine.py).

Every expected figure is worked out in the test from the world's definition; the statuses are worked out by hand
from the seeded targets (in the comments).
"""

import csv
import io
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from app.api.common import bump
from app.config import get_settings
from app.models import (
    Activity,
    AnnualReport,
    Campaign,
    CampaignPlan,
    Indicator,
    IndicatorTarget,
    ReportMediaStatus,
    SurveyResult,
    SurveyRound,
    Unit,
)
from tests.factories import login_headers, make_token, make_user, unit
from tests.services.test_engine import (
    MERGED,
    NEW_WARD,
    ZERO_ACTIVITY_UNIT,
    build_world,
    expected_ind01,
    expected_ind02,
    expected_ind03,
    expected_ind04,
    expected_ind05,
    subtree,
    units_of,
)

API = "/api/v1"
YEARS = (2024, 2025, 2026, 2030)

# Statuses worked out by hand (margin 10 points):
# IND-01: 100% every year (milestones) → below 100 and more than 10 points below: off_track.
# IND-02: 100% from 2025; 2024 has no target and is compared with the 2025 milestone.
# IND-03: 2025 is the baseline (0, on_track); 2030: +14.55% against 15 → at_risk; no round in 2024/2026 → no_data.
# IND-04: 2025: 7 of 9 at pilot, 7 needed → achieved; 2026: official needed (target 74), 1 of 9 → off_track;
#         nothing reported in 2024 and 2030 → no_data.
# IND-05: 2025: 11 of 12 = 91.7% against 95 → at_risk; 2026: 97 of 100 against 96 (trajectory) → on_track;
#         2024, 2030: no report → no_data.
STATUS = {
    ("IND-01", 2024): "off_track", ("IND-01", 2025): "off_track", ("IND-01", 2026): "off_track",
    ("IND-01", 2030): "off_track",
    ("IND-02", 2024): "off_track", ("IND-02", 2025): "off_track", ("IND-02", 2026): "off_track",
    ("IND-02", 2030): "off_track",
    ("IND-03", 2024): "no_data", ("IND-03", 2025): "on_track", ("IND-03", 2026): "no_data",
    ("IND-03", 2030): "at_risk",
    ("IND-04", 2024): "no_data", ("IND-04", 2025): "achieved", ("IND-04", 2026): "off_track",
    ("IND-04", 2030): "no_data",
    ("IND-05", 2024): "no_data", ("IND-05", 2025): "at_risk", ("IND-05", 2026): "on_track",
    ("IND-05", 2030): "no_data",
}
# Targets of the seeded plan for those years: (target, target_year, qualifier).
TARGETS = {
    "IND-01": {y: (100, y, None) for y in YEARS},
    "IND-02": {2024: (100, 2025, None), 2025: (100, 2025, None), 2026: (100, 2026, None), 2030: (100, 2030, None)},
    "IND-03": {2024: (15, 2030, None), 2025: (0, 2025, None), 2026: (3, 2026, None), 2030: (15, 2030, None)},
    "IND-04": {2024: (70, 2025, "pilot"), 2025: (70, 2025, "pilot"), 2026: (74, 2026, "official"),
               2030: (90, 2030, "official")},
    "IND-05": {2024: (95, 2025, None), 2025: (95, 2025, None), 2026: (96, 2026, None), 2030: (100, 2030, None)},
}


def rows_of(client, headers, path="/indicator-values", **params) -> list[dict]:
    r = client.get(API + path, params=params, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["items"])
    return body["items"]


def pick(rows, indicator, year, unit_code=None) -> dict:
    found = [r for r in rows if r["indicator"] == indicator and r["year"] == year and r["unit"] == unit_code]
    assert len(found) == 1, (indicator, year, unit_code)
    return found[0]


def share(num, den):
    return pytest.approx(100 * num / den, abs=1e-4)


@pytest.fixture
def world(session):
    build_world(session)
    return units_of(session)


@pytest.fixture
def viewer(session):
    return login_headers(session, "viewer")


class TestCityWide:
    def test_every_indicator_and_year_against_the_reference(self, client, world, viewer):
        city = subtree(world, "tp-bac-kan")
        rows = rows_of(client, viewer, year=[str(y) for y in YEARS])
        assert len(rows) == 5 * len(YEARS) and all(r["unit"] is None for r in rows)
        for year in YEARS:
            for code, reference in (("IND-01", expected_ind01), ("IND-02", expected_ind02)):
                num, den = reference(world, city, year)
                row = pick(rows, code, year)
                assert (row["numerator"], row["denominator"]) == (len(num), len(den)), (code, year)
                assert (row["units_numerator"], row["units_denominator"]) == (sorted(num), sorted(den))
                assert row["value"] == share(len(num), len(den))
                assert row["target_count"] == len(den)  # 100% of the units
                assert row["missing_units"] is None

            target = TARGETS["IND-04"][year]
            num, den, missing = expected_ind04(world, city, year, official_only=target[2] == "official")
            row = pick(rows, "IND-04", year)
            assert row["denominator"] == len(den) == 9
            assert row["missing_units"] == sorted(missing)
            if missing == den:  # nobody reported: unknown, not zero
                assert row["numerator"] is None and row["value"] is None
            else:
                assert row["units_numerator"] == sorted(num) and row["value"] == share(len(num), len(den))

            num, den, reporting, missing = expected_ind05(world, city, year)
            row = pick(rows, "IND-05", year)
            assert (row["numerator"], row["denominator"]) == (num, den)
            assert row["units_denominator"] == sorted(reporting) and row["missing_units"] == sorted(missing)
            assert row["value"] == (share(num, den) if den else None)

            ref = expected_ind03(year)
            row = pick(rows, "IND-03", year)
            if ref is None:
                assert row["value"] is None and row["numerator"] is None
            else:
                assert row["value"] == pytest.approx(ref["relative"], abs=1e-4)
                assert row["change_points"] == pytest.approx(ref["points"], abs=1e-4)
                assert (row["numerator"], row["denominator"]) == (pytest.approx(ref["points_sum"]), ref["base_sum"])
                assert [g["target_group"] for g in row["groups"]] == ref["groups"]

            for code in TARGETS:
                row = pick(rows, code, year)
                assert (row["target"], row["target_year"], row["target_qualifier"]) == TARGETS[code][year]
                assert row["status"] == STATUS[(code, year)], (code, year, row)

    def test_the_must_show_figures(self, client, world, viewer):
        rows = rows_of(client, viewer, year="2025")
        ind04 = pick(rows, "IND-04", 2025)
        # The city station (official) and six loudspeakers at pilot or official: 7 of 9, and 70% of 9 needs 7.
        assert (ind04["numerator"], ind04["denominator"], ind04["target_count"]) == (7, 9, 7)
        assert "loa-p-nguyen-thi-minh-khai" in ind04["units_numerator"]  # at pilot
        assert ind04["missing_units"] == ["loa-p-huyen-tung", "loa-x-duong-quang"]  # returned report, draft report
        ind05 = pick(rows, "IND-05", 2025)
        # 4/4 + 4/5 + 3/3 + 0/0; the draft's 10 conventions and the returned report's 2 do not count.
        assert (ind05["numerator"], ind05["denominator"]) == (11, 12)
        assert "x-nong-thuong" in ind05["units_denominator"] and "x-nong-thuong" not in ind05["missing_units"]
        assert {"x-duong-quang", "p-huyen-tung", "p-xuat-hoa"} <= set(ind05["missing_units"])
        ind01 = pick(rows, "IND-01", 2025)
        assert ZERO_ACTIVITY_UNIT in ind01["units_denominator"]
        assert ZERO_ACTIVITY_UNIT not in ind01["units_numerator"]
        assert "hoi-ccb" not in ind01["units_denominator"]  # closed in 2024
        assert {NEW_WARD, *MERGED} <= set(ind01["units_denominator"])  # all active at some time in 2025

    def test_default_year_is_the_current_local_year(self, client, world, viewer):
        from app.services.calendar import local_today

        rows = rows_of(client, viewer, indicator="IND-01")
        assert [r["year"] for r in rows] == [local_today().year]

    def test_active_at_the_end_of_the_year(self, client, world, viewer, monkeypatch):
        monkeypatch.setenv("ACTIVE_IN_YEAR", "end")
        get_settings.cache_clear()
        city = subtree(world, "tp-bac-kan")
        rows = rows_of(client, viewer, indicator=["IND-01", "IND-05"], year=["2024", "2025"])
        for year in (2024, 2025):
            num, den = expected_ind01(world, city, year, rule="end")
            assert pick(rows, "IND-01", year)["units_denominator"] == sorted(den)
            assert pick(rows, "IND-01", year)["numerator"] == len(num)
        assert "hoi-ccb" not in pick(rows, "IND-01", 2024)["units_denominator"]
        assert not set(MERGED) & set(pick(rows, "IND-05", 2025)["missing_units"])


class TestByUnit:
    def test_one_row_per_unit_and_the_scope_row(self, client, world, viewer):
        city = subtree(world, "tp-bac-kan")
        rows = rows_of(client, viewer, year="2025", by="unit")
        num, den = expected_ind01(world, city, 2025)
        unit_rows = [r for r in rows if r["indicator"] == "IND-01" and r["unit"] is not None]
        assert sorted(r["unit"] for r in unit_rows) == sorted(den)
        for r in unit_rows:
            hit = r["unit"] in num
            assert (r["numerator"], r["denominator"], r["value"]) == (int(hit), 1, 100.0 * hit)
            assert r["status"] == ("achieved" if hit else "off_track")
        assert pick(rows, "IND-01", 2025, ZERO_ACTIVITY_UNIT)["numerator"] == 0
        assert pick(rows, "IND-01", 2025)["numerator"] == len(num)  # the scope row is there too

    def test_zero_missing_and_draft_are_distinct(self, client, world, viewer):
        rows = rows_of(client, viewer, indicator="IND-05", year="2025", by="unit")
        zero = pick(rows, "IND-05", 2025, "x-nong-thuong")
        assert (zero["numerator"], zero["denominator"], zero["value"], zero["missing_units"]) == (0, 0, None, [])
        assert zero["status"] == "no_data"
        for code in ("p-xuat-hoa", "x-duong-quang", "p-huyen-tung"):  # no figures / draft / returned
            row = pick(rows, "IND-05", 2025, code)
            assert (row["numerator"], row["denominator"], row["missing_units"]) == (None, None, [code])
        row = pick(rows, "IND-05", 2025, "p-duc-xuan")
        assert (row["numerator"], row["denominator"]) == (4, 5) and row["value"] == share(4, 5)
        outlets = rows_of(client, viewer, indicator="IND-04", year="2025", by="unit")
        assert pick(outlets, "IND-04", 2025, "loa-p-nguyen-thi-minh-khai")["numerator"] == 1  # pilot
        assert pick(outlets, "IND-04", 2025, "loa-x-duong-quang")["numerator"] is None  # only a draft says

    def test_current_boundaries_roll_merged_units_up(self, client, world, viewer):
        city = subtree(world, "tp-bac-kan")
        members = {NEW_WARD, *MERGED}
        as_reported = rows_of(client, viewer, indicator=["IND-01", "IND-05"], year="2025", by="unit")
        current = rows_of(client, viewer, indicator=["IND-01", "IND-05"], year="2025", by="unit",
                          boundaries="current")
        for code in MERGED:
            assert [r for r in current if r["unit"] == code] == []
            assert pick(as_reported, "IND-01", 2025, code)["denominator"] == 1
        num, den = expected_ind01(world, members, 2025)
        row = pick(current, "IND-01", 2025, NEW_WARD)
        assert (row["numerator"], row["denominator"]) == (len(num), len(den)) == (2, 3)
        # Sums of numerators and denominators, not an average of the three units' percentages.
        assert row["value"] == share(2, 3)
        assert pick(current, "IND-01", 2025)["numerator"] == pick(as_reported, "IND-01", 2025)["numerator"]
        num5, den5, reporting, missing = expected_ind05(world, members, 2025)
        row = pick(current, "IND-05", 2025, NEW_WARD)
        assert (row["numerator"], row["denominator"], row["missing_units"]) == (num5, den5, sorted(missing))
        # A ward made in 2025 has no figures of its own for 2024; with current boundaries it has its predecessors'.
        num, den = expected_ind01(world, city & members, 2024)
        old = rows_of(client, viewer, indicator="IND-01", year="2024", unit=NEW_WARD)[0]
        assert (old["denominator"], old["status"]) == (0, "no_data")
        old = rows_of(client, viewer, indicator="IND-01", year="2024", unit=NEW_WARD, boundaries="current")[0]
        assert (old["numerator"], old["units_denominator"]) == (len(num), sorted(den))

    def test_kind_scope(self, client, world, viewer):
        wards = {c for c, u in world.items() if u.kind == "ward"}
        below_wards = set().union(*(subtree(world, w) for w in wards))
        rows = rows_of(client, viewer, indicator=["IND-01", "IND-04"], year="2025", kind="ward")
        num, den = expected_ind01(world, below_wards, 2025)
        assert pick(rows, "IND-01", 2025)["units_denominator"] == sorted(den)
        num, den, _ = expected_ind04(world, below_wards, 2025, official_only=False)
        row = pick(rows, "IND-04", 2025)
        assert (row["numerator"], row["units_denominator"]) == (len(num), sorted(den))
        assert "dai-tt-th" not in row["units_denominator"]


class TestSurveyAndSettings:
    def test_ind03_relative_and_points(self, client, world, viewer, monkeypatch):
        ref = expected_ind03(2030)
        row = rows_of(client, viewer, indicator="IND-03", year="2030")[0]
        assert row["value"] == pytest.approx(ref["relative"], abs=1e-4) == pytest.approx(16 / 110 * 100, abs=1e-4)
        assert row["change_points"] == pytest.approx(ref["points"]) == 8
        by_group = {g["target_group"]: g for g in row["groups"]}
        assert set(by_group) == {"men", "youth"}  # officials missing in 2030, ethnic minorities in 2025
        assert by_group["men"]["change_relative"] == pytest.approx(20) and by_group["youth"]["change_points"] == 6
        monkeypatch.setenv("IND03_CHANGE", "points")
        get_settings.cache_clear()
        row = rows_of(client, viewer, indicator="IND-03", year="2030", by="unit")
        city, ward = row[0], pick(row, "IND-03", 2030, "p-duc-xuan")
        assert (city["value"], city["numerator"], city["denominator"]) == (8, 16, 2)
        assert city["change_relative"] == pytest.approx(ref["relative"], abs=1e-4)
        assert (ward["value"], ward["change_relative"]) == (10, 25)  # its own rounds: 40 → 50

    def test_rounding_of_the_count_target(self, client, world, viewer, monkeypatch):
        monkeypatch.setenv("TARGET_COUNT_ROUNDING", "floor")
        get_settings.cache_clear()
        row = rows_of(client, viewer, indicator="IND-04", year="2025")[0]
        assert row["target_count"] == 6  # floor(6.3)


class TestRepresentations:
    def test_csv_xlsx_and_sdmx_carry_the_same_figures(self, client, world, viewer):
        params = {"year": "2025"}
        rows = rows_of(client, viewer, **params)
        r = client.get(f"{API}/indicator-values", params=params, headers={**viewer, "Accept": "text/csv"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(r.text)))
        assert list(table[0]) == ["indicator", "year", "unit", "numerator", "denominator", "value", "target",
                                  "target_max", "target_count", "target_qualifier", "target_year", "status",
                                  "change_relative", "change_points"]
        assert [(t["indicator"], t["numerator"], t["denominator"], t["status"]) for t in table] == [
            (j["indicator"], "" if j["numerator"] is None else str(j["numerator"]),
             "" if j["denominator"] is None else str(j["denominator"]), j["status"]) for j in rows]

        r = client.get(f"{API}/indicator-values", params={**params, "format": "xlsx"}, headers=viewer)
        assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        sheet = load_workbook(io.BytesIO(r.content)).active
        values = list(sheet.values)
        assert values[0][:3] == ("indicator", "year", "unit") and len(values) == len(rows) + 1
        ind04 = next(v for v in values if v[0] == "IND-04")
        assert ind04[3:5] == (7, 9)

        r = client.get(f"{API}/indicator-values", params=params,
                       headers={**viewer, "Accept": "application/vnd.sdmx.data+csv;version=2.0.0"})
        assert r.headers["content-type"].startswith("application/vnd.sdmx.data+csv")
        sdmx = list(csv.DictReader(io.StringIO(r.text)))
        assert list(sdmx[0])[:7] == ["STRUCTURE", "STRUCTURE_ID", "ACTION", "INDICATOR", "TIME_PERIOD", "REF_AREA",
                                     "OBS_VALUE"]
        row = next(s for s in sdmx if s["INDICATOR"] == "IND-04")
        assert (row["STRUCTURE"], row["ACTION"], row["TIME_PERIOD"], row["REF_AREA"]) == ("dataflow", "I", "2025",
                                                                                          "_T")
        assert (row["NUMERATOR"], row["DENOMINATOR"], row["TARGET"], row["OBS_STATUS"]) == ("7", "9", "70.0", "A")
        assert float(row["OBS_VALUE"]) == pytest.approx(700 / 9, abs=1e-4)

    def test_accept_negotiation(self, client, world, viewer):
        url = f"{API}/indicators/IND-01/values"
        ctype = {accept: client.get(url, headers={**viewer, "Accept": accept}).headers["content-type"]
                 for accept in ("text/csv;q=0.5, application/json", "text/html,*/*;q=0.8", "text/csv")}
        assert ctype["text/csv;q=0.5, application/json"].startswith("application/json")
        assert ctype["text/html,*/*;q=0.8"].startswith("application/json")
        assert ctype["text/csv"].startswith("text/csv")
        r = client.get(url, headers={**viewer, "Accept": "application/xml"})
        assert r.status_code == 406 and r.headers["content-type"] == "application/problem+json"


class TestPolling:
    def test_304_until_any_write(self, client, session, world, viewer):
        url, params = f"{API}/indicator-values", {"year": ["2025", "2026"], "by": "unit"}

        def poll(etag=None):
            headers = {**viewer, **({"If-None-Match": etag} if etag else {})}
            return client.get(url, params=params, headers=headers)

        first = poll()
        etag = first.headers["etag"]
        assert first.status_code == 200 and first.headers["last-modified"]
        second = poll(etag)
        assert second.status_code == 304 and second.content == b"" and second.headers["etag"] == etag
        assert client.get(url, params={**params, "format": "csv"}, headers=viewer).headers["etag"] != etag

        def first_of(model, *where):
            return session.exec(select(model).where(*where)).first()

        def change(obj, **values):
            for k, v in values.items():
                setattr(obj, k, v)
            if hasattr(obj, "version"):
                bump(obj)
            session.add(obj)

        activity = Activity(unit_id=unit(session, ZERO_ACTIVITY_UNIT).id, held_on=date(2025, 9, 1), title="Tọa đàm",
                            kind="talk", channel="direct", task_group="1")
        writes = {
            "insert an activity": lambda: session.add(activity),
            "update an activity": lambda: change(activity, participants_female=12),
            "delete an activity": lambda: session.delete(activity),
            "submit a draft report": lambda: change(
                first_of(AnnualReport, AnnualReport.status == "draft"), status="submitted"),
            "delete a media status": lambda: session.delete(first_of(ReportMediaStatus)),
            "delete a campaign plan": lambda: session.delete(first_of(CampaignPlan)),
            "change a survey score only": lambda: change(first_of(SurveyResult), score=99.0),
            "add a survey round": lambda: session.add(SurveyRound(year=2026, name="Khảo sát 2026")),
            "close a unit": lambda: change(first_of(Unit, Unit.code == "doan-tn"), valid_to=date(2026, 3, 31)),
            "change a target": lambda: change(first_of(IndicatorTarget, IndicatorTarget.year == 2025,
                                                       IndicatorTarget.indicator_id == first_of(
                                                           Indicator, Indicator.code == "IND-05").id), value=90),
            "move a campaign": lambda: change(first_of(Campaign, Campaign.code == "action-month-2025"),
                                              starts_on=date(2025, 11, 1)),
        }
        for name, write in writes.items():
            write()
            session.commit()
            r = poll(etag)
            assert r.status_code == 200, name
            assert r.headers["etag"] != etag, name
            etag = r.headers["etag"]
            assert poll(etag).status_code == 304, name


class TestAccessAndErrors:
    def test_anonymous_only_when_public(self, client, world, monkeypatch):
        assert client.get(f"{API}/indicator-values").status_code == 401
        monkeypatch.setenv("PUBLIC_INDICATOR_VALUES", "true")
        get_settings.cache_clear()
        r = client.get(f"{API}/indicator-values", params={"year": "2025"})
        assert r.status_code == 200 and len(r.json()["items"]) == 5
        assert client.get(f"{API}/statistics").status_code == 401

    def test_one_indicator(self, client, world, viewer):
        rows = rows_of(client, viewer, path="/indicators/IND-04/values", year="2022-2030")
        assert [(r["indicator"], r["year"]) for r in rows] == [("IND-04", y) for y in range(2022, 2031)]
        assert client.get(f"{API}/indicators/IND-99/values", headers=viewer).status_code == 404

    @pytest.mark.parametrize("params, field", [
        ({"unit": "no-such-unit"}, "query.unit"), ({"year": "20x5"}, "query.year"),
        ({"year": "1990-2100"}, "query.year"), ({"year": "2030-2022"}, "query.year"),
        ({"indicator": "IND-99"}, "query.indicator"),
        ({"by": "month"}, "query.by"), ({"boundaries": "future"}, "query.boundaries"),
    ])
    def test_bad_parameters_name_the_field(self, client, world, viewer, params, field):
        r = client.get(f"{API}/indicator-values", params=params, headers=viewer)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in r.json()["errors"]]


# --- the examples of docs/pulling-indicator-data.md, run against a live server ---------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "pulling-indicator-data.md"


def doc_block(name: str) -> str:
    """The code block that follows `<!-- tested: name -->` in the documentation."""
    text = DOC.read_text(encoding="utf-8")
    after = text.split(f"<!-- tested: {name} -->", 1)[1]
    return after.split("```", 2)[1].split("\n", 1)[1]


@pytest.fixture
def read_token(session):
    return make_token(session, make_user(session, role="viewer"), scopes="read")


class TestDocumentationExamples:
    def test_curl(self, world, live_server, read_token, tmp_path):
        result = subprocess.run(["bash", "-e", "-c", doc_block("curl")], cwd=tmp_path, capture_output=True,
                                text=True, timeout=120, env={**os.environ, "BASE": live_server, "TOKEN": read_token})
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == "304"
        table = list(csv.DictReader((tmp_path / "indicator-values.csv").open(encoding="utf-8")))
        assert {r["year"] for r in table} == {str(y) for y in range(2022, 2031)}
        assert any(r["unit"] == "loa-p-song-cau" for r in table)

    def test_httpx(self, world, live_server, read_token, monkeypatch, capsys):
        monkeypatch.setenv("BDG_API", live_server)
        monkeypatch.setenv("BDG_TOKEN", read_token)
        exec(compile(doc_block("httpx"), "docs-httpx", "exec"), {})
        lines = capsys.readouterr().out.strip().splitlines()
        assert "IND-04 2025 7 / 9 achieved" in lines and "IND-05 2025 11 / 12 at_risk" in lines
        assert lines[-1] == "304"

    def test_pandas(self, world, live_server, read_token, monkeypatch, capsys):
        """pandas is not installed here: a stand-in does what `pandas.read_csv` does with an http URL and
        `storage_options` (a urllib request with those headers), and supports the calls the example makes."""
        import types
        import urllib.request

        calls = []

        class Column(list):
            def isna(self):
                return [v is None for v in self]

        class Frame:
            def __init__(self, rows):
                self.rows = rows

            def __getitem__(self, key):
                if isinstance(key, str):
                    return Column(r[key] for r in self.rows)
                return Frame([r for r, keep in zip(self.rows, key, strict=True) if keep])

            def pivot(self, index, columns, values):
                table = {}
                for r in self.rows:
                    assert (r[index], r[columns]) not in table, "pivot needs unique index/columns pairs"
                    table[(r[index], r[columns])] = r[values]
                return table

        def read_csv(url, storage_options=None, dtype=None):
            calls.append(url)
            with urllib.request.urlopen(urllib.request.Request(url, headers=storage_options or {})) as response:
                text = response.read().decode("utf-8")
            rows = list(csv.DictReader(io.StringIO(text)))
            assert set(dtype or {}) <= set(rows[0])
            return Frame([{k: (v if v != "" else None) for k, v in r.items()} for r in rows])

        monkeypatch.setitem(sys.modules, "pandas", types.SimpleNamespace(read_csv=read_csv))
        monkeypatch.setenv("BDG_API", live_server)
        monkeypatch.setenv("BDG_TOKEN", read_token)
        exec(compile(doc_block("pandas"), "docs-pandas", "exec"), {})
        assert len(calls) == 1
        printed = capsys.readouterr().out
        assert "('2025', 'IND-04'): '77.7778'" in printed  # the city's IND-04 2025 value
