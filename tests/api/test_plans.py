"""Plans: reading them with their phases; coordinators record, change and delete them."""

from sqlmodel import select

from app.models import AuditEntry, Plan, PlanPhase
from tests.factories import login_headers, make_token, make_user

API = "/api/v1"
WARD_PLAN = {
    "code": "KH-PBK-2025", "number": "15/KH-UBND", "title_vi": "Kế hoạch truyền thông về bình đẳng giới phường Bắc Kạn",
    "issuer_vi": "Ủy ban nhân dân phường Bắc Kạn", "issued_on": "2025-09-10", "start_year": 2025, "end_year": 2030,
    "phases": [{"name_vi": "Giai đoạn 2025-2030", "start_year": 2025, "end_year": 2030, "review_year": 2030}],
}


def _fields(response):
    return {e["field"] for e in response.json().get("errors", [])}


class TestRead:
    def test_the_city_plan_with_phases_and_indicators(self, client, session):
        h = login_headers(session, "viewer")
        page = client.get(f"{API}/plans", headers=h).json()
        assert page["total"] == 1
        plan = client.get(f"{API}/plans/KH-TPBK-2022", headers=h)
        assert plan.status_code == 200 and plan.headers["etag"]
        body = plan.json()
        assert [(p["start_year"], p["end_year"], p["review_year"]) for p in body["phases"]] == [
            (2022, 2025, 2025), (2026, 2030, 2030)]
        assert body["indicator_codes"] == ["IND-01", "IND-02", "IND-03", "IND-04", "IND-05"]
        assert body["issuer_unit_code"] == "tp-bac-kan"
        assert client.get(f"{API}/plans/KH-KHONG", headers=h).status_code == 404
        assert client.get(f"{API}/plans", params={"year": 2031}, headers=h).json()["total"] == 0


class TestWrite:
    def test_who_may_create(self, client, session):
        expected = {"admin": 201, "coordinator": 201, "officer": 403, "viewer": 403}
        got = {}
        for n, role in enumerate(expected):
            h = login_headers(session, role, "p-song-cau" if role == "officer" else None)
            got[role] = client.post(f"{API}/plans", json={**WARD_PLAN, "code": f"KH-{n}"}, headers=h).status_code
        assert got == expected
        read_only = make_token(session, make_user(session, "coordinator"), scopes="read")
        r = client.post(f"{API}/plans", json=WARD_PLAN, headers={"Authorization": f"Bearer {read_only}"})
        assert r.status_code == 403

    def test_create_patch_delete_with_audit(self, client, session):
        h = login_headers(session)
        r = client.post(f"{API}/plans", json=WARD_PLAN, headers=h)
        assert r.status_code == 201, r.text
        plan_id, etag = r.json()["id"], r.headers["etag"]
        assert r.json()["phases"][0]["name_vi"] == "Giai đoạn 2025-2030"
        new_phases = [{"name_vi": "Giai đoạn 2025-2027", "start_year": 2025, "end_year": 2027, "review_year": 2027},
                      {"name_vi": "Giai đoạn 2028-2030", "start_year": 2028, "end_year": 2030, "review_year": 2030}]
        r = client.patch(f"{API}/plans/KH-PBK-2025", json={"phases": new_phases, "number": "16/KH-UBND"},
                         headers={**h, "If-Match": etag})
        assert r.status_code == 200 and r.json()["version"] == 2 and len(r.json()["phases"]) == 2
        assert client.patch(f"{API}/plans/KH-PBK-2025", json={"number": "x"},
                            headers={**h, "If-Match": etag}).status_code == 412
        assert client.get(f"{API}/plans/KH-PBK-2025", headers=h).json()["number"] == "16/KH-UBND"
        assert client.delete(f"{API}/plans/KH-PBK-2025", headers=h).status_code == 204
        session.rollback()
        assert session.exec(select(PlanPhase).where(PlanPhase.plan_id == plan_id)).all() == []
        entries = session.exec(select(AuditEntry).where(AuditEntry.resource_type == "plan",
                                                        AuditEntry.resource_id == str(plan_id))
                               .order_by(AuditEntry.id)).all()
        assert [e.action for e in entries] == ["create", "update", "delete"]
        assert len(entries[1].before["phases"]) == 1 and len(entries[1].after["phases"]) == 2
        assert entries[1].before["number"] == "15/KH-UBND" and entries[1].after["number"] == "16/KH-UBND"

    def test_a_plan_with_indicators_cannot_be_deleted(self, client, session):
        h = login_headers(session)
        r = client.delete(f"{API}/plans/KH-TPBK-2022", headers=h)
        assert r.status_code == 409 and "5 indicators" in r.json()["detail"]
        session.rollback()
        assert session.exec(select(Plan).where(Plan.code == "KH-TPBK-2022")).one()

    def test_validation_names_fields(self, client, session):
        h = login_headers(session)
        r = client.post(f"{API}/plans", json={**WARD_PLAN, "code": "KH-TPBK-2022"}, headers=h)
        assert r.status_code == 409 and _fields(r) == {"body.code"}
        r = client.post(f"{API}/plans", json={**WARD_PLAN, "end_year": 2024}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.end_year"}
        bad_phases = [{"name_vi": "A", "start_year": 2025, "end_year": 2028, "review_year": 2028},
                      {"name_vi": "B", "start_year": 2027, "end_year": 2031, "review_year": 2040}]
        r = client.post(f"{API}/plans", json={**WARD_PLAN, "phases": bad_phases, "issuer_unit_code": "khong-co"},
                        headers=h)
        assert r.status_code == 422
        assert _fields(r) == {"body.phases.1.start_year", "body.phases.1.review_year", "body.issuer_unit_code"}
        r = client.post(f"{API}/plans", json={**WARD_PLAN, "code": "KH/1", "extra": 1}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.code", "body.extra"}
        # The city plan has targets to 2030: it cannot end earlier.
        r = client.patch(f"{API}/plans/KH-TPBK-2022", json={"end_year": 2028, "phases": []}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.end_year"}
        session.rollback()
        assert session.exec(select(Plan)).all()[0].end_year == 2030
        assert len(session.exec(select(PlanPhase)).all()) == 2

    def test_idempotent_create(self, client, session):
        h = {**login_headers(session), "Idempotency-Key": "plan-1"}
        a = client.post(f"{API}/plans", json=WARD_PLAN, headers=h)
        b = client.post(f"{API}/plans", json=WARD_PLAN, headers=h)
        assert a.status_code == b.status_code == 201 and a.json() == b.json()
        session.rollback()
        assert len(session.exec(select(Plan).where(Plan.code == WARD_PLAN["code"])).all()) == 1
