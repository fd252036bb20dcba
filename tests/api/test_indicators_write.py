"""Indicators and their targets: coordinators add and edit them, with ETags and an audit trail."""

from sqlmodel import select

from app.models import AuditEntry, Indicator, IndicatorTarget
from tests.factories import login_headers

API = "/api/v1"
NEW = {"plan": "KH-TPBK-2022", "code": "IND-06",
       "name_vi": "Tỷ lệ trường học tổ chức hoạt động ngoại khóa về bình đẳng giới",
       "name_en": "Share of schools holding extracurricular gender-equality activities", "measure": "share_of_units",
       "method": "units_with_law_session", "sort_order": 6}
TARGET = {"value": 80, "source_document": "Kế hoạch số 45/KH-UBND ngày 01/3/2026", "note": "Mục tiêu bổ sung"}


def _fields(response):
    return {e["field"] for e in response.json().get("errors", [])}


def _audit(session, resource_type):
    session.rollback()
    return session.exec(select(AuditEntry).where(AuditEntry.resource_type == resource_type)
                        .order_by(AuditEntry.id)).all()


class TestIndicators:
    def test_who_may_create_and_change(self, client, session):
        for role, code in (("officer", "phong-ldtbxh"), ("viewer", None)):
            h = login_headers(session, role, code)
            assert client.post(f"{API}/indicators", json=NEW, headers=h).status_code == 403
            assert client.patch(f"{API}/indicators/IND-01", json={"name_en": "x"}, headers=h).status_code == 403
            assert client.put(f"{API}/indicators/IND-01/targets/2026", json=TARGET, headers=h).status_code == 403
            assert client.delete(f"{API}/indicators/IND-01/targets/2026", headers=h).status_code == 403
            assert client.delete(f"{API}/indicators/IND-01", headers=h).status_code == 403
        session.rollback()
        assert session.exec(select(Indicator).where(Indicator.code == "IND-06")).first() is None

    def test_create_patch_delete(self, client, session):
        h = login_headers(session)
        r = client.post(f"{API}/indicators", json=NEW, headers=h)
        assert r.status_code == 201, r.text
        assert (r.json()["plan_code"], r.json()["targets"]) == ("KH-TPBK-2022", [])
        etag = r.headers["etag"]
        r = client.patch(f"{API}/indicators/IND-06", json={"name_en": "Schools"}, headers={**h, "If-Match": etag})
        assert r.status_code == 200 and r.json()["version"] == 2
        assert client.patch(f"{API}/indicators/IND-06", json={"name_en": "Lost"},
                            headers={**h, "If-Match": etag}).status_code == 412
        assert client.get(f"{API}/indicators/IND-06", headers=h).json()["name_en"] == "Schools"
        listed = client.get(f"{API}/indicators", params={"plan": "KH-TPBK-2022"}, headers=h).json()
        assert [i["code"] for i in listed["items"]][-1] == "IND-06"
        assert client.delete(f"{API}/indicators/IND-06", headers={**h, "If-Match": r.headers["etag"]}).status_code \
            == 204
        assert client.get(f"{API}/indicators/IND-06", headers=h).status_code == 404
        entries = _audit(session, "indicator")
        assert [e.action for e in entries] == ["create", "update", "delete"]
        assert entries[1].before["name_en"] == NEW["name_en"] and entries[1].after["name_en"] == "Schools"

    def test_validation(self, client, session):
        h = login_headers(session)
        r = client.post(f"{API}/indicators", json={**NEW, "code": "IND-01"}, headers=h)
        assert r.status_code == 409 and _fields(r) == {"body.code"}
        r = client.post(f"{API}/indicators", json={**NEW, "plan": "KH-KHONG"}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.plan"}
        r = client.post(f"{API}/indicators", json={**NEW, "method": "guess", "baseline_year": 2025}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.method", "body.baseline_value"}
        r = client.post(f"{API}/indicators", json={**NEW, "method": "awareness_change"}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.measure"}
        r = client.post(f"{API}/indicators", json={**NEW, "baseline_year": 2019, "baseline_value": 1,
                                                   "measure": "percent", "name_vi": ""}, headers=h)
        assert r.status_code == 422 and {"body.measure", "body.name_vi"} <= _fields(r)
        r = client.patch(f"{API}/indicators/IND-03", json={"baseline_year": 2035}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.baseline_year"}

    def test_idempotent_create(self, client, session):
        h = {**login_headers(session), "Idempotency-Key": "ind-06"}
        a, b = (client.post(f"{API}/indicators", json=NEW, headers=h) for _ in range(2))
        assert a.status_code == b.status_code == 201 and a.json() == b.json()
        session.rollback()
        assert len(session.exec(select(Indicator).where(Indicator.code == "IND-06")).all()) == 1


class TestTargets:
    def test_put_creates_then_replaces_a_year_target(self, client, session):
        h = login_headers(session)
        before = {t["year"]: t for t in client.get(f"{API}/indicators/IND-05/targets", headers=h).json()}
        assert before[2027]["interpolated"] and before[2027]["value"] == 97
        ind_etag = client.get(f"{API}/indicators/IND-05", headers=h).headers["etag"]

        r = client.put(f"{API}/indicators/IND-05/targets/2027", json={**TARGET, "value": 99}, headers=h)
        assert r.status_code == 201
        body = r.json()
        assert (body["value"], body["source_document"], body["version"]) == (99, TARGET["source_document"], 1)
        etag = r.headers["etag"]
        after = {t["year"]: t for t in client.get(f"{API}/indicators/IND-05/targets", headers=h).json()}
        assert not after[2027]["interpolated"] and after[2027]["value"] == 99
        # 2026 lies between 95 (2025) and 99 (2027).
        assert after[2026]["value"] == (95 + 99) / 2
        # The indicator's representation changed, so its ETag did too.
        assert client.get(f"{API}/indicators/IND-05", headers=h).headers["etag"] != ind_etag

        r = client.put(f"{API}/indicators/IND-05/targets/2027", json={**TARGET, "value": 98},
                       headers={**h, "If-Match": etag})
        assert r.status_code == 200 and r.json()["version"] == 2
        # A stale If-Match loses and the first change stands.
        r = client.put(f"{API}/indicators/IND-05/targets/2027", json={**TARGET, "value": 50},
                       headers={**h, "If-Match": etag})
        assert r.status_code == 412
        got = client.get(f"{API}/indicators/IND-05/targets/2027", headers=h)
        assert got.json()["value"] == 98 and got.headers["etag"] != etag

        entries = _audit(session, "indicator_target")
        assert [e.action for e in entries] == ["create", "update"]
        assert entries[0].before is None and entries[0].after["value"] == 99
        assert entries[1].before["value"] == 99 and entries[1].after["value"] == 98

    def test_delete_falls_back_on_the_trajectory(self, client, session):
        h = login_headers(session)
        etag = client.get(f"{API}/indicators/IND-04/targets/2025", headers=h).headers["etag"]
        assert client.delete(f"{API}/indicators/IND-04/targets/2025", headers={**h, "If-Match": '"0.0"'}).status_code \
            == 412
        assert client.delete(f"{API}/indicators/IND-04/targets/2025", headers={**h, "If-Match": etag}).status_code \
            == 204
        assert client.get(f"{API}/indicators/IND-04/targets/2025", headers=h).status_code == 404
        assert client.delete(f"{API}/indicators/IND-04/targets/2025", headers=h).status_code == 404
        milestones = client.get(f"{API}/indicators/IND-04", headers=h).json()["milestones"]
        assert [m["year"] for m in milestones] == [2030]
        [entry] = _audit(session, "indicator_target")
        assert entry.action == "delete" and entry.before["value"] == 70 and entry.before["qualifier"] == "pilot"

    def test_target_validation(self, client, session):
        h = login_headers(session)
        r = client.put(f"{API}/indicators/IND-01/targets/2031", json=TARGET, headers=h)
        assert r.status_code == 422 and _fields(r) == {"path.year"}
        r = client.put(f"{API}/indicators/IND-01/targets/2026", json={**TARGET, "value": 120}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.value"}
        r = client.put(f"{API}/indicators/IND-03/targets/2028", json={**TARGET, "value": 12, "value_max": 10},
                       headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.value_max"}
        r = client.put(f"{API}/indicators/IND-01/targets/2026", json={"value": 90}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.source_document"}
        # If-Match on a year with no stored target cannot match.
        r = client.put(f"{API}/indicators/IND-02/targets/2024", json=TARGET, headers={**h, "If-Match": "*"})
        assert r.status_code == 412
        session.rollback()
        ind02 = session.exec(select(Indicator).where(Indicator.code == "IND-02")).one()
        assert session.exec(select(IndicatorTarget).where(IndicatorTarget.indicator_id == ind02.id,
                                                          IndicatorTarget.year == 2024)).first() is None
