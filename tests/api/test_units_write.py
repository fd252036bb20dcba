"""Units: who may create, change, close and delete them, and the rules of effective dating."""

from datetime import date

from sqlmodel import select

from app.models import Activity, AuditEntry, Unit
from tests.factories import login_headers, make_token, make_unit, make_user, unit

API = "/api/v1"


def _audits(session, resource_type, resource_id):
    session.rollback()  # a fresh view of what the app committed
    stmt = select(AuditEntry).where(AuditEntry.resource_type == resource_type,
                                    AuditEntry.resource_id == str(resource_id)).order_by(AuditEntry.id)
    return list(session.exec(stmt))


def _fields(response):
    return {e["field"] for e in response.json().get("errors", [])}


NEW_UNIT = {"code": "hoi-nguoi-cao-tuoi", "name_vi": "Hội Người cao tuổi thành phố", "name_en": "Elderly Association",
            "kind": "mass_org", "parent_code": "tp-bac-kan", "valid_from": "2024-01-01"}


class TestCreate:
    def test_only_staff_create_units(self, client, session):
        expected = {("admin", None): 201, ("coordinator", None): 201, ("officer", "p-song-cau"): 403,
                    ("viewer", None): 403}
        got = {}
        for n, (role, unit_code) in enumerate(expected):
            body = {**NEW_UNIT, "code": f"hoi-nct-{n}"}
            got[(role, unit_code)] = client.post(f"{API}/units", json=body,
                                                 headers=login_headers(session, role, unit_code)).status_code
        assert got == expected

    def test_read_only_or_unit_bound_tokens_cannot_create(self, client, session):
        coordinator = make_user(session, "coordinator")
        read_only = {"Authorization": f"Bearer {make_token(session, coordinator, scopes='read')}"}
        bound = {"Authorization": f"Bearer {make_token(session, coordinator, unit_code='p-song-cau')}"}
        assert client.post(f"{API}/units", json=NEW_UNIT, headers=read_only).status_code == 403
        assert client.post(f"{API}/units", json=NEW_UNIT, headers=bound).status_code == 403

    def test_create_returns_the_unit_with_etag_and_audit(self, client, session):
        r = client.post(f"{API}/units", json=NEW_UNIT, headers=login_headers(session))
        assert r.status_code == 201
        body = r.json()
        assert (body["code"], body["parent_code"], body["valid_from"], body["valid_to"]) == (
            "hoi-nguoi-cao-tuoi", "tp-bac-kan", "2024-01-01", None)
        assert r.headers["etag"] == f'"{body["id"]}.1"'
        assert r.headers["location"] == f"{API}/units/hoi-nguoi-cao-tuoi"
        [entry] = _audits(session, "unit", body["id"])
        assert entry.action == "create" and entry.before is None and entry.after["code"] == "hoi-nguoi-cao-tuoi"

    def test_code_is_unique_for_ever(self, client, session):
        make_unit(session, code="da-dong", valid_to=date(2023, 12, 31))
        r = client.post(f"{API}/units", json={**NEW_UNIT, "code": "da-dong"}, headers=login_headers(session))
        assert r.status_code == 409 and _fields(r) == {"body.code"}

    def test_official_code_is_unique_only_among_units_valid_on_the_same_dates(self, client, session):
        h = login_headers(session)
        ward = {"code": "p-moi", "name_vi": "Phường Mới", "kind": "ward", "official_code": "01837",
                "valid_from": "2025-07-01"}
        # Sông Cầu holds 01837 and is still open: the dates overlap.
        r = client.post(f"{API}/units", json=ward, headers=h)
        assert r.status_code == 409 and _fields(r) == {"body.official_code"}
        assert "p-song-cau" in r.json()["detail"]
        # Once Sông Cầu has closed, the code can be reused from the next day on.
        etag = client.get(f"{API}/units/p-song-cau", headers=h).headers["etag"]
        r = client.patch(f"{API}/units/p-song-cau", json={"valid_to": "2025-06-30"},
                         headers={**h, "If-Match": etag})
        assert r.status_code == 200
        assert client.post(f"{API}/units", json=ward, headers=h).status_code == 201
        # … but not by a unit that would overlap Sông Cầu's last day.
        early = {**ward, "code": "p-moi-2", "valid_from": "2025-06-30"}
        assert client.post(f"{API}/units", json=early, headers=h).status_code == 409
        found = client.get(f"{API}/units", params={"official_code": "01837", "on": "2025-08-01"}, headers=h).json()
        assert [u["code"] for u in found["items"]] == ["p-moi"]

    def test_bad_input_names_the_fields(self, client, session):
        h = login_headers(session)
        r = client.post(f"{API}/units", json={**NEW_UNIT, "code": "Có Dấu", "kind": "castle", "colour": "red"},
                        headers=h)
        assert r.status_code == 422
        assert {"body.code", "body.kind", "body.colour"} <= _fields(r)
        r = client.post(f"{API}/units", json={**NEW_UNIT, "parent_code": "khong-co", "valid_to": "2023-01-01"},
                        headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.parent_code", "body.valid_to"}
        r = client.post(f"{API}/units", json={**NEW_UNIT, "name_vi": "x" * 301}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.name_vi"}
        assert session.exec(select(Unit).where(Unit.code == "hoi-nguoi-cao-tuoi")).first() is None

    def test_idempotency_key_replays_and_creates_one_unit(self, client, session):
        h = {**login_headers(session), "Idempotency-Key": "unit-create-1"}
        first = client.post(f"{API}/units", json=NEW_UNIT, headers=h)
        second = client.post(f"{API}/units", json=NEW_UNIT, headers=h)
        assert first.status_code == second.status_code == 201
        assert second.json() == first.json() and second.headers["idempotent-replayed"] == "true"
        session.rollback()
        assert len(session.exec(select(Unit).where(Unit.code == NEW_UNIT["code"])).all()) == 1
        other = client.post(f"{API}/units", json={**NEW_UNIT, "code": "khac"}, headers=h)
        assert other.status_code == 422


class TestUpdate:
    def test_patch_with_if_match_and_audit(self, client, session):
        h = login_headers(session)
        r = client.get(f"{API}/units/hoi-lhpn", headers=h)
        etag, version = r.headers["etag"], r.json()["version"]
        r = client.patch(f"{API}/units/hoi-lhpn", json={"name_en": "Women's Union"}, headers={**h, "If-Match": etag})
        assert r.status_code == 200 and r.json()["version"] == version + 1
        assert r.headers["etag"] != etag
        # A second client still holding the old ETag loses, and the first change stands.
        r = client.patch(f"{API}/units/hoi-lhpn", json={"name_en": "Other"}, headers={**h, "If-Match": etag})
        assert r.status_code == 412
        assert client.get(f"{API}/units/hoi-lhpn", headers=h).json()["name_en"] == "Women's Union"
        entry = _audits(session, "unit", unit(session, "hoi-lhpn").id)[-1]
        assert entry.action == "update"
        assert entry.before["name_en"] == "Women's Union of the city" and entry.after["name_en"] == "Women's Union"

    def test_officer_and_viewer_cannot_change_even_their_own_unit(self, client, session):
        for role, code in (("officer", "p-song-cau"), ("viewer", None)):
            h = login_headers(session, role, code)
            r = client.patch(f"{API}/units/p-song-cau", json={"name_en": "x"}, headers=h)
            assert r.status_code == 403

    def test_closing_refuses_data_dated_after_the_last_day(self, client, session):
        h = login_headers(session)
        session.add(Activity(unit_id=unit(session, "x-nong-thuong").id, held_on=date(2025, 9, 1),
                             title="Nói chuyện chuyên đề", kind="talk", channel="direct", task_group="tg1"))
        session.commit()
        r = client.patch(f"{API}/units/x-nong-thuong", json={"valid_to": "2025-06-30"}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.valid_to"}
        assert "1 activities dated after 2025-06-30" in r.json()["errors"][0]["message"]
        assert client.patch(f"{API}/units/x-nong-thuong", json={"valid_to": "2025-09-30"}, headers=h).status_code == 200

    def test_parent_cannot_be_below_the_unit(self, client, session):
        h = login_headers(session)
        r = client.patch(f"{API}/units/p-song-cau", json={"parent_code": "loa-p-song-cau"}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.parent_code"}
        r = client.patch(f"{API}/units/p-song-cau", json={"name_vi": None}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.name_vi"}


class TestDelete:
    def test_unit_without_records_is_deleted(self, client, session):
        h = login_headers(session)
        created = client.post(f"{API}/units", json=NEW_UNIT, headers=h)
        stale = created.headers["etag"]
        client.patch(f"{API}/units/{NEW_UNIT['code']}", json={"name_en": "Elderly"}, headers=h)
        assert client.delete(f"{API}/units/{NEW_UNIT['code']}", headers={**h, "If-Match": stale}).status_code == 412
        assert client.delete(f"{API}/units/{NEW_UNIT['code']}", headers=h).status_code == 204
        assert client.get(f"{API}/units/{NEW_UNIT['code']}", headers=h).status_code == 404
        entry = _audits(session, "unit", created.json()["id"])[-1]
        assert entry.action == "delete" and entry.before["code"] == NEW_UNIT["code"] and entry.after is None

    def test_unit_with_records_is_closed_not_deleted(self, client, session):
        h = login_headers(session)
        make_user(session, "officer", "p-xuat-hoa")
        r = client.delete(f"{API}/units/p-xuat-hoa", headers=h)
        assert r.status_code == 409 and "Close it instead" in r.json()["detail"]
        assert "users" in r.json()["detail"] and "units below or run by it" in r.json()["detail"]
        assert client.get(f"{API}/units/p-xuat-hoa", headers=h).status_code == 200
        for role, code in (("officer", "p-xuat-hoa"), ("viewer", None)):
            assert client.delete(f"{API}/units/p-xuat-hoa", headers=login_headers(session, role, code)).status_code \
                == 403


class TestReadHelpers:
    def test_active_in_a_year(self, client, session):
        make_unit(session, code="cu-2022", valid_to=date(2022, 12, 31))
        make_unit(session, code="moi-2026", valid_from=date(2026, 1, 1))
        h = login_headers(session, "viewer")
        codes = lambda year: {u["code"] for u in client.get(  # noqa: E731
            f"{API}/units", params={"active_in": year, "limit": 1000}, headers=h).json()["items"]}
        assert "cu-2022" in codes(2022) and "moi-2026" not in codes(2022)
        assert "cu-2022" not in codes(2026) and "moi-2026" in codes(2026)
        session.rollback()
        all_open_2024 = [u for u in session.exec(select(Unit)) if u.valid_from.year <= 2024
                         and (u.valid_to is None or u.valid_to.year >= 2024)]
        assert len(codes(2024)) == len(all_open_2024)
