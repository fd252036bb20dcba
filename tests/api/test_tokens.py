"""/tokens and /auth: API tokens shown once, scoped, bound, expiring and revocable; login and logout."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from app.models import ApiToken, TokenKind
from app.security import hash_token
from tests.api.test_users import audit_rows, bearer, caller, reload
from tests.factories import make_token, make_user, unit

API = "/api/v1"


def create(client, headers, **body):
    body.setdefault("name", "báo cáo tự động")
    return client.post(f"{API}/tokens", json=body, headers=headers)


class TestCreateToken:
    def test_the_value_is_shown_once_and_never_listed(self, client, session):
        me, h = caller(session, "coordinator", "phong-ldtbxh")
        r = create(client, h, name="Hệ thống tổng hợp", scopes=["read"])
        assert r.status_code == 201, r.text
        body = r.json()
        value = body["token"]
        assert value.startswith("bdg_") and body["prefix"] == value[:10]
        assert (body["name"], body["scopes"], body["kind"], body["user_id"], body["status"]) == (
            "Hệ thống tổng hợp", ["read"], "api", me.id, "active")
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["location"] == f"{API}/tokens/{body['id']}"
        # Stored hashed: the row holds the SHA-256, never the value.
        row = reload(session, ApiToken, body["id"])
        assert row.token_hash == hash_token(value) and value not in (row.token_hash, row.prefix)
        listed = client.get(f"{API}/tokens", headers=h)
        one = client.get(f"{API}/tokens/{body['id']}", headers=h)
        for r in (listed, one):
            assert r.status_code == 200
            assert value not in r.text and row.token_hash not in r.text and '"token"' not in r.text
        assert [t["id"] for t in listed.json()["items"]] == [body["id"]]
        me_r = client.get(f"{API}/me", headers=bearer(value)).json()
        assert (me_r["username"], me_r["scopes"], me_r["token_kind"]) == (me.username, ["read"], "api")

    def test_expiry_defaults_to_90_days_and_is_at_most_366(self, client, session):
        _, h = caller(session, "coordinator")
        before = datetime.now(UTC)
        r = create(client, h)
        after = datetime.now(UTC)
        expires = datetime.fromisoformat(r.json()["expires_at"])
        assert before + timedelta(days=90) <= expires <= after + timedelta(days=90)
        r = create(client, h, expires_in_days=366)
        assert r.status_code == 201
        assert datetime.fromisoformat(r.json()["expires_at"]) >= before + timedelta(days=366)
        for body, field in (
            ({"expires_in_days": 367}, "body.expires_in_days"),
            ({"expires_in_days": 0}, "body.expires_in_days"),
            ({"expires_in_days": 10, "expires_at": (before + timedelta(days=5)).isoformat()}, "body.expires_in_days"),
            ({"expires_at": (before - timedelta(minutes=1)).isoformat()}, "body.expires_at"),
            ({"expires_at": (before + timedelta(days=367)).isoformat()}, "body.expires_at"),
        ):
            r = create(client, h, **body)
            assert r.status_code == 422, body
            assert field in [e["field"] for e in r.json()["errors"]], (body, r.json())
        # A time without a zone is local (Asia/Ho_Chi_Minh) time.
        local = (datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) + timedelta(days=30)).replace(microsecond=0)
        r = create(client, h, expires_at=local.replace(tzinfo=None).isoformat())
        assert datetime.fromisoformat(r.json()["expires_at"]) == local

    def test_bad_scopes_and_unknown_fields(self, client, session):
        _, h = caller(session, "coordinator")
        for body, field in (({"scopes": ["admin"]}, "body.scopes.0"), ({"scopes": []}, "body.scopes"),
                            ({"name": ""}, "body.name"), ({"name": "x" * 121}, "body.name"),
                            ({"secret": "x"}, "body.secret"), ({"unit": "khong-co", "scopes": ["write"]}, "body.unit")):
            r = create(client, h, **body)
            assert r.status_code == 422, body
            assert field in [e["field"] for e in r.json()["errors"]], (body, r.json())
        assert client.get(f"{API}/tokens", headers=h).json()["total"] == 0

    def test_a_viewer_creates_only_tokens_that_read(self, client, session):
        _, h = caller(session, "viewer")
        r = create(client, h, scopes=["read", "write"])
        assert r.status_code == 403
        assert create(client, h, scopes=["write"]).status_code == 403
        r = create(client, h, scopes=["read"])
        assert r.status_code == 201 and r.json()["unit_code"] is None
        assert client.get(f"{API}/tokens", headers=h).json()["total"] == 1

    def test_an_officers_token_is_always_bound_to_its_unit(self, client, session):
        _, h = caller(session, "officer", "p-song-cau")
        r = create(client, h, scopes=["read", "write"])
        assert r.status_code == 201 and r.json()["unit_code"] == "p-song-cau"
        me = client.get(f"{API}/me", headers=bearer(r.json()["token"])).json()
        assert me["write_unit_code"] == "p-song-cau"
        r = create(client, h, scopes=["read"])
        assert r.json()["unit_code"] == "p-song-cau"
        assert create(client, h, scopes=["read", "write"], unit="p-song-cau").status_code == 201
        r = create(client, h, scopes=["read", "write"], unit="x-duong-quang")
        assert r.status_code == 403
        assert client.get(f"{API}/tokens", headers=h).json()["total"] == 3

    def test_a_coordinator_binds_a_writing_token_to_a_unit(self, client, session):
        _, h = caller(session, "coordinator", "phong-ldtbxh")
        r = create(client, h, scopes=["read", "write"], unit="x-duong-quang")
        assert r.status_code == 201 and r.json()["unit_code"] == "x-duong-quang"
        bound = bearer(r.json()["token"])
        assert client.get(f"{API}/me", headers=bound).json()["write_unit_code"] == "x-duong-quang"
        # A token that only reads has nothing to bind.
        r = create(client, h, scopes=["read"], unit="x-duong-quang")
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.unit"
        # A token made through a bound token keeps its unit.
        r = create(client, bound, scopes=["read", "write"])
        assert r.status_code == 201 and r.json()["unit_code"] == "x-duong-quang"
        assert create(client, bound, scopes=["write"], unit="p-song-cau").status_code == 403
        # And an unbound coordinator token writes everywhere.
        r = create(client, h, scopes=["read", "write"])
        assert client.get(f"{API}/me", headers=bearer(r.json()["token"])).json()["write_unit_code"] is None

    def test_a_token_that_only_reads_gets_403_on_writes(self, client, session):
        admin = make_user(session, role="admin")
        reader = bearer(make_token(session, admin, scopes="read"))
        assert client.get(f"{API}/tokens", headers=reader).status_code == 200
        assert create(client, reader, scopes=["read"]).status_code == 403
        target = make_user(session, role="viewer")
        r = client.patch(f"{API}/users/{target.id}", json={"full_name": "Đổi tên"}, headers=reader)
        assert r.status_code == 403
        assert reload(session, type(target), target.id).full_name == target.full_name
        assert audit_rows(session) == []

    def test_a_token_cannot_create_a_token_with_more_scopes(self, client, session):
        coord = make_user(session, role="coordinator")
        writer_only = bearer(make_token(session, coord, scopes="write"))
        assert create(client, writer_only, scopes=["read", "write"]).status_code == 403
        assert create(client, writer_only, scopes=["write"]).status_code == 201

    def test_a_retry_with_the_same_idempotency_key_creates_one_token(self, client, session):
        me, h = caller(session, "coordinator")
        h = {**h, "Idempotency-Key": "token-1"}
        first = create(client, h, name="Trích xuất")
        again = create(client, h, name="Trích xuất")
        assert first.status_code == again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        # The replay repeats the metadata, never the value (it is not stored anywhere).
        assert again.json()["id"] == first.json()["id"] and again.json()["token"] is None
        assert first.json()["token"] and first.json()["token"] not in again.text
        assert create(client, h, name="Khác").status_code == 422
        session.rollback()
        rows = session.exec(select(ApiToken).where(ApiToken.user_id == me.id, ApiToken.kind == TokenKind.api)).all()
        session.commit()
        assert len(rows) == 1


class TestUseAndRevoke:
    def test_revoked_and_expired_tokens_get_401(self, client, session):
        me, h = caller(session, "coordinator")
        r = create(client, h, scopes=["read"])
        value, token_id = r.json()["token"], r.json()["id"]
        assert client.get(f"{API}/units", headers=bearer(value)).status_code == 200
        assert client.delete(f"{API}/tokens/{token_id}", headers=h).status_code == 204
        r = client.get(f"{API}/units", headers=bearer(value))
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        listed = client.get(f"{API}/tokens/{token_id}", headers=h).json()
        assert listed["status"] == "revoked" and listed["revoked_at"]
        # Revoking again changes nothing and records nothing.
        assert client.delete(f"{API}/tokens/{token_id}", headers=h).status_code == 204
        assert len(audit_rows(session, resource_type="api_token", action="revoke")) == 1
        expired = make_token(session, me, scopes="read", expires_at=datetime.now(UTC) - timedelta(seconds=1))
        assert client.get(f"{API}/units", headers=bearer(expired)).status_code == 401
        assert client.get(f"{API}/units", headers=bearer("bdg_not-a-token")).status_code == 401

    def test_owner_or_administrator_revokes(self, client, session):
        owner, oh = caller(session, "officer", "p-song-cau")
        value = create(client, oh, scopes=["read", "write"]).json()
        _, other = caller(session, "coordinator")
        assert client.delete(f"{API}/tokens/{value['id']}", headers=other).status_code == 404
        assert client.get(f"{API}/tokens/{value['id']}", headers=other).status_code == 404
        assert client.get(f"{API}/me", headers=bearer(value["token"])).status_code == 200
        admin, ah = caller(session, "admin")
        assert client.delete(f"{API}/tokens/{value['id']}", headers=ah).status_code == 204
        assert client.get(f"{API}/me", headers=bearer(value["token"])).status_code == 401
        entry = audit_rows(session, resource_type="api_token", action="revoke")[0]
        assert (entry.user_id, entry.resource_id, entry.unit_id) == (admin.id, str(value["id"]),
                                                                     unit(session, "p-song-cau").id)
        assert entry.before["revoked_at"] is None and entry.after["revoked_at"] is not None
        assert "token_hash" not in entry.before and "token_hash" not in entry.after
        assert client.delete(f"{API}/tokens/999999", headers=ah).status_code == 404

    def test_last_used_at_is_written_at_most_once_a_minute(self, client, session):
        _, h = caller(session, "coordinator")
        body = create(client, h, scopes=["read"]).json()
        assert body["last_used_at"] is None
        start = datetime.now(UTC)
        client.get(f"{API}/units", headers=bearer(body["token"]))
        first = reload(session, ApiToken, body["id"]).last_used_at
        assert first is not None and first >= start - timedelta(seconds=1)
        client.get(f"{API}/units", headers=bearer(body["token"]))
        assert reload(session, ApiToken, body["id"]).last_used_at == first
        # A minute later, the next use is recorded again.
        row = reload(session, ApiToken, body["id"])
        row.last_used_at = first - timedelta(seconds=61)
        session.add(row)
        session.commit()
        client.get(f"{API}/units", headers=bearer(body["token"]))
        assert reload(session, ApiToken, body["id"]).last_used_at >= start - timedelta(seconds=1)
        assert client.get(f"{API}/tokens/{body['id']}", headers=h).json()["last_used_at"] is not None


class TestListTokens:
    def test_own_tokens_newest_first_api_kind_unless_asked(self, client, session):
        me, h = caller(session, "coordinator")
        ids = [create(client, h, name=f"t{i}").json()["id"] for i in range(3)]
        client.delete(f"{API}/tokens/{ids[0]}", headers=h)
        other, oh = caller(session, "viewer")
        create(client, oh, name="của người khác")
        r = client.get(f"{API}/tokens", headers=h).json()
        assert [t["id"] for t in r["items"]] == ids[::-1] and r["total"] == 3
        assert [t["id"] for t in client.get(f"{API}/tokens", params={"active": True}, headers=h).json()["items"]] == (
            ids[:0:-1])
        assert [t["id"] for t in client.get(f"{API}/tokens", params={"active": False}, headers=h).json()["items"]] == (
            ids[:1])
        logins = client.get(f"{API}/tokens", params={"kind": "login"}, headers=h).json()
        assert [(t["kind"], t["user_id"]) for t in logins["items"]] == [("login", me.id)]
        assert client.get(f"{API}/tokens", params={"user": other.username}, headers=h).status_code == 403
        assert client.get(f"{API}/tokens", params={"limit": 1, "offset": 1}, headers=h).json()["items"][0]["id"] == (
            ids[1])

    def test_administrators_see_everyones_tokens(self, client, session):
        a, ah = caller(session, "officer", "p-song-cau")
        b, bh = caller(session, "viewer")
        create(client, ah, name="a")
        create(client, bh, name="b")
        _, admin = caller(session, "admin")
        everyone = client.get(f"{API}/tokens", headers=admin).json()
        assert sorted((t["username"], t["name"]) for t in everyone["items"]) == [(a.username, "a"), (b.username, "b")]
        only_b = client.get(f"{API}/tokens", params={"user": b.username}, headers=admin).json()
        assert [t["name"] for t in only_b["items"]] == ["b"]
        assert client.get(f"{API}/tokens", params={"user": "khong-co"}, headers=admin).status_code == 404


class TestLogin:
    def test_logout_revokes_the_login_token(self, client, session):
        me = make_user(session, role="officer", unit_code="p-song-cau", username="dang-xuat")
        r = client.post(f"{API}/auth/token", data={"username": "dang-xuat", "password": "secret-pass-1"})
        assert r.status_code == 200 and r.json()["token_type"] == "bearer"
        value = r.json()["access_token"]
        h = bearer(value)
        assert client.get(f"{API}/me", headers=h).json()["token_kind"] == "login"
        assert client.post(f"{API}/auth/logout", headers=h).status_code == 204
        assert client.get(f"{API}/me", headers=h).status_code == 401
        assert client.post(f"{API}/auth/logout", headers=h).status_code == 401
        session.rollback()
        row = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(value))).one()
        session.commit()
        assert row.revoked_at is not None and row.kind == TokenKind.login
        assert [e.action for e in audit_rows(session, resource_id=str(row.id))] == ["login", "logout"]
        assert all(e.user_id == me.id for e in audit_rows(session, resource_id=str(row.id)))

    def test_logout_with_a_token_that_only_reads_revokes_it(self, client, session):
        me = make_user(session, role="viewer")
        value = make_token(session, me, scopes="read")
        assert client.post(f"{API}/auth/logout", headers=bearer(value)).status_code == 204
        assert client.get(f"{API}/me", headers=bearer(value)).status_code == 401

    def test_a_failed_login_does_not_tell_whether_the_user_exists(self, client, session):
        make_user(session, role="viewer", username="co-that")
        make_user(session, role="viewer", username="da-nghi", is_active=False)
        answers = [
            client.post(f"{API}/auth/token", data={"username": name, "password": password})
            for name, password in (("co-that", "sai-mat-khau"), ("khong-ton-tai", "sai-mat-khau"),
                                   ("da-nghi", "secret-pass-1"), ("co-that", "x" * 5000))
        ]
        assert {r.status_code for r in answers} == {401}
        assert len({r.text for r in answers}) == 1
        assert {r.headers["www-authenticate"] for r in answers} == {"Bearer"}
        assert "Wrong username or password" in answers[0].json()["detail"]
        session.rollback()
        assert session.exec(select(ApiToken)).all() == []
        session.commit()
