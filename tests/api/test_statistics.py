"""GET /statistics on the hand-built world; expected figures are added up here from the world's activities."""

import csv
import io
from collections import defaultdict
from datetime import date

import pytest

from app.models import Activity
from tests.factories import login_headers, unit
from tests.services.test_engine import ACTIVITIES, MERGED, NEW_WARD, build_world

API = "/api/v1"


@pytest.fixture
def viewer(session):
    build_world(session)
    return login_headers(session, "viewer")


def stats(client, headers, **params) -> list[dict]:
    r = client.get(f"{API}/statistics", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def totals(activities) -> dict:
    male, female = sum(a.male for a in activities), sum(a.female for a in activities)
    return {"activities": len(activities), "participants_male": male, "participants_female": female,
            "participants_total": male + female,
            "women_share": round(100 * female / (male + female), 2) if male + female else None,
            "broadcasts": sum(a.broadcasts for a in activities), "cost_vnd": sum(a.cost for a in activities),
            "products": sum(q for a in activities for _, q in a.products)}


def grouped(key, year=2025) -> dict:
    out = defaultdict(list)
    for a in ACTIVITIES:
        if a.held_on.year == year:
            out[key(a)].append(a)
    return out


MEASURES = ("activities", "participants_male", "participants_female", "participants_total", "women_share",
            "broadcasts", "cost_vnd", "products")


def measures(row) -> dict:
    return {m: row[m] for m in MEASURES}


class TestStatistics:
    def test_per_year(self, client, viewer):
        rows = stats(client, viewer, year=["2024", "2025"])
        assert [r["year"] for r in rows] == [2024, 2025]
        for row in rows:
            assert measures(row) == totals([a for a in ACTIVITIES if a.held_on.year == row["year"]])

    @pytest.mark.parametrize("dimension, key", [
        ("unit", lambda a: a.unit), ("kind", lambda a: a.kind), ("task_group", lambda a: a.task_group),
        ("channel", lambda a: a.channel), ("campaign", lambda a: a.campaign),
        ("funding_source", lambda a: a.funding),
    ])
    def test_by_one_dimension(self, client, viewer, dimension, key):
        rows = stats(client, viewer, year="2025", by=dimension)
        expected = grouped(key)
        assert {r[dimension]: measures(r) for r in rows} == {k: totals(v) for k, v in expected.items()}

    def test_cost_by_funding_source_per_unit(self, client, viewer):
        rows = stats(client, viewer, year="2025", by=["unit", "funding_source"])
        expected = grouped(lambda a: (a.unit, a.funding))
        assert {(r["unit"], r["funding_source"]): r["cost_vnd"] for r in rows} == {
            k: sum(a.cost for a in v) for k, v in expected.items()}

    def test_participants_by_target_group(self, client, viewer):
        rows = stats(client, viewer, year="2025", by="target_group")
        expected: dict[str, list] = defaultdict(lambda: [0, 0, 0])
        for a in ACTIVITIES:
            if a.held_on.year == 2025:
                for code, m, f in a.groups:
                    expected[code][0] += 1
                    expected[code][1] += m or 0
                    expected[code][2] += f or 0
        got = {r["target_group"]: [r["activities"], r["participants_male"], r["participants_female"]] for r in rows}
        assert got == dict(expected)
        women = next(r for r in rows if r["target_group"] == "elderly")
        assert women["women_share"] == round(100 * 20 / 22, 2)

    def test_products_by_code(self, client, viewer):
        rows = stats(client, viewer, year="2025", by="product")
        expected: dict[str, int] = defaultdict(int)
        for a in ACTIVITIES:
            if a.held_on.year == 2025:
                for code, quantity in a.products:
                    expected[code] += quantity
        assert {r["product"]: r["products"] for r in rows} == dict(expected) == {
            "leaflet": 700, "poster": 10, "video_clip": 2}

    def test_a_ward_and_current_boundaries(self, client, viewer):
        rows = stats(client, viewer, year="2025", unit="p-duc-xuan")
        assert measures(rows[0]) == totals([a for a in ACTIVITIES if a.unit == "p-duc-xuan"
                                            and a.held_on.year == 2025])
        rows = stats(client, viewer, year="2025", by="unit", boundaries="current")
        assert not {r["unit"] for r in rows} & set(MERGED)
        merged = [a for a in ACTIVITIES if a.unit in {NEW_WARD, *MERGED} and a.held_on.year == 2025]
        assert measures(next(r for r in rows if r["unit"] == NEW_WARD)) == totals(merged)

    def test_csv_and_polling(self, client, session, viewer):
        r = client.get(f"{API}/statistics", params={"year": "2025", "by": "kind", "format": "csv"}, headers=viewer)
        table = list(csv.DictReader(io.StringIO(r.text)))
        assert list(table[0]) == ["year", "kind", *MEASURES]
        assert {t["kind"]: int(t["activities"]) for t in table} == {k: len(v) for k, v in grouped(
            lambda a: a.kind).items()}
        etag = r.headers["etag"]
        again = client.get(f"{API}/statistics", params={"year": "2025", "by": "kind", "format": "csv"},
                           headers={**viewer, "If-None-Match": etag})
        assert again.status_code == 304
        session.add(Activity(unit_id=unit(session, "hoi-nong-dan").id, held_on=date(2025, 8, 1), title="Tập huấn",
                             kind="training", channel="direct", task_group="1"))
        session.commit()
        changed = client.get(f"{API}/statistics", params={"year": "2025", "by": "kind", "format": "csv"},
                             headers={**viewer, "If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["etag"] != etag

    def test_bad_dimensions(self, client, viewer):
        r = client.get(f"{API}/statistics", params={"by": ["target_group", "product"]}, headers=viewer)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.by"
        assert client.get(f"{API}/statistics", params={"by": "colour"}, headers=viewer).status_code == 422
        assert client.get(f"{API}/statistics", params={"format": "sdmx"}, headers=viewer).status_code == 422
