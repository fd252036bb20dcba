"""Succession events: the 2025 reform as data (merge, split, rename, dissolve, transfer) and unit lineage."""

from datetime import date

from sqlmodel import select

from app.models import AuditEntry, SuccessionEvent, SuccessionLink, Unit
from tests.factories import login_headers, make_unit

API = "/api/v1"
BASIS = "Nghị quyết số 1683/NQ-UBTVQH15 ngày 16/6/2025 của Ủy ban Thường vụ Quốc hội"
MERGER = {
    "kind": "merge", "effective_on": "2025-07-01", "legal_basis": BASIS,
    "predecessors": ["p-song-cau", "p-phung-chi-kien"],
    "new_units": [{"code": "p-bac-kan", "official_code": "01843", "name_vi": "Phường Bắc Kạn",
                   "name_en": "Bắc Kạn ward", "kind": "ward", "parent_code": "tinh-bac-kan"}],
}


def _fields(response):
    return {e["field"] for e in response.json().get("errors", [])}


def _unit(client, h, code):
    return client.get(f"{API}/units/{code}", headers=h).json()


class TestMerger2025:
    def test_two_wards_merge_into_a_new_ward_from_1_july_2025(self, client, session):
        h = login_headers(session)
        r = client.post(f"{API}/succession-events", json=MERGER, headers=h)
        assert r.status_code == 201, r.text
        event = r.json()
        assert (event["kind"], event["effective_on"], event["legal_basis"]) == ("merge", "2025-07-01", BASIS)
        assert event["predecessors"] == ["p-phung-chi-kien", "p-song-cau"] and event["successors"] == ["p-bac-kan"]
        assert r.headers["etag"] == f'"{event["id"]}.1"'

        for code in ("p-song-cau", "p-phung-chi-kien"):
            old = _unit(client, h, code)
            assert old["valid_to"] == "2025-06-30" and old["successor_codes"] == ["p-bac-kan"]
        new = _unit(client, h, "p-bac-kan")
        assert (new["valid_from"], new["valid_to"], new["official_code"]) == ("2025-07-01", None, "01843")
        assert new["predecessor_codes"] == ["p-phung-chi-kien", "p-song-cau"]

        # The official code 01843 names Phùng Chí Kiên until 30/06/2025 and Bắc Kạn from 01/07/2025.
        def by_official(day):
            found = client.get(f"{API}/units", params={"official_code": "01843", "on": day}, headers=h).json()
            return [u["code"] for u in found["items"]]
        assert by_official("2025-06-30") == ["p-phung-chi-kien"]
        assert by_official("2025-07-01") == ["p-bac-kan"]

        lineage = client.get(f"{API}/units/p-song-cau/lineage", headers=h).json()
        assert [(u["code"], u["generation"]) for u in lineage["successors"]] == [("p-bac-kan", 1)]
        assert lineage["predecessors"] == [] and [e["id"] for e in lineage["events"]] == [event["id"]]
        back = client.get(f"{API}/units/p-bac-kan/lineage", headers=h).json()
        assert [u["code"] for u in back["predecessors"]] == ["p-phung-chi-kien", "p-song-cau"]

        session.rollback()
        audits = session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()
        by_resource = {(a.resource_type, a.action, a.resource_id): a for a in audits}
        closed = by_resource[("unit", "update", str(session.exec(
            select(Unit.id).where(Unit.code == "p-song-cau")).one()))]
        assert closed.before["valid_to"] is None and closed.after["valid_to"] == "2025-06-30"
        created = by_resource[("succession_event", "create", str(event["id"]))]
        assert created.after["predecessors"] == ["p-phung-chi-kien", "p-song-cau"]
        assert created.after["successors"] == ["p-bac-kan"] and created.after["effective_on"] == "2025-07-01"
        assert ("unit", "create", str(new["id"])) in by_resource

    def test_an_existing_successor_and_a_chain_of_events(self, client, session):
        h = login_headers(session)
        # Renamed in 2024, then merged in 2025: the lineage follows both events.
        client.post(f"{API}/units", json={"code": "p-nct-2024", "name_vi": "Phường NCT", "kind": "ward",
                                          "valid_from": "2024-01-01"}, headers=h)
        r = client.post(f"{API}/succession-events", headers=h, json={
            "kind": "rename", "effective_on": "2024-01-01", "legal_basis": "Quyết định thử",
            "predecessors": ["p-nguyen-thi-minh-khai"], "successors": ["p-nct-2024"]})
        assert r.status_code == 201, r.text
        r = client.post(f"{API}/succession-events", headers=h, json={
            "kind": "merge", "effective_on": "2025-07-01", "legal_basis": BASIS,
            "predecessors": ["p-nct-2024", "p-huyen-tung"], "new_units": [
                {"code": "p-duc-xuan-2025", "name_vi": "Phường Đức Xuân", "kind": "ward", "official_code": "01841"}]})
        assert r.status_code == 201, r.text
        assert _unit(client, h, "p-nguyen-thi-minh-khai")["valid_to"] == "2023-12-31"
        lineage = client.get(f"{API}/units/p-nguyen-thi-minh-khai/lineage", headers=h).json()
        assert [(u["code"], u["generation"]) for u in lineage["successors"]] == [
            ("p-nct-2024", 1), ("p-duc-xuan-2025", 2)]
        assert [e["kind"] for e in lineage["events"]] == ["rename", "merge"]
        back = client.get(f"{API}/units/p-duc-xuan-2025/lineage", headers=h).json()
        assert [(u["code"], u["generation"]) for u in back["predecessors"]] == [
            ("p-huyen-tung", 1), ("p-nct-2024", 1), ("p-nguyen-thi-minh-khai", 2)]
        listed = client.get(f"{API}/succession-events", params={"unit": "p-nct-2024"}, headers=h).json()
        assert listed["total"] == 2
        assert client.get(f"{API}/succession-events", params={"kind": "rename"}, headers=h).json()["total"] == 1

    def test_idempotency_key_records_one_event(self, client, session):
        h = {**login_headers(session), "Idempotency-Key": "merger-2025"}
        first = client.post(f"{API}/succession-events", json=MERGER, headers=h)
        again = client.post(f"{API}/succession-events", json=MERGER, headers=h)
        assert first.status_code == again.status_code == 201 and first.json() == again.json()
        session.rollback()
        assert len(session.exec(select(SuccessionEvent)).all()) == 1
        assert len(session.exec(select(Unit).where(Unit.code == "p-bac-kan")).all()) == 1


class TestRules:
    def test_only_staff_record_events(self, client, session):
        for role, code in (("officer", "p-song-cau"), ("viewer", None)):
            r = client.post(f"{API}/succession-events", json=MERGER, headers=login_headers(session, role, code))
            assert r.status_code == 403
        session.rollback()
        assert session.exec(select(Unit).where(Unit.code == "p-song-cau")).one().valid_to is None

    def test_each_kind_has_its_shape(self, client, session):
        h = login_headers(session)
        base = {"effective_on": "2025-07-01", "legal_basis": BASIS}
        cases = [
            ({"kind": "merge", "predecessors": ["p-song-cau"], "successors": ["p-xuat-hoa"]}, {"body.predecessors"}),
            ({"kind": "split", "predecessors": ["p-song-cau"], "successors": ["p-xuat-hoa"]}, {"body.successors"}),
            ({"kind": "rename", "predecessors": ["p-song-cau", "p-duc-xuan"], "successors": []},
             {"body.predecessors", "body.successors"}),
            ({"kind": "dissolve", "predecessors": ["p-song-cau"], "successors": ["p-xuat-hoa"]}, {"body.successors"}),
            ({"kind": "transfer", "predecessors": [], "successors": ["p-xuat-hoa"]}, {"body.predecessors"}),
            ({"kind": "merge", "predecessors": ["p-song-cau", "p-song-cau"], "successors": ["p-xuat-hoa"]},
             {"body.predecessors.1"}),
            ({"kind": "merge", "predecessors": ["p-song-cau", "khong-co"], "successors": ["p-xuat-hoa"]},
             {"body.predecessors.1"}),
            ({"kind": "fusion", "predecessors": ["p-song-cau"], "successors": []}, {"body.kind"}),
        ]
        for body, fields in cases:
            r = client.post(f"{API}/succession-events", json={**base, **body}, headers=h)
            assert r.status_code == 422, body
            assert _fields(r) == fields, body
        session.rollback()
        assert session.exec(select(SuccessionEvent)).all() == []
        assert session.exec(select(Unit).where(Unit.valid_to.is_not(None))).all() == []

    def test_dates_must_line_up(self, client, session):
        h = login_headers(session)
        make_unit(session, code="p-bat-dau-muon", kind="ward", valid_from=date(2025, 8, 1))
        make_unit(session, code="p-dong-som", kind="ward", valid_to=date(2025, 3, 31))
        base = {"kind": "merge", "effective_on": "2025-07-01", "legal_basis": BASIS}
        # A successor that starts after the effective date.
        r = client.post(f"{API}/succession-events", headers=h, json={
            **base, "predecessors": ["p-song-cau", "p-xuat-hoa"], "successors": ["p-bat-dau-muon"]})
        assert r.status_code == 422 and _fields(r) == {"body.successors.0"}
        # A predecessor that closed before the day before the effective date.
        r = client.post(f"{API}/succession-events", headers=h, json={
            **base, "predecessors": ["p-song-cau", "p-dong-som"], "new_units": [
                {"code": "p-x", "name_vi": "Phường X", "kind": "ward"}]})
        assert r.status_code == 422 and _fields(r) == {"body.predecessors.1"}
        # A new unit that would start after the event.
        r = client.post(f"{API}/succession-events", headers=h, json={
            **base, "predecessors": ["p-song-cau", "p-xuat-hoa"], "new_units": [
                {"code": "p-x", "name_vi": "Phường X", "kind": "ward", "valid_from": "2025-07-02"}]})
        assert r.status_code == 422 and _fields(r) == {"body.new_units.0.valid_from"}
        session.rollback()
        assert session.exec(select(Unit).where(Unit.code == "p-song-cau")).one().valid_to is None
        assert session.exec(select(Unit).where(Unit.code == "p-x")).first() is None

    def test_a_unit_ends_once(self, client, session):
        h = login_headers(session)
        assert client.post(f"{API}/succession-events", json=MERGER, headers=h).status_code == 201
        r = client.post(f"{API}/succession-events", headers=h, json={
            "kind": "dissolve", "effective_on": "2025-07-01", "legal_basis": BASIS, "predecessors": ["p-song-cau"]})
        assert r.status_code == 422 and _fields(r) == {"body.predecessors.0"}
        # A closed predecessor's end date is held by the event.
        r = client.patch(f"{API}/units/p-song-cau", json={"valid_to": None}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.valid_to"}

    def test_dissolve_closes_without_successor(self, client, session):
        h = login_headers(session)
        r = client.post(f"{API}/succession-events", headers=h, json={
            "kind": "dissolve", "effective_on": "2025-07-01", "legal_basis": "Luật số 72/2025/QH15",
            "predecessors": ["phong-ldtbxh", "phong-tckh"]})
        assert r.status_code == 201 and r.json()["successors"] == []
        assert _unit(client, h, "phong-tckh")["valid_to"] == "2025-06-30"
        assert _unit(client, h, "phong-tckh")["successor_codes"] == []


class TestEditAndDelete:
    def test_patch_and_delete_with_if_match(self, client, session):
        h = login_headers(session)
        created = client.post(f"{API}/succession-events", json=MERGER, headers=h)
        event_id, etag = created.json()["id"], created.headers["etag"]
        r = client.patch(f"{API}/succession-events/{event_id}", json={"note": "Theo Nghị quyết của UBTVQH"},
                         headers={**h, "If-Match": etag})
        assert r.status_code == 200 and r.json()["note"] == "Theo Nghị quyết của UBTVQH" and r.json()["version"] == 2
        assert client.patch(f"{API}/succession-events/{event_id}", json={"predecessors": []},
                            headers=h).status_code == 422
        assert client.delete(f"{API}/succession-events/{event_id}", headers={**h, "If-Match": etag}).status_code == 412
        officer = login_headers(session, "officer", "p-song-cau")
        assert client.delete(f"{API}/succession-events/{event_id}", headers=officer).status_code == 403
        r = client.delete(f"{API}/succession-events/{event_id}", headers={**h, "If-Match": r.headers["etag"]})
        assert r.status_code == 204
        assert client.get(f"{API}/succession-events/{event_id}", headers=h).status_code == 404
        # The predecessors stay closed (documented); the links are gone.
        old = _unit(client, h, "p-song-cau")
        assert old["valid_to"] == "2025-06-30" and old["successor_codes"] == []
        session.rollback()
        assert session.exec(select(SuccessionLink)).all() == []
        deleted = session.exec(select(AuditEntry).where(AuditEntry.resource_type == "succession_event",
                                                        AuditEntry.action == "delete")).one()
        assert deleted.before["note"] == "Theo Nghị quyết của UBTVQH" and deleted.after is None
        # Now the old ward can be reopened.
        assert client.patch(f"{API}/units/p-song-cau", json={"valid_to": None}, headers=h).status_code == 200
