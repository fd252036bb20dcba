"""Campaigns (yearly ones created automatically, extra ones by coordinators) and each unit's campaign plan."""

from datetime import date

from sqlmodel import select

from app.models import AuditEntry, Campaign, CampaignPlan
from app.services.calendar import local_today
from tests.factories import login_headers, make_token, make_unit, make_user, unit

API = "/api/v1"
EXTRA = {"name_vi": "Lễ phát động hưởng ứng cấp tỉnh", "name_en": "Province-wide launch", "starts_on": "2025-11-10",
         "ends_on": "2025-11-10"}
PLAN = {"document_number": "45/KH-UBND", "document_date": "2025-11-03",
        "title": "Kế hoạch tổ chức Tháng hành động vì bình đẳng giới năm 2025"}


def _fields(response):
    return {e["field"] for e in response.json().get("errors", [])}


def _campaign(client, h, code, year):
    items = client.get(f"{API}/campaigns", params={"year": year}, headers=h).json()["items"]
    return next(c for c in items if c["code"] == code)


def _audits(session, resource_type):
    session.rollback()
    return session.exec(select(AuditEntry).where(AuditEntry.resource_type == resource_type)
                        .order_by(AuditEntry.id)).all()


def _drop_year(session, year):
    for c in session.exec(select(Campaign).where(Campaign.year == year)):
        session.delete(c)
    session.commit()


class TestYearlyCampaigns:
    def test_a_year_without_campaigns_gets_them_when_asked(self, client, session):
        h = login_headers(session, "viewer")
        next_year = local_today().year + 1
        _drop_year(session, next_year)
        _drop_year(session, next_year + 1)
        body = client.get(f"{API}/campaigns", params={"year": next_year}, headers=h).json()
        assert body["total"] == 4 and all(c["recurring"] for c in body["items"])
        month = next(c for c in body["items"] if c["kind"] == "action_month")
        assert (month["code"], month["starts_on"], month["ends_on"]) == (
            f"action-month-{next_year}", f"{next_year}-11-15", f"{next_year}-12-15")
        # Asked again: nothing more is created.
        assert client.get(f"{API}/campaigns", params={"year": next_year}, headers=h).json()["total"] == 4
        # Two years ahead, or before the plan, nothing is created.
        assert client.get(f"{API}/campaigns", params={"year": next_year + 1}, headers=h).json()["total"] == 0
        assert client.get(f"{API}/campaigns", params={"year": 2021}, headers=h).json()["total"] == 0
        created = [a for a in _audits(session, "campaign") if a.action == "create"]
        assert len(created) == 4 and all(a.user_id is None for a in created)

    def test_a_missing_yearly_campaign_is_restored(self, client, session):
        h = login_headers(session, "viewer")
        year = local_today().year
        session.delete(session.exec(select(Campaign).where(Campaign.code == f"family-day-{year}")).one())
        session.commit()
        body = client.get(f"{API}/campaigns", params={"year": year, "kind": "family_day"}, headers=h).json()
        assert [c["code"] for c in body["items"]] == [f"family-day-{year}"]


class TestExtraCampaigns:
    def test_who_may_write_campaigns(self, client, session):
        for role, code in (("officer", "phong-ldtbxh"), ("viewer", None)):
            h = login_headers(session, role, code)
            assert client.post(f"{API}/campaigns", json=EXTRA, headers=h).status_code == 403
            month = _campaign(client, h, "action-month-2025", 2025)
            assert client.patch(f"{API}/campaigns/{month['id']}", json={"theme_vi": "x"}, headers=h).status_code == 403
        assert client.post(f"{API}/campaigns", json=EXTRA, headers=login_headers(session, "admin")).status_code == 201

    def test_create_patch_delete(self, client, session):
        h = login_headers(session)
        r = client.post(f"{API}/campaigns", json=EXTRA, headers=h)
        assert r.status_code == 201
        body = r.json()
        assert (body["code"], body["kind"], body["year"], body["recurring"]) == ("other-2025-1", "other", 2025, False)
        second = client.post(f"{API}/campaigns", json=EXTRA, headers=h).json()
        assert second["code"] == "other-2025-2"
        etag = r.headers["etag"]
        r = client.patch(f"{API}/campaigns/{body['id']}", json={"ends_on": "2025-11-11"},
                         headers={**h, "If-Match": etag})
        assert r.status_code == 200 and r.json()["ends_on"] == "2025-11-11"
        r2 = client.patch(f"{API}/campaigns/{body['id']}", json={"ends_on": "2025-11-20"},
                          headers={**h, "If-Match": etag})
        assert r2.status_code == 412
        assert client.get(f"{API}/campaigns/{body['id']}", headers=h).json()["ends_on"] == "2025-11-11"
        assert client.delete(f"{API}/campaigns/{body['id']}", headers={**h, "If-Match": r.headers["etag"]}) \
            .status_code == 204
        entries = [a for a in _audits(session, "campaign") if a.resource_id == str(body["id"])]
        assert [a.action for a in entries] == ["create", "update", "delete"]
        assert entries[1].before["ends_on"] == "2025-11-10" and entries[1].after["ends_on"] == "2025-11-11"

    def test_yearly_campaigns_are_edited_not_duplicated_or_deleted(self, client, session):
        h = login_headers(session)
        month = _campaign(client, h, "action-month-2026", 2026)
        r = client.patch(f"{API}/campaigns/{month['id']}", json={"theme_vi": "Chung tay vì bình đẳng giới"}, headers=h)
        assert r.status_code == 200 and r.json()["theme_vi"] == "Chung tay vì bình đẳng giới"
        r = client.delete(f"{API}/campaigns/{month['id']}", headers=h)
        assert r.status_code == 409
        r = client.post(f"{API}/campaigns", json={**EXTRA, "kind": "action_month"}, headers=h)
        assert r.status_code == 409 and _fields(r) == {"body.kind"}
        r = client.post(f"{API}/campaigns", json={**EXTRA, "code": "action-month-2031"}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.code"}

    def test_validation(self, client, session):
        h = login_headers(session)
        r = client.post(f"{API}/campaigns", json={**EXTRA, "ends_on": "2025-11-01", "year": 2024}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.ends_on", "body.year"}
        r = client.post(f"{API}/campaigns", json={**EXTRA, "name_vi": "", "kind": "festival", "x": 1}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.name_vi", "body.kind", "body.x"}
        # A window that would leave a unit's plan dated after the end.
        month = _campaign(client, h, "action-month-2025", 2025)
        client.post(f"{API}/campaigns/{month['id']}/plans", json={**PLAN, "unit": "p-song-cau",
                                                                  "document_date": "2025-12-01"}, headers=h)
        r = client.patch(f"{API}/campaigns/{month['id']}", json={"ends_on": "2025-11-30"}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.ends_on"}

    def test_idempotent_create(self, client, session):
        h = {**login_headers(session), "Idempotency-Key": "camp-1"}
        a, b = (client.post(f"{API}/campaigns", json=EXTRA, headers=h) for _ in range(2))
        assert a.status_code == b.status_code == 201 and a.json() == b.json()
        session.rollback()
        assert len(session.exec(select(Campaign).where(Campaign.kind == "other")).all()) == 1


class TestCampaignPlans:
    def test_who_may_record_a_units_plan(self, client, session):
        h = login_headers(session)
        month = _campaign(client, h, "action-month-2025", 2025)["id"]
        url = f"{API}/campaigns/{month}/plans"
        officer = login_headers(session, "officer", "p-song-cau")
        assert client.post(url, json={**PLAN, "unit": "p-duc-xuan"}, headers=officer).status_code == 403
        assert client.post(url, json={**PLAN, "unit": "p-song-cau"}, headers=login_headers(session, "viewer")) \
            .status_code == 403
        assert client.post(url, json={**PLAN, "unit": "p-song-cau"}, headers=officer).status_code == 201
        assert client.post(url, json={**PLAN, "unit": "p-duc-xuan"}, headers=h).status_code == 201
        # One plan per unit per campaign.
        r = client.post(url, json={**PLAN, "unit": "p-song-cau"}, headers=h)
        assert r.status_code == 409 and _fields(r) == {"body.unit"}
        # A token bound to a unit writes for that unit only, whoever holds it.
        token = make_token(session, make_user(session, "coordinator"), unit_code="hoi-lhpn")
        bound = {"Authorization": f"Bearer {token}"}
        assert client.post(url, json={**PLAN, "unit": "x-duong-quang"}, headers=bound).status_code == 403
        assert client.post(url, json={**PLAN, "unit": "hoi-lhpn"}, headers=bound).status_code == 201
        # Changing and deleting: the officer only for its own unit.
        assert client.patch(f"{url}/p-duc-xuan", json={"title": "x"}, headers=officer).status_code == 403
        assert client.delete(f"{url}/p-duc-xuan", headers=officer).status_code == 403
        assert client.patch(f"{url}/p-song-cau", json={"title": "Kế hoạch"}, headers=officer).status_code == 200
        assert client.delete(f"{url}/p-song-cau", headers=login_headers(session, "viewer")).status_code == 403
        assert client.delete(f"{url}/p-song-cau", headers=officer).status_code == 204
        listed = client.get(url, headers=login_headers(session, "viewer")).json()
        assert [(p["unit_code"], p["unit_name_vi"]) for p in listed["items"]] == [
            ("hoi-lhpn", "Hội Liên hiệp Phụ nữ thành phố"), ("p-duc-xuan", "Phường Đức Xuân")]
        assert client.get(url, params={"unit": "p-duc-xuan"}, headers=h).json()["total"] == 1
        assert client.get(url, params={"within": "tp-bac-kan"}, headers=h).json()["total"] == 2

    def test_etag_if_match_and_audit(self, client, session):
        h = login_headers(session, "officer", "x-nong-thuong")
        month = _campaign(client, h, "action-month-2025", 2025)["id"]
        url = f"{API}/campaigns/{month}/plans"
        r = client.post(url, json={**PLAN, "unit": "x-nong-thuong"}, headers=h)
        assert r.status_code == 201 and r.headers["location"] == f"{url}/x-nong-thuong"
        etag = r.headers["etag"]
        assert client.get(f"{url}/x-nong-thuong", headers=h).headers["etag"] == etag
        r = client.patch(f"{url}/x-nong-thuong", json={"document_number": "46/KH-UBND"},
                         headers={**h, "If-Match": etag})
        assert r.status_code == 200 and r.json()["version"] == 2
        stale = client.patch(f"{url}/x-nong-thuong", json={"document_number": "47/KH-UBND"},
                             headers={**h, "If-Match": etag})
        assert stale.status_code == 412
        assert client.delete(f"{url}/x-nong-thuong", headers={**h, "If-Match": etag}).status_code == 412
        assert client.get(f"{url}/x-nong-thuong", headers=h).json()["document_number"] == "46/KH-UBND"
        entries = _audits(session, "campaign_plan")
        assert [e.action for e in entries] == ["create", "update"]
        assert entries[0].unit_id == unit(session, "x-nong-thuong").id
        assert entries[1].before["document_number"] == "45/KH-UBND"
        assert entries[1].after["document_number"] == "46/KH-UBND"

    def test_dates(self, client, session):
        h = login_headers(session)
        month = _campaign(client, h, "action-month-2025", 2025)["id"]
        url = f"{API}/campaigns/{month}/plans"
        r = client.post(url, json={**PLAN, "unit": "p-song-cau", "document_date": "2025-12-16"}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.document_date"}
        assert client.post(url, json={**PLAN, "unit": "p-song-cau", "document_date": "2025-12-15"},
                           headers=h).status_code == 201
        r = client.patch(f"{url}/p-song-cau", json={"document_date": "2026-01-05"}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.document_date"}
        r = client.post(url, json={**PLAN, "unit": "khong-co"}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.unit"}
        r = client.post(url, json={**PLAN, "unit": "p-duc-xuan", "document_number": "", "note": "x" * 4001},
                        headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.document_number", "body.note"}
        assert client.post(f"{API}/campaigns/999999/plans", json={**PLAN, "unit": "p-duc-xuan"},
                           headers=h).status_code == 404

    def test_a_closed_unit_takes_no_plan_dated_after_it_closed(self, client, session):
        h = login_headers(session)
        make_unit(session, code="p-cu", kind="ward", valid_to=date(2025, 6, 30))
        make_unit(session, code="p-moi", kind="ward", valid_from=date(2025, 7, 1))
        month = _campaign(client, h, "action-month-2025", 2025)["id"]
        womens_day = _campaign(client, h, "womens-day-2025", 2025)["id"]
        # Closed before the campaign started.
        r = client.post(f"{API}/campaigns/{month}/plans", json={**PLAN, "unit": "p-cu"}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.unit"}
        # Did not exist yet at the campaign.
        r = client.post(f"{API}/campaigns/{womens_day}/plans",
                        json={**PLAN, "unit": "p-moi", "document_date": "2025-03-01"}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.unit"}
        # A campaign spanning the closure: a plan dated after the unit closed is refused.
        summer = client.post(f"{API}/campaigns", headers=h, json={
            "name_vi": "Chiến dịch hè", "starts_on": "2025-06-01", "ends_on": "2025-07-31"}).json()["id"]
        r = client.post(f"{API}/campaigns/{summer}/plans", json={**PLAN, "unit": "p-cu", "document_date": "2025-07-02"},
                        headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.document_date"}
        assert "closed on 2025-06-30" in r.json()["errors"][0]["message"]
        assert client.post(f"{API}/campaigns/{summer}/plans", json={**PLAN, "unit": "p-cu",
                                                                    "document_date": "2025-06-30"},
                           headers=h).status_code == 201
        r = client.post(f"{API}/campaigns/{summer}/plans",
                        json={**PLAN, "unit": "p-moi", "document_date": "2025-06-15"}, headers=h)
        assert r.status_code == 422 and _fields(r) == {"body.document_date"}
        # The campaign now has a plan: it cannot be deleted.
        assert client.delete(f"{API}/campaigns/{summer}", headers=h).status_code == 409
        session.rollback()
        assert len(session.exec(select(CampaignPlan)).all()) == 1

    def test_idempotent_plan(self, client, session):
        h = {**login_headers(session, "officer", "p-huyen-tung"), "Idempotency-Key": "plan-am-2025"}
        month = _campaign(client, h, "action-month-2025", 2025)["id"]
        body = {**PLAN, "unit": "p-huyen-tung"}
        a, b = (client.post(f"{API}/campaigns/{month}/plans", json=body, headers=h) for _ in range(2))
        assert a.status_code == b.status_code == 201 and a.json() == b.json()
        assert b.headers["idempotent-replayed"] == "true"
        changed = client.post(f"{API}/campaigns/{month}/plans", json={**body, "title": "khác"}, headers=h)
        assert changed.status_code == 422
        session.rollback()
        assert len(session.exec(select(CampaignPlan)).all()) == 1
