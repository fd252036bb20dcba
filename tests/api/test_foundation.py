"""Read endpoints, errors and login on the seeded reference data."""

from tests.factories import login_headers, make_token, make_user

API = "/api/v1"


class TestHealth:
    def test_health_is_open_and_checks_the_database(self, client):
        r = client.get(f"{API}/health")
        assert r.status_code == 200
        assert r.json() == {"status": "ok", "database": "ok"}


class TestAuth:
    def test_login_me_logout(self, client, session):
        make_user(session, role="officer", unit_code="p-song-cau", username="canbo")
        r = client.post(f"{API}/auth/token", data={"username": "canbo", "password": "secret-pass-1"})
        assert r.status_code == 200
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        me = client.get(f"{API}/me", headers=headers).json()
        assert (me["username"], me["role"], me["unit_code"], me["write_unit_code"]) == (
            "canbo", "officer", "p-song-cau", "p-song-cau")
        assert client.post(f"{API}/auth/logout", headers=headers).status_code == 204
        r = client.get(f"{API}/me", headers=headers)
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"

    def test_wrong_password_is_401(self, client, session):
        make_user(session, username="x1")
        r = client.post(f"{API}/auth/token", data={"username": "x1", "password": "nope"})
        assert r.status_code == 401 and r.json()["status"] == 401

    def test_anonymous_reads_nothing_but_health(self, client):
        for path in ("/units", "/indicators", "/campaigns", "/code-lists", "/me"):
            assert client.get(API + path).status_code == 401, path

    def test_expired_token_is_refused(self, client, session):
        from datetime import UTC, datetime, timedelta

        user = make_user(session)
        token = make_token(session, user, expires_at=datetime.now(UTC) - timedelta(seconds=1))
        assert client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


class TestUnits:
    def test_wards_communes_and_media(self, client, session):
        h = login_headers(session, "viewer")
        r = client.get(f"{API}/units", params={"kind": ["ward", "commune"]}, headers=h)
        body = r.json()
        assert body["total"] == 8
        assert sorted(u["official_code"] for u in body["items"]) == [
            "01834", "01837", "01840", "01843", "01846", "01849", "01852", "01855"]
        media = client.get(f"{API}/units", params={"kind": "media"}, headers=h).json()
        assert media["total"] == 9
        assert {u["operator_code"] for u in media["items"]} >= {"tt-vhttt", "p-song-cau"}

    def test_pagination_is_stable_and_complete(self, client, session):
        h = login_headers(session, "viewer")
        total = client.get(f"{API}/units", headers=h).json()["total"]
        codes = []
        for offset in range(0, total, 7):
            page = client.get(f"{API}/units", params={"limit": 7, "offset": offset}, headers=h).json()
            assert page["limit"] == 7 and page["offset"] == offset and page["total"] == total
            codes += [u["code"] for u in page["items"]]
        assert len(codes) == len(set(codes)) == total

    def test_one_unit_and_subtree(self, client, session):
        h = login_headers(session, "viewer")
        r = client.get(f"{API}/units/p-song-cau", headers=h)
        assert r.status_code == 200 and r.headers["etag"]
        assert r.json()["parent_code"] == "tp-bac-kan" and r.json()["official_code"] == "01837"
        sub = client.get(f"{API}/units", params={"within": "p-song-cau"}, headers=h).json()
        assert sorted(u["code"] for u in sub["items"]) == ["loa-p-song-cau", "p-song-cau"]

    def test_official_code_on_a_date(self, client, session):
        h = login_headers(session, "viewer")
        r = client.get(f"{API}/units", params={"official_code": "01840", "on": "2023-05-01"}, headers=h).json()
        assert [u["code"] for u in r["items"]] == ["p-duc-xuan"]

    def test_unknown_unit_is_a_404_problem(self, client, session):
        r = client.get(f"{API}/units/khong-co", headers=login_headers(session, "viewer"))
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["title"] == "Not found" and r.json()["instance"] == f"{API}/units/khong-co"

    def test_bad_query_is_a_422_with_the_field(self, client, session):
        r = client.get(f"{API}/units", params={"limit": 0, "kind": "castle"}, headers=login_headers(session))
        assert r.status_code == 422
        fields = {e["field"] for e in r.json()["errors"]}
        assert {"query.limit", "query.kind.0"} <= fields


class TestIndicators:
    def test_five_indicators_with_the_plans_milestones(self, client, session):
        h = login_headers(session, "viewer")
        body = client.get(f"{API}/indicators", headers=h).json()
        assert [i["code"] for i in body["items"]] == ["IND-01", "IND-02", "IND-03", "IND-04", "IND-05"]
        ms = {i["code"]: {m["year"]: (m["value"], m["value_max"], m["qualifier"]) for m in i["milestones"]}
              for i in body["items"]}
        assert ms["IND-01"] == {y: (100, None, None) for y in range(2022, 2031)}
        assert ms["IND-02"] == {y: (100, None, None) for y in range(2025, 2031)}
        assert ms["IND-03"] == {2030: (15, 20, None)}
        assert ms["IND-04"] == {2025: (70, None, "pilot"), 2030: (90, None, "official")}
        assert ms["IND-05"] == {2025: (95, None, None), 2030: (100, None, None)}
        ind03 = next(i for i in body["items"] if i["code"] == "IND-03")
        assert (ind03["baseline_year"], ind03["baseline_value"]) == (2025, 0)

    def test_targets_follow_a_straight_line_between_milestones(self, client, session):
        h = login_headers(session, "viewer")
        targets = {t["year"]: t for t in client.get(f"{API}/indicators/IND-05/targets", headers=h).json()}
        # 95 in 2025 to 100 in 2030: one point a year.
        assert {y: targets[y]["value"] for y in range(2025, 2031)} == {
            2025: 95, 2026: 96, 2027: 97, 2028: 98, 2029: 99, 2030: 100}
        assert targets[2027]["interpolated"] and not targets[2025]["interpolated"]
        ind03 = {t["year"]: t for t in client.get(f"{API}/indicators/IND-03/targets", headers=h).json()}
        assert (ind03[2028]["value"], ind03[2028]["value_max"]) == (9, 12)  # 3/5 of the way to 15..20
        detail = client.get(f"{API}/indicators/IND-04", headers=h).json()
        assert {t["year"]: t["value"] for t in detail["targets"]}[2027] == 78

    def test_unknown_indicator(self, client, session):
        assert client.get(f"{API}/indicators/IND-99", headers=login_headers(session)).status_code == 404


class TestCampaignsAndCodeLists:
    def test_campaigns_of_a_year(self, client, session):
        h = login_headers(session, "viewer")
        body = client.get(f"{API}/campaigns", params={"year": 2025}, headers=h).json()
        assert body["total"] == 4
        month = next(c for c in body["items"] if c["kind"] == "action_month")
        assert (month["starts_on"], month["ends_on"]) == ("2025-11-15", "2025-12-15")
        assert "kỷ nguyên số" in month["theme_vi"]
        assert client.get(f"{API}/campaigns/{month['id']}", headers=h).json()["code"] == "action-month-2025"

    def test_code_lists_have_both_languages(self, client, session):
        h = login_headers(session, "viewer")
        lists = client.get(f"{API}/code-lists", headers=h).json()
        assert len(lists["task_group"]) == 7
        assert all(i["label_vi"] and i["label_en"] for items in lists.values() for i in items)
        channels = client.get(f"{API}/code-lists/channel", headers=h).json()
        assert channels[1]["code"] == "loudspeaker"
        assert client.get(f"{API}/code-lists/nope", headers=h).status_code == 404


class TestWeb:
    def test_home_page_reads_through_the_api(self, client):
        r = client.get("/")
        assert r.status_code == 200 and "bình đẳng giới" in r.text and "ok" in r.text

    def test_openapi(self, client):
        assert client.get(f"{API}/openapi.json").json()["info"]["title"] == "BĐG 2030 API"


class TestUnexpectedErrors:
    def test_a_crash_is_a_500_problem_without_a_trace(self, engine):
        from fastapi.testclient import TestClient

        from app.api.app import create_api_app

        api = create_api_app()

        @api.get("/v1/boom")
        def boom():
            raise RuntimeError("secret internals: /etc/passwd")

        with TestClient(api, raise_server_exceptions=False) as c:
            r = c.get("/v1/boom")
        assert r.status_code == 500
        assert r.headers["content-type"] == "application/problem+json"
        body = r.json()
        assert body["status"] == 500 and "secret" not in r.text and "Traceback" not in r.text


class TestLoginThrottle:
    def test_repeated_failures_lock_the_username_for_a_while(self, client, session, monkeypatch):
        from sqlmodel import select

        from app.config import get_settings
        from app.models import AuditEntry

        monkeypatch.setenv("LOGIN_MAX_FAILURES", "3")
        get_settings.cache_clear()
        make_user(session, username="bi.khoa")
        make_user(session, username="khac")
        for _ in range(3):
            r = client.post(f"{API}/auth/token", data={"username": "bi.khoa", "password": "sai-mat-khau"})
            assert r.status_code == 401
        # Even the right password is refused now, with a hint of when to come back.
        r = client.post(f"{API}/auth/token", data={"username": "bi.khoa", "password": "secret-pass-1"})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert r.headers["content-type"] == "application/problem+json"
        # Another user is not affected, and the failures are in the audit log.
        other = client.post(f"{API}/auth/token", data={"username": "khac", "password": "secret-pass-1"})
        assert other.status_code == 200
        session.rollback()
        failed = session.exec(select(AuditEntry).where(AuditEntry.action == "login_failed")).all()
        assert [e.resource_id for e in failed] == ["bi.khoa"] * 3

    def test_failures_outside_the_window_do_not_count(self, client, session, monkeypatch):
        from datetime import UTC, datetime, timedelta

        from app.config import get_settings
        from app.models import AuditEntry

        monkeypatch.setenv("LOGIN_MAX_FAILURES", "2")
        get_settings.cache_clear()
        make_user(session, username="cu")
        old = datetime.now(UTC) - timedelta(minutes=get_settings().login_lockout_minutes + 1)
        session.add_all(AuditEntry(action="login_failed", resource_type="user", resource_id="cu", at=old)
                        for _ in range(5))
        session.commit()
        assert client.post(f"{API}/auth/token", data={"username": "cu", "password": "secret-pass-1"}).status_code == 200


class TestNoOpUpdates:
    def test_an_update_that_changes_nothing_keeps_the_version_and_writes_no_audit(self, client, session):
        from sqlalchemy import func
        from sqlmodel import select

        from app.models import AuditEntry

        h = login_headers(session, "coordinator")
        unit = client.get(f"{API}/units/p-song-cau", headers=h).json()
        audits = session.exec(select(func.count()).select_from(AuditEntry)).one()
        session.rollback()
        same = client.patch(f"{API}/units/p-song-cau", json={"name_en": unit["name_en"]}, headers=h)
        assert same.status_code == 200 and same.json()["version"] == unit["version"]
        assert session.exec(select(func.count()).select_from(AuditEntry)).one() == audits
        session.rollback()
        changed = client.patch(f"{API}/units/p-song-cau", json={"name_en": "Song Cau"}, headers=h)
        assert changed.json()["version"] == unit["version"] + 1
        assert session.exec(select(func.count()).select_from(AuditEntry)).one() == audits + 1


class TestMalformedBodies:
    def test_a_body_that_is_not_json_is_named_as_the_body(self, client, session):
        h = {**login_headers(session, "coordinator"), "Content-Type": "application/json"}
        r = client.post(f"{API}/units", content=b'{"code": "x",', headers=h)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        [error] = r.json()["errors"]
        assert error["field"] == "body" and error["message"].startswith("The body is not valid JSON at character")


class TestUnitSearch:
    def test_names_match_without_accents_or_case(self, client, session):
        h = login_headers(session, "viewer")

        def codes(q):
            return sorted(u["code"] for u in client.get(f"{API}/units", params={"q": q}, headers=h).json()["items"])

        assert codes("song cau") == ["loa-p-song-cau", "p-song-cau"]
        assert codes("ĐỨC XUÂN") == codes("duc xuan") == ["loa-p-duc-xuan", "p-duc-xuan"]
        assert codes("Phụ nữ") == ["hoi-lhpn"]
        page = client.get(f"{API}/units", params={"q": "phuong", "kind": "ward", "limit": 2}, headers=h).json()
        assert page["total"] == 6 and len(page["items"]) == 2


class TestDocsOffline:
    def test_the_interactive_docs_need_no_internet(self, client):
        page = client.get(f"{API}/docs")
        assert page.status_code == 200
        assert "cdn" not in page.text and f"{API}/docs-assets/swagger-ui-bundle.js" in page.text
        assert f"{API}/openapi.json" in page.text
        js = client.get(f"{API}/docs-assets/swagger-ui-bundle.js")
        assert js.status_code == 200 and len(js.content) > 100_000
