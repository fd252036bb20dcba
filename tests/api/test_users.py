"""/users, /me and passwords: who may manage users, the rules of a user record, and what a change revokes."""

from datetime import date, timedelta

from sqlmodel import select

from app.models import ApiToken, AuditEntry, TokenKind, User
from app.security import verify_password
from tests.factories import make_token, make_unit, make_user, unit

API = "/api/v1"


def caller(session, role, unit_code=None, **overrides):
    """A user with `role` and the headers of a fresh login token."""
    user = make_user(session, role=role, unit_code=unit_code, **overrides)
    return user, bearer(make_token(session, user, kind=TokenKind.login))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def reload(session, model, key):
    """The row as the database holds it now (ends the test session's snapshot first)."""
    session.rollback()
    session.expire_all()
    row = session.get(model, key)
    session.commit()
    return row


def audit_rows(session, **where):
    session.rollback()
    stmt = select(AuditEntry).order_by(AuditEntry.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(AuditEntry, name) == value)
    rows = list(session.exec(stmt))
    session.commit()
    return rows


def new_user_body(**overrides):
    body = {"username": "canbo.songcau", "password": "mat-khau-dai-1", "full_name": "Nguyễn Thị Hoa",
            "email": "hoa@songcau.gov.vn", "role": "officer", "unit": "p-song-cau", "locale": "vi"}
    body.update(overrides)
    return body


class TestCreateUser:
    def test_only_administrators_create_users(self, client, session):
        for role, unit_code in (("officer", "p-song-cau"), ("coordinator", "phong-ldtbxh"), ("viewer", None)):
            _, h = caller(session, role, unit_code)
            r = client.post(f"{API}/users", json=new_user_body(username=f"x-{role}"), headers=h)
            assert r.status_code == 403, role
            assert r.headers["content-type"] == "application/problem+json"
        session.rollback()
        assert session.exec(select(User).where(User.username.like("x-%"))).all() == []
        session.commit()
        _, admin = caller(session, "admin")
        r = client.post(f"{API}/users", json=new_user_body(), headers=admin)
        assert r.status_code == 201
        body = r.json()
        assert (body["username"], body["role"], body["unit_code"], body["full_name"], body["version"]) == (
            "canbo.songcau", "officer", "p-song-cau", "Nguyễn Thị Hoa", 1)
        assert "password" not in r.text and "password_hash" not in r.text and "argon2" not in r.text
        assert r.headers["etag"] == f'"{body["id"]}.1"'
        assert r.headers["location"] == f"{API}/users/{body['id']}"
        # The new user logs in with the password, which is stored hashed.
        row = reload(session, User, body["id"])
        assert row.password_hash != "mat-khau-dai-1" and row.password_hash.startswith("$argon2")
        assert verify_password(row.password_hash, "mat-khau-dai-1")
        login = client.post(f"{API}/auth/token", data={"username": "canbo.songcau", "password": "mat-khau-dai-1"})
        me = client.get(f"{API}/me", headers=bearer(login.json()["access_token"])).json()
        assert (me["role"], me["write_unit_code"]) == ("officer", "p-song-cau")

    def test_an_administrator_token_that_only_reads_or_is_bound_to_a_unit_cannot(self, client, session):
        admin = make_user(session, role="admin")
        read_only = bearer(make_token(session, admin, scopes="read"))
        bound = bearer(make_token(session, admin, scopes="read write", unit_code="p-song-cau"))
        for h in (read_only, bound):
            assert client.post(f"{API}/users", json=new_user_body(), headers=h).status_code == 403
        assert audit_rows(session, resource_type="user") == []

    def test_an_officer_must_have_an_open_unit_others_may(self, client, session):
        _, admin = caller(session, "admin")
        r = client.post(f"{API}/users", json=new_user_body(unit=None), headers=admin)
        assert r.status_code == 422
        assert [e["field"] for e in r.json()["errors"]] == ["body.unit"]
        r = client.post(f"{API}/users", json=new_user_body(unit="khong-co"), headers=admin)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.unit"
        closed = make_unit(session, valid_to=date.today() - timedelta(days=30))
        r = client.post(f"{API}/users", json=new_user_body(unit=closed.code), headers=admin)
        assert r.status_code == 422 and "closed" in r.json()["errors"][0]["message"]
        r = client.post(f"{API}/users", json=new_user_body(username="xem", role="viewer", unit=None), headers=admin)
        assert r.status_code == 201 and r.json()["unit_code"] is None
        body = new_user_body(username="dieuphoi", role="coordinator", unit="phong-ldtbxh")
        r = client.post(f"{API}/users", json=body, headers=admin)
        assert r.status_code == 201 and r.json()["unit_code"] == "phong-ldtbxh"
        # Refused attempts wrote nothing, not even an audit entry.
        assert [e.after["username"] for e in audit_rows(session, resource_type="user")] == ["xem", "dieuphoi"]

    def test_bad_input_names_the_field(self, client, session):
        _, admin = caller(session, "admin")
        cases = {
            "body.password": new_user_body(password="ngan-qua"),
            "body.username": new_user_body(username="có dấu cách"),
            "body.email": new_user_body(email="not-an-email"),
            "body.role": new_user_body(role="superuser"),
            "body.locale": new_user_body(locale="fr"),
            "body.full_name": new_user_body(full_name="x" * 201),
            "body.is_admin": {**new_user_body(), "is_admin": True},
        }
        for field, body in cases.items():
            r = client.post(f"{API}/users", json=body, headers=admin)
            assert r.status_code == 422, field
            assert field in [e["field"] for e in r.json()["errors"]], (field, r.json())
        r = client.post(f"{API}/users", json=new_user_body(password="Canbo.SongCau"), headers=admin)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.password"
        session.rollback()
        assert session.exec(select(User).where(User.username == "canbo.songcau")).first() is None

    def test_username_is_unique_whatever_the_case(self, client, session):
        make_user(session, role="viewer", username="Canbo.SongCau")
        _, admin = caller(session, "admin")
        r = client.post(f"{API}/users", json=new_user_body(), headers=admin)
        assert r.status_code == 409 and r.json()["errors"][0]["field"] == "body.username"

    def test_a_retry_with_the_same_idempotency_key_creates_one_user(self, client, session):
        _, admin = caller(session, "admin")
        h = {**admin, "Idempotency-Key": "tao-nguoi-dung-1"}
        first = client.post(f"{API}/users", json=new_user_body(), headers=h)
        again = client.post(f"{API}/users", json=new_user_body(), headers=h)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
        assert again.headers["etag"] == first.headers["etag"]
        other = client.post(f"{API}/users", json=new_user_body(username="khac"), headers=h)
        assert other.status_code == 422
        session.rollback()
        assert len(session.exec(select(User).where(User.username.in_(["canbo.songcau", "khac"]))).all()) == 1
        assert len(audit_rows(session, resource_type="user", action="create")) == 1


class TestReadUsers:
    def test_coordinators_and_administrators_list_users_with_filters(self, client, session):
        _, coord = caller(session, "coordinator", "phong-ldtbxh", username="dieu-phoi")
        make_user(session, role="officer", unit_code="p-song-cau", username="hoa", full_name="Nguyễn Thị Hoa")
        make_user(session, role="officer", unit_code="p-song-cau", username="lan", is_active=False)
        make_user(session, role="officer", unit_code="x-duong-quang", username="minh", email="minh@dq.gov.vn")
        make_user(session, role="viewer", username="xem")

        def names(**params):
            r = client.get(f"{API}/users", params=params, headers=coord)
            assert r.status_code == 200, r.text
            return [u["username"] for u in r.json()["items"]], r.json()["total"]

        assert names() == (["dieu-phoi", "hoa", "lan", "minh", "xem"], 5)
        assert names(role="officer") == (["hoa", "lan", "minh"], 3)
        assert names(role=["viewer", "coordinator"]) == (["dieu-phoi", "xem"], 2)
        assert names(unit="p-song-cau") == (["hoa", "lan"], 2)
        assert names(unit="p-song-cau", active=True) == (["hoa"], 1)
        assert names(active=False) == (["lan"], 1)
        assert names(q="Hoa") == (["hoa"], 1)
        assert names(q="dq.gov") == (["minh"], 1)
        assert names(limit=2, offset=2) == (["lan", "minh"], 5)
        r = client.get(f"{API}/users", params={"unit": "khong-co"}, headers=coord)
        assert r.status_code == 404
        r = client.get(f"{API}/users", params={"role": "boss"}, headers=coord)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.role.0"

    def test_officers_and_viewers_read_only_themselves(self, client, session):
        officer, oh = caller(session, "officer", "p-song-cau")
        viewer, vh = caller(session, "viewer")
        for h in (oh, vh):
            assert client.get(f"{API}/users", headers=h).status_code == 403
        assert client.get(f"{API}/users/{viewer.id}", headers=oh).status_code == 403
        assert client.get(f"{API}/users/{officer.id}", headers=vh).status_code == 403
        mine = client.get(f"{API}/users/{officer.id}", headers=oh)
        assert mine.status_code == 200 and mine.json()["username"] == officer.username
        assert client.get(f"{API}/me", headers=vh).json()["username"] == viewer.username
        assert client.get(f"{API}/users").status_code == 401

    def test_one_user_with_its_etag(self, client, session):
        _, coord = caller(session, "coordinator")
        target = make_user(session, role="officer", unit_code="x-duong-quang")
        r = client.get(f"{API}/users/{target.id}", headers=coord)
        assert r.status_code == 200 and r.headers["etag"] == f'"{target.id}.1"'
        assert r.json()["unit_code"] == "x-duong-quang" and "password_hash" not in r.json()
        assert client.get(f"{API}/users/999999", headers=coord).status_code == 404


class TestUpdateUser:
    def test_an_administrator_changes_a_user_and_the_version_moves(self, client, session):
        _, admin = caller(session, "admin")
        target = make_user(session, role="officer", unit_code="p-song-cau")
        etag = client.get(f"{API}/users/{target.id}", headers=admin).headers["etag"]
        change = {"role": "coordinator", "unit": "phong-ldtbxh", "full_name": "Trần Văn Bình",
                  "email": "binh@bk.gov.vn", "locale": "en"}
        r = client.patch(f"{API}/users/{target.id}", json=change, headers={**admin, "If-Match": etag})
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["role"], body["unit_code"], body["full_name"], body["email"], body["locale"], body["version"]) == (
            "coordinator", "phong-ldtbxh", "Trần Văn Bình", "binh@bk.gov.vn", "en", 2)
        assert r.headers["etag"] == f'"{target.id}.2"'
        row = reload(session, User, target.id)
        assert (row.role, row.unit_id, row.version) == ("coordinator", unit(session, "phong-ldtbxh").id, 2)
        # Sending the same values again changes nothing.
        r = client.patch(f"{API}/users/{target.id}", json=change, headers=admin)
        assert r.json()["version"] == 2
        assert len(audit_rows(session, resource_type="user", resource_id=str(target.id))) == 1

    def test_a_stale_if_match_is_412_and_the_first_change_stands(self, client, session):
        _, admin1 = caller(session, "admin")
        _, admin2 = caller(session, "admin")
        target = make_user(session, role="viewer", full_name="Cũ")
        etag = client.get(f"{API}/users/{target.id}", headers=admin1).headers["etag"]
        first = client.patch(f"{API}/users/{target.id}", json={"full_name": "Người thứ nhất"},
                             headers={**admin1, "If-Match": etag})
        assert first.status_code == 200
        second = client.patch(f"{API}/users/{target.id}", json={"full_name": "Người thứ hai", "locale": "en"},
                              headers={**admin2, "If-Match": etag})
        assert second.status_code == 412
        assert second.headers["content-type"] == "application/problem+json"
        assert second.json()["current_etag"] == first.headers["etag"]
        row = reload(session, User, target.id)
        assert (row.full_name, row.locale, row.version) == ("Người thứ nhất", "vi", 2)

    def test_only_administrators_change_users(self, client, session):
        target = make_user(session, role="viewer")
        for role, unit_code in (("coordinator", None), ("officer", "p-song-cau"), ("viewer", None)):
            _, h = caller(session, role, unit_code)
            r = client.patch(f"{API}/users/{target.id}", json={"role": "admin"}, headers=h)
            assert r.status_code == 403, role
        assert reload(session, User, target.id).role == "viewer"

    def test_an_officer_keeps_a_unit_and_fields_may_not_be_nulled(self, client, session):
        _, admin = caller(session, "admin")
        officer = make_user(session, role="officer", unit_code="p-song-cau")
        viewer = make_user(session, role="viewer")
        r = client.patch(f"{API}/users/{officer.id}", json={"unit": None}, headers=admin)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.unit"
        r = client.patch(f"{API}/users/{viewer.id}", json={"role": "officer"}, headers=admin)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.unit"
        r = client.patch(f"{API}/users/{viewer.id}", json={"role": None, "is_active": None}, headers=admin)
        assert r.status_code == 422
        assert {e["field"] for e in r.json()["errors"]} == {"body.role", "body.is_active"}
        r = client.patch(f"{API}/users/{viewer.id}", json={"password_hash": "x"}, headers=admin)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.password_hash"
        r = client.patch(f"{API}/users/{viewer.id}", json={"role": "officer", "unit": "x-duong-quang"}, headers=admin)
        assert r.status_code == 200 and r.json()["unit_code"] == "x-duong-quang"
        assert reload(session, User, officer.id).unit_id == unit(session, "p-song-cau").id

    def test_the_last_active_administrator_stays(self, client, session):
        admin, h = caller(session, "admin")
        for change in ({"role": "coordinator"}, {"is_active": False}):
            r = client.patch(f"{API}/users/{admin.id}", json=change, headers=h)
            assert r.status_code == 409, change
        assert client.delete(f"{API}/users/{admin.id}", headers=h).status_code == 409
        other = make_user(session, role="admin")
        r = client.patch(f"{API}/users/{other.id}", json={"role": "viewer"}, headers=h)
        assert r.status_code == 200
        assert client.patch(f"{API}/users/{admin.id}", json={"role": "viewer"}, headers=h).status_code == 409
        # With a second administrator, the first may step down.
        make_user(session, role="admin")
        assert client.patch(f"{API}/users/{admin.id}", json={"role": "coordinator"}, headers=h).status_code == 200

    def test_moving_an_officer_revokes_tokens_bound_to_the_old_unit(self, client, session):
        _, admin = caller(session, "admin")
        officer = make_user(session, role="officer", unit_code="p-song-cau")
        login = make_token(session, officer, kind=TokenKind.login)
        bound = make_token(session, officer, scopes="read write", unit_code="p-song-cau")
        r = client.patch(f"{API}/users/{officer.id}", json={"unit": "x-duong-quang"}, headers=admin)
        assert r.status_code == 200
        assert client.get(f"{API}/me", headers=bearer(bound)).status_code == 401
        me = client.get(f"{API}/me", headers=bearer(login)).json()
        assert me["write_unit_code"] == "x-duong-quang"
        revoked = audit_rows(session, resource_type="api_token", action="revoke")
        assert len(revoked) == 1 and revoked[0].before["revoked_at"] is None and revoked[0].after["revoked_at"]

    def test_making_a_user_a_viewer_revokes_tokens_that_write(self, client, session):
        _, admin = caller(session, "admin")
        coord = make_user(session, role="coordinator")
        writer = make_token(session, coord, scopes="read write")
        reader = make_token(session, coord, scopes="read")
        assert client.patch(f"{API}/users/{coord.id}", json={"role": "viewer"}, headers=admin).status_code == 200
        assert client.get(f"{API}/me", headers=bearer(writer)).status_code == 401
        assert client.get(f"{API}/me", headers=bearer(reader)).json()["role"] == "viewer"


class TestDeactivate:
    def test_patch_is_active_false_stops_every_token_and_login(self, client, session):
        _, admin = caller(session, "admin")
        target = make_user(session, role="officer", unit_code="p-song-cau", username="nghi-viec")
        api = make_token(session, target, scopes="read")
        assert client.get(f"{API}/me", headers=bearer(api)).status_code == 200
        r = client.patch(f"{API}/users/{target.id}", json={"is_active": False}, headers=admin)
        assert r.status_code == 200 and r.json()["is_active"] is False
        assert client.get(f"{API}/me", headers=bearer(api)).status_code == 401
        login = client.post(f"{API}/auth/token", data={"username": "nghi-viec", "password": "secret-pass-1"})
        assert login.status_code == 401
        session.rollback()
        tokens = session.exec(select(ApiToken).where(ApiToken.user_id == target.id)).all()
        assert tokens and all(t.revoked_at is not None for t in tokens)
        session.commit()
        # Reactivated, the user logs in again, but the revoked token stays revoked.
        assert client.patch(f"{API}/users/{target.id}", json={"is_active": True}, headers=admin).status_code == 200
        assert client.get(f"{API}/me", headers=bearer(api)).status_code == 401
        login = client.post(f"{API}/auth/token", data={"username": "nghi-viec", "password": "secret-pass-1"})
        assert login.status_code == 200

    def test_delete_deactivates_revokes_and_keeps_the_record(self, client, session):
        _, admin = caller(session, "admin")
        target = make_user(session, role="viewer")
        tokens = [make_token(session, target, kind=TokenKind.login), make_token(session, target, scopes="read")]
        etag = client.get(f"{API}/users/{target.id}", headers=admin).headers["etag"]
        assert client.delete(f"{API}/users/{target.id}", headers={**admin, "If-Match": '"0.0"'}).status_code == 412
        r = client.delete(f"{API}/users/{target.id}", headers={**admin, "If-Match": etag})
        assert r.status_code == 204 and r.headers["etag"] == f'"{target.id}.2"'
        for t in tokens:
            assert client.get(f"{API}/me", headers=bearer(t)).status_code == 401
        shown = client.get(f"{API}/users/{target.id}", headers=admin).json()
        assert (shown["is_active"], shown["version"]) == (False, 2)
        # Again: nothing more to do, nothing more recorded.
        assert client.delete(f"{API}/users/{target.id}", headers=admin).status_code == 204
        entries = audit_rows(session, resource_type="user", resource_id=str(target.id))
        assert [e.action for e in entries] == ["deactivate"]
        assert (entries[0].before["is_active"], entries[0].after["is_active"]) == (True, False)
        assert len(audit_rows(session, resource_type="api_token", action="revoke")) == 2

    def test_only_administrators_deactivate(self, client, session):
        target = make_user(session, role="viewer")
        _, coord = caller(session, "coordinator")
        assert client.delete(f"{API}/users/{target.id}", headers=coord).status_code == 403
        assert reload(session, User, target.id).is_active is True


class TestPasswords:
    def test_an_administrator_sets_a_password_and_ends_the_users_sessions(self, client, session):
        _, admin = caller(session, "admin")
        target = make_user(session, role="officer", unit_code="p-song-cau", username="quen-mat-khau")
        session_token = make_token(session, target, kind=TokenKind.login)
        script_token = make_token(session, target, scopes="read")
        url = f"{API}/users/{target.id}/password"
        r = client.post(url, json={"password": "ngan"}, headers=admin)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.password"
        _, coord = caller(session, "coordinator")
        assert client.post(url, json={"password": "mat-khau-moi-123"}, headers=coord).status_code == 403
        assert client.post(url, json={"password": "mat-khau-moi-123"}, headers={**admin, "If-Match": '"1.9"'}
                           ).status_code == 412
        r = client.post(url, json={"password": "mat-khau-moi-123"}, headers=admin)
        assert r.status_code == 204 and r.headers["etag"] == f'"{target.id}.2"'
        old = client.post(f"{API}/auth/token", data={"username": "quen-mat-khau", "password": "secret-pass-1"})
        new = client.post(f"{API}/auth/token", data={"username": "quen-mat-khau", "password": "mat-khau-moi-123"})
        assert (old.status_code, new.status_code) == (401, 200)
        assert client.get(f"{API}/me", headers=bearer(session_token)).status_code == 401
        assert client.get(f"{API}/me", headers=bearer(script_token)).status_code == 200
        entry = audit_rows(session, resource_type="user", action="password")[0]
        assert entry.before["version"] == 1 and entry.after["version"] == 2
        assert "password_hash" not in entry.before and "password_hash" not in entry.after

    def test_changing_your_own_password(self, client, session):
        me, h = caller(session, "viewer", username="tu-doi")
        other_session = bearer(make_token(session, me, kind=TokenKind.login))
        r = client.post(f"{API}/me/password", json={"current_password": "sai", "new_password": "mat-khau-moi-123"},
                        headers=h)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.current_password"
        r = client.post(f"{API}/me/password",
                        json={"current_password": "secret-pass-1", "new_password": "ngan"}, headers=h)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.new_password"
        r = client.post(f"{API}/me/password",
                        json={"current_password": "secret-pass-1", "new_password": "mat-khau-moi-123"}, headers=h)
        assert r.status_code == 204
        assert client.get(f"{API}/me", headers=h).status_code == 200
        assert client.get(f"{API}/me", headers=other_session).status_code == 401
        assert client.post(f"{API}/auth/token", data={"username": "tu-doi", "password": "mat-khau-moi-123"}
                           ).status_code == 200
        assert verify_password(reload(session, User, me.id).password_hash, "mat-khau-moi-123")

    def test_a_token_that_only_reads_cannot_change_the_password(self, client, session):
        me = make_user(session, role="coordinator")
        h = bearer(make_token(session, me, scopes="read"))
        r = client.post(f"{API}/me/password",
                        json={"current_password": "secret-pass-1", "new_password": "mat-khau-moi-123"}, headers=h)
        assert r.status_code == 403
        assert verify_password(reload(session, User, me.id).password_hash, "secret-pass-1")


class TestMe:
    def test_change_your_own_name_and_language(self, client, session):
        me, h = caller(session, "officer", "p-song-cau")
        old_name = me.full_name
        r = client.get(f"{API}/me", headers=h)
        etag = r.headers["etag"]
        assert etag == f'"{me.id}.1"'
        r = client.patch(f"{API}/me", json={"full_name": "Lê Thị Mai", "locale": "en"}, headers={**h, "If-Match": etag})
        assert r.status_code == 200 and (r.json()["full_name"], r.json()["locale"]) == ("Lê Thị Mai", "en")
        assert client.patch(f"{API}/me", json={"locale": "vi"}, headers={**h, "If-Match": etag}).status_code == 412
        # Role and unit are the administrators' to change.
        r = client.patch(f"{API}/me", json={"role": "admin"}, headers=h)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.role"
        row = reload(session, User, me.id)
        assert (row.full_name, row.locale, row.role, row.version) == ("Lê Thị Mai", "en", "officer", 2)
        entry = audit_rows(session, resource_type="user", resource_id=str(me.id))[0]
        assert (entry.user_id, entry.before["full_name"], entry.after["full_name"]) == (
            me.id, old_name, "Lê Thị Mai")
