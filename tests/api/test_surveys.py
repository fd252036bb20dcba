"""Awareness survey rounds and results: coordinators record them; one baseline per area."""

from sqlmodel import select

from app.models import AuditEntry, SurveyResult, SurveyRound
from tests.factories import login_headers, make_token, make_user

API = "/api/v1"
BASELINE = {
    "year": 2025, "name": "Khảo sát nhận thức về bình đẳng giới năm 2025", "conducted_by": "Phòng LĐ-TB&XH",
    "conducted_on": "2025-10-15", "is_baseline": True,
    "results": [{"target_group": "public", "score": 52.5, "respondents": 400},
                {"target_group": "youth", "score": 61, "respondents": 150},
                {"target_group": "ethnic_minorities", "score": 44.2, "respondents": 120}],
}


def _fields(response):
    return {e["field"] for e in response.json().get("errors", [])}


class TestSurveys:
    def test_who_may_write(self, client, session):
        for role, code in (("officer", "phong-ldtbxh"), ("viewer", None)):
            assert client.post(f"{API}/surveys", json=BASELINE, headers=login_headers(session, role, code)) \
                .status_code == 403
        read_only = make_token(session, make_user(session, "coordinator"), scopes="read")
        assert client.post(f"{API}/surveys", json=BASELINE, headers={"Authorization": f"Bearer {read_only}"}) \
            .status_code == 403
        h = login_headers(session)
        created = client.post(f"{API}/surveys", json=BASELINE, headers=h).json()
        officer = login_headers(session, "officer", "phong-ldtbxh")
        assert client.patch(f"{API}/surveys/{created['id']}", json={"note": "x"}, headers=officer).status_code == 403
        assert client.delete(f"{API}/surveys/{created['id']}", headers=officer).status_code == 403
        assert client.get(f"{API}/surveys/{created['id']}", headers=officer).status_code == 200

    def test_create_read_with_results(self, client, session):
        h = login_headers(session)
        r = client.post(f"{API}/surveys", json=BASELINE, headers=h)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["unit_code"] is None and body["is_baseline"] and body["version"] == 1
        assert sorted((x["target_group"], x["score"], x["respondents"]) for x in body["results"]) == sorted(
            (x["target_group"], x["score"], x["respondents"]) for x in BASELINE["results"])
        follow = {**BASELINE, "year": 2026, "name": "Khảo sát năm 2026", "conducted_on": "2026-10-10",
                  "is_baseline": False, "unit": "p-song-cau",
                  "results": [{"target_group": "public", "score": 58}]}
        assert client.post(f"{API}/surveys", json=follow, headers=h).status_code == 201
        assert client.get(f"{API}/surveys", params={"year": 2025}, headers=h).json()["total"] == 1
        baseline = client.get(f"{API}/surveys", params={"baseline": True}, headers=h).json()
        assert [s["year"] for s in baseline["items"]] == [2025]
        assert [s["year"] for s in client.get(f"{API}/surveys", params={"baseline": False}, headers=h)
                .json()["items"]] == [2026]
        assert client.get(f"{API}/surveys", params={"unit": "p-song-cau"}, headers=h).json()["total"] == 1
        one = client.get(f"{API}/surveys/{body['id']}", headers=h)
        assert one.headers["etag"] == r.headers["etag"] and one.json()["name"] == BASELINE["name"]
        assert client.get(f"{API}/surveys/999999", headers=h).status_code == 404

    def test_one_baseline_per_area(self, client, session):
        h = login_headers(session)
        assert client.post(f"{API}/surveys", json=BASELINE, headers=h).status_code == 201
        r = client.post(f"{API}/surveys", json={**BASELINE, "name": "Lần hai"}, headers=h)
        assert r.status_code == 409 and _fields(r) == {"body.is_baseline"}
        # Another area may have its own baseline.
        ward = client.post(f"{API}/surveys", json={**BASELINE, "unit": "p-duc-xuan"}, headers=h)
        assert ward.status_code == 201
        other = client.post(f"{API}/surveys", json={**BASELINE, "is_baseline": False, "year": 2026,
                                                    "conducted_on": None}, headers=h).json()
        r = client.patch(f"{API}/surveys/{other['id']}", json={"is_baseline": True}, headers=h)
        assert r.status_code == 409 and _fields(r) == {"body.is_baseline"}
        session.rollback()
        assert len(session.exec(select(SurveyRound).where(SurveyRound.is_baseline.is_(True))).all()) == 2

    def test_patch_replaces_results_with_if_match_and_audit(self, client, session):
        h = login_headers(session)
        r = client.post(f"{API}/surveys", json=BASELINE, headers=h)
        sid, etag = r.json()["id"], r.headers["etag"]
        # Without results, the results stay.
        r = client.patch(f"{API}/surveys/{sid}", json={"note": "Mẫu 670 người"}, headers={**h, "If-Match": etag})
        assert r.status_code == 200 and len(r.json()["results"]) == 3
        etag2 = r.headers["etag"]
        new_results = [{"target_group": "men", "score": 40, "respondents": 90}]
        assert client.patch(f"{API}/surveys/{sid}", json={"results": new_results},
                            headers={**h, "If-Match": etag}).status_code == 412
        r = client.patch(f"{API}/surveys/{sid}", json={"results": new_results}, headers={**h, "If-Match": etag2})
        assert r.status_code == 200 and r.json()["results"] == new_results and r.json()["version"] == 3
        session.rollback()
        assert [x.target_group for x in session.exec(select(SurveyResult).where(SurveyResult.round_id == sid))] \
            == ["men"]
        entries = session.exec(select(AuditEntry).where(AuditEntry.resource_type == "survey_round")
                               .order_by(AuditEntry.id)).all()
        assert [e.action for e in entries] == ["create", "update", "update"]
        assert len(entries[2].before["results"]) == 3 and entries[2].after["results"] == new_results
        assert entries[1].before["note"] is None and entries[1].after["note"] == "Mẫu 670 người"
        assert client.delete(f"{API}/surveys/{sid}", headers={**h, "If-Match": etag2}).status_code == 412
        assert client.delete(f"{API}/surveys/{sid}", headers={**h, "If-Match": r.headers["etag"]}).status_code == 204
        session.rollback()
        assert session.exec(select(SurveyResult)).all() == []
        last = session.exec(select(AuditEntry).where(AuditEntry.resource_type == "survey_round")
                            .order_by(AuditEntry.id.desc())).first()
        assert last.action == "delete" and last.before["results"] == new_results and last.after is None

    def test_validation_names_fields(self, client, session):
        h = login_headers(session)
        bad = {**BASELINE, "unit": "khong-co", "conducted_on": "2023-01-01", "results": [
            {"target_group": "aliens", "score": 50}, {"target_group": "youth", "score": 101},
            {"target_group": "public", "score": 10, "respondents": -1}, {"target_group": "men", "score": 1, "x": 1}]}
        r = client.post(f"{API}/surveys", json=bad, headers=h)
        assert r.status_code == 422
        assert _fields(r) == {"body.results.1.score", "body.results.2.respondents", "body.results.3.x"}
        bad["results"] = [{"target_group": "aliens", "score": 50}, {"target_group": "youth", "score": 1},
                          {"target_group": "youth", "score": 2}]
        r = client.post(f"{API}/surveys", json=bad, headers=h)
        assert r.status_code == 422
        assert _fields(r) == {"body.results.0.target_group", "body.results.2.target_group", "body.unit",
                              "body.conducted_on"}
        r = client.post(f"{API}/surveys", json={**BASELINE, "name": "", "note": "x" * 4001}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.name", "body.note"}
        session.rollback()
        assert session.exec(select(SurveyRound)).all() == []

    def test_idempotent_create(self, client, session):
        h = {**login_headers(session), "Idempotency-Key": "survey-2025"}
        a, b = (client.post(f"{API}/surveys", json=BASELINE, headers=h) for _ in range(2))
        assert a.status_code == b.status_code == 201 and a.json() == b.json()
        session.rollback()
        assert len(session.exec(select(SurveyRound)).all()) == 1
