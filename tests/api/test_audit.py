"""/audit: read by coordinators and administrators only, filtered, newest first, never edited through the API."""

from datetime import UTC, datetime

from app.models import AuditEntry
from tests.api.test_users import bearer, caller
from tests.factories import make_user, unit

API = "/api/v1"


def entries(client, headers, **params):
    r = client.get(f"{API}/audit", params={"limit": 1000, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


class TestAccess:
    def test_only_coordinators_and_administrators_read_the_log(self, client, session):
        _, admin = caller(session, "admin")
        client.post(f"{API}/users", json={"username": "moi", "password": "mat-khau-dai-1", "role": "viewer"},
                    headers=admin)
        entry_id = entries(client, admin)[0]["id"]
        for role, unit_code in (("officer", "p-song-cau"), ("viewer", None)):
            _, h = caller(session, role, unit_code)
            assert client.get(f"{API}/audit", headers=h).status_code == 403, role
            assert client.get(f"{API}/audit/{entry_id}", headers=h).status_code == 403, role
        assert client.get(f"{API}/audit").status_code == 401
        _, coord = caller(session, "coordinator", "phong-ldtbxh")
        assert client.get(f"{API}/audit", headers=coord).json()["total"] == 1
        one = client.get(f"{API}/audit/{entry_id}", headers=coord).json()
        assert (one["action"], one["resource_type"], one["after"]["username"]) == ("create", "user", "moi")
        assert client.get(f"{API}/audit/999999", headers=coord).status_code == 404

    def test_nothing_in_the_api_edits_or_deletes_the_log(self, client, session):
        _, admin = caller(session, "admin")
        client.patch(f"{API}/me", json={"locale": "en"}, headers=admin)
        before = entries(client, admin)
        entry_id = before[0]["id"]
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            for path in (f"{API}/audit", f"{API}/audit/{entry_id}"):
                r = client.request(method, path, json={"action": "x"}, headers=admin)
                assert r.status_code == 405, (method, path)
                assert r.headers["content-type"] == "application/problem+json"
        assert entries(client, admin) == before
        assert not [p for p, ops in client.get(f"{API}/openapi.json").json()["paths"].items()
                    if p.startswith(f"{API}/audit") and set(ops) - {"get"}]


class TestEveryIdentityWriteIsAudited:
    def test_users_tokens_and_sessions_with_before_and_after(self, client, session):
        admin, ah = caller(session, "admin")
        # An administrator creates and changes a user and sets the password.
        created = client.post(f"{API}/users", headers=ah, json={
            "username": "hoa.sc", "password": "mat-khau-dai-1", "full_name": "Nguyễn Thị Hoa", "role": "officer",
            "unit": "p-song-cau"}).json()
        uid = created["id"]
        client.patch(f"{API}/users/{uid}", json={"full_name": "Nguyễn Thị Hòa"}, headers=ah)
        client.post(f"{API}/users/{uid}/password", json={"password": "mat-khau-hai-2"}, headers=ah)
        # The user logs in, makes and revokes a token, changes name and password, logs out.
        value = client.post(f"{API}/auth/token", data={"username": "hoa.sc", "password": "mat-khau-hai-2"}
                            ).json()["access_token"]
        uh = bearer(value)
        token = client.post(f"{API}/tokens", json={"name": "bảng tính", "scopes": ["read", "write"]},
                            headers=uh).json()
        assert client.delete(f"{API}/tokens/{token['id']}", headers=uh).status_code == 204
        assert client.patch(f"{API}/me", json={"locale": "en"}, headers=uh).status_code == 200
        assert client.post(f"{API}/me/password", headers=uh,
                           json={"current_password": "mat-khau-hai-2", "new_password": "mat-khau-ba-33"}
                           ).status_code == 204
        assert client.post(f"{API}/auth/logout", headers=uh).status_code == 204
        # Finally the administrator deactivates the user.
        assert client.delete(f"{API}/users/{uid}", headers=ah).status_code == 204

        song_cau = "p-song-cau"
        user_log = entries(client, ah, resource_type="user", resource_id=str(uid))
        # Newest first.
        assert [(e["action"], e["username"]) for e in user_log] == [
            ("deactivate", admin.username), ("password", "hoa.sc"), ("update", "hoa.sc"),
            ("password", admin.username), ("update", admin.username), ("create", admin.username)]
        assert all(e["unit_code"] == song_cau for e in user_log)
        deactivate, my_password, my_update, password, update, create = user_log
        assert create["before"] is None and create["after"]["username"] == "hoa.sc"
        assert create["after"]["role"] == "officer" and create["after"]["unit_id"] == unit(session, song_cau).id
        assert (update["before"]["full_name"], update["after"]["full_name"]) == ("Nguyễn Thị Hoa", "Nguyễn Thị Hòa")
        assert (password["before"]["version"], password["after"]["version"]) == (2, 3)
        assert (my_update["before"]["locale"], my_update["after"]["locale"]) == ("vi", "en")
        assert (my_password["before"]["version"], my_password["after"]["version"]) == (4, 5)
        assert (deactivate["before"]["is_active"], deactivate["after"]["is_active"]) == (True, False)
        for e in user_log:
            for snap in (e["before"], e["after"]):
                assert snap is None or ("password_hash" not in snap and "hash" not in str(snap))

        token_log = entries(client, ah, resource_type="api_token", resource_id=str(token["id"]))
        assert [e["action"] for e in token_log] == ["revoke", "create"]
        assert token_log[1]["before"] is None and token_log[1]["after"]["scopes"] == "read write"
        assert token_log[1]["after"]["unit_id"] == unit(session, song_cau).id
        assert token_log[0]["before"]["revoked_at"] is None and token_log[0]["after"]["revoked_at"]
        session_log = entries(client, ah, resource_type="api_token", user="hoa.sc", action="logout")
        assert len(session_log) == 1 and session_log[0]["before"]["revoked_at"] is None
        assert session_log[0]["after"]["revoked_at"] is not None
        assert [e["action"] for e in entries(client, ah, user="hoa.sc", resource_type="api_token")] == [
            "logout", "revoke", "create", "login"]
        # Every write of this story is in the log: 6 on the user, 4 on the tokens, nothing else.
        assert len(entries(client, ah)) == 10


class TestFilters:
    def test_by_time_user_unit_action_and_resource(self, client, session):
        alice = make_user(session, role="coordinator", username="alice")
        bob = make_user(session, role="officer", unit_code="p-song-cau", username="bob")
        sc, dq = unit(session, "p-song-cau").id, unit(session, "x-duong-quang").id
        # Local time is UTC+7: 17:00 UTC is midnight of the next local day.
        rows = [
            ("2026-03-07T16:59:59", alice.id, sc, "create", "activity", "1"),
            ("2026-03-07T17:00:00", bob.id, sc, "update", "activity", "1"),
            ("2026-03-08T10:00:00", alice.id, dq, "create", "activity", "2"),
            ("2026-03-08T16:59:59", bob.id, dq, "update", "report", "7"),
            ("2026-03-08T17:00:00", alice.id, None, "update", "indicator", "IND-01"),
        ]
        ids = []
        for at, user_id, unit_id, action, rtype, rid in rows:
            entry = AuditEntry(at=datetime.fromisoformat(at).replace(tzinfo=UTC), user_id=user_id, unit_id=unit_id,
                               action=action, resource_type=rtype, resource_id=rid, after={"n": len(ids)})
            session.add(entry)
            session.flush()
            ids.append(entry.id)
        session.commit()
        _, h = caller(session, "coordinator")

        def got(**params):
            return [e["id"] for e in entries(client, h, **params)]

        assert got() == ids[::-1]
        assert got(**{"from": "2026-03-08", "to": "2026-03-08"}) == [ids[3], ids[2], ids[1]]
        assert got(to="2026-03-07") == [ids[0]]
        assert got(**{"from": "2026-03-09"}) == [ids[4]]
        assert got(**{"from": "2026-03-08T10:00:00Z"}) == [ids[4], ids[3], ids[2]]
        assert got(to="2026-03-08T17:00:00+07:00") == [ids[2], ids[1], ids[0]]
        # A time without a zone is local: 23:59:59 local is 16:59:59 UTC, and `to` includes it.
        assert got(**{"from": "2026-03-08T17:00:00", "to": "2026-03-08T23:59:59"}) == [ids[3], ids[2]]
        assert got(user="alice") == [ids[4], ids[2], ids[0]]
        assert got(unit="p-song-cau") == [ids[1], ids[0]]
        assert got(unit="x-duong-quang", action="update") == [ids[3]]
        assert got(resource_type="activity", resource_id="1") == [ids[1], ids[0]]
        assert got(resource_type="indicator") == [ids[4]]
        page = client.get(f"{API}/audit", params={"limit": 2, "offset": 1}, headers=h).json()
        assert ([e["id"] for e in page["items"]], page["total"]) == ([ids[3], ids[2]], 5)
        one = entries(client, h, resource_type="report")[0]
        assert (one["username"], one["unit_code"], one["after"], one["at"]) == (
            "bob", "x-duong-quang", {"n": 3}, "2026-03-08T16:59:59Z")

    def test_bad_filters(self, client, session):
        _, h = caller(session, "admin")
        r = client.get(f"{API}/audit", params={"from": "hôm qua"}, headers=h)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.from"
        r = client.get(f"{API}/audit", params={"to": "2026-02-30"}, headers=h)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.to"
        assert client.get(f"{API}/audit", params={"unit": "khong-co"}, headers=h).status_code == 404
        assert client.get(f"{API}/audit", params={"user": "khong-co"}, headers=h).status_code == 404
        assert client.get(f"{API}/audit", params={"limit": 5000}, headers=h).status_code == 422

