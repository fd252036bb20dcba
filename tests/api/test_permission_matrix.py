"""The permission matrix (issue 3): every write route × every kind of caller × own unit / other unit.

Each write route of the OpenAPI document has a row in CASES: the targets it is tried on (a record of unit A and
one of unit B for unit-scoped records, the caller's own record and someone else's for accounts and tokens …), how
to build a fresh target and a valid request for one call, and the status each caller must get. The expected
statuses come from the rules of the issue, restated below (`_writes`, `_staff`, `_unit_right` …), not from the
application's own permission code.

For every call: a refused request must change nothing (the target's state is the same and no audit entry was
added); an allowed one must change its target and be audited. A write route missing from CASES fails the suite.
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import text

from app.config import get_settings
from app.models import TokenKind, User
from tests.factories import TEST_PASSWORD, login_headers, make_token, make_user

API = "/api"
WRITE_METHODS = ("post", "put", "patch", "delete")
UNIT_A, UNIT_B = "p-song-cau", "x-duong-quang"  # a ward and a commune of the seed
OUTLETS = {UNIT_A: "loa-p-song-cau", UNIT_B: "loa-x-duong-quang"}  # the loudspeaker systems each of them runs
REPORT_YEAR = 2025
CITY_PLAN = "KH-TPBK-2022"
NEW_PASSWORD = "mat-khau-moi-2026"

# Write routes that are not role- or unit-guarded by design: any authenticated caller acts on itself only (and
# anyone may log in). They are in the matrix all the same, with their own expectations.
SELF_SERVICE = {
    "POST /v1/auth/token",  # login: the credentials decide, not the caller
    "POST /v1/auth/logout",  # revokes the very token the request is made with (even a read-only one)
    "PATCH /v1/me",  # one's own name, e-mail, language (a viewer too; needs the write scope)
    "POST /v1/me/password",  # one's own password (a viewer too; needs the write scope)
}


# --- callers and their rights ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    name: str
    role: str | None = None  # None: anonymous
    unit: str | None = None  # an officer's unit
    api_token: bool = False  # an API token rather than a login session
    scopes: str = "read write"
    bound: str | None = None  # the unit an API token is bound to


CALLERS = (
    Caller("anonymous"),
    Caller("admin", "admin"),
    Caller("coordinator", "coordinator"),
    Caller("officer_a", "officer", UNIT_A),
    Caller("officer_b", "officer", UNIT_B),
    Caller("viewer", "viewer"),
    Caller("admin_read_token", "admin", api_token=True, scopes="read"),
    Caller("officer_token_a", "officer", UNIT_A, api_token=True, bound=UNIT_A),
    Caller("coordinator_token_a", "coordinator", api_token=True, bound=UNIT_A),
)

# The units a target belongs to (a move from A to B needs the right on both).
# An outlet run by A (its loudspeaker system) is A's to keep: A's officers and A-bound tokens write its records too.
TARGET_UNITS = {"A": (UNIT_A,), "B": (UNIT_B,), "A→B": (UNIT_A, UNIT_B), "B→A": (UNIT_B, UNIT_A),
                "outlet of A": (OUTLETS[UNIT_A],)}
for _suffix in ("new", "report", "plan"):
    TARGET_UNITS |= {f"A/{_suffix}": (UNIT_A,), f"B/{_suffix}": (UNIT_B,)}


def _has_write_scope(c: Caller) -> bool:
    return c.role is not None and "write" in c.scopes.split()


def _writes(c: Caller) -> bool:
    """Writes records at all: a viewer writes nothing, a token without the write scope neither."""
    return _has_write_scope(c) and c.role != "viewer"


def _staff(c: Caller) -> bool:
    """Staff-only writes: coordinators and admins, not through a token bound to a unit."""
    return _writes(c) and c.role in ("admin", "coordinator") and c.bound is None


def _user_admin(c: Caller) -> bool:
    """Manages users: admins only, not through a token bound to a unit."""
    return _staff(c) and c.role == "admin"


def _unit_right(c: Caller, target: str) -> bool:
    """Writes records of the target's units: officers their own unit, staff any, a bound token only its unit."""
    if not _writes(c):
        return False
    def mine(bound: str) -> set[str]:
        return {bound} | ({OUTLETS[bound]} if bound in OUTLETS else set())

    if c.role == "officer":
        return all(u in mine(c.bound or c.unit) for u in TARGET_UNITS[target])
    return c.bound is None or all(u in mine(c.bound) for u in TARGET_UNITS[target])


def _answer(c: Caller, allowed: bool, success: int, denied: int = 403) -> int:
    if c.role is None:
        return 401
    return success if allowed else denied


Expect = Callable[[Caller, str], int]


def staff(success: int) -> Expect:
    return lambda c, t: _answer(c, _staff(c), success)


def user_admin(success: int) -> Expect:
    return lambda c, t: _answer(c, _user_admin(c), success)


def unit(success: int) -> Expect:
    return lambda c, t: _answer(c, _unit_right(c, t), success)


def self_service(success: int) -> Expect:
    return lambda c, t: _answer(c, _has_write_scope(c), success)


def import_rows(c: Caller, t: str) -> int:
    # A row of a unit the caller may not write is a row error (422 naming the row's `unit`), as
    # docs/activities.md says: the file is checked row by row and nothing is written.
    if c.role is None:
        return 401
    if not _writes(c):
        return 403
    return 201 if _unit_right(c, t) else 422


def token_create(c: Caller, t: str) -> int:
    # A read-only token: anyone with the write scope (a viewer too). A token that writes for a unit: the right on it.
    return _answer(c, _has_write_scope(c) if t == "read" else _unit_right(c, t), 201)


def token_revoke(c: Caller, t: str) -> int:
    # One's own token: anyone with the write scope. Someone else's: admins; hidden (404) from the others.
    if c.role is None:
        return 401
    if not _has_write_scope(c):
        return 403
    return 204 if t == "own" or c.role == "admin" else 404


def login(c: Caller, t: str) -> int:
    return 200 if t == "right" else 401


# --- the world: fresh records made as an administrator, state read straight from the database -------------------


@dataclass
class Actor:
    caller: Caller
    user: User | None = None
    token_id: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    """One request: the route's path parameters, its body, and how to read the state it may change."""

    params: dict[str, Any]
    state: Callable[[], Any]
    kwargs: dict[str, Any] = field(default_factory=dict)


class World:
    def __init__(self, client, session, engine):
        self.client, self.session, self.engine = client, session, engine
        self.admin = login_headers(session, "admin")
        self._n = itertools.count(1)

    def n(self) -> int:
        return next(self._n)

    # database reads, on a connection of their own so that they see what the app committed
    def value(self, sql: str, **params) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def row(self, sql: str, **params) -> tuple | None:
        with self.engine.connect() as conn:
            found = conn.execute(text(sql), params).first()
            return tuple(found) if found is not None else None

    def audit_count(self) -> int:
        # Entries of changes. A refused login records one `login_failed` security event by design (the login
        # throttle counts them; tests/api/test_foundation.py::TestLoginThrottle checks them); it changes nothing.
        return self.value("SELECT count(*) FROM audit_log WHERE action <> 'login_failed'")

    def unit_id(self, code: str) -> int:
        return self.value("SELECT id FROM unit WHERE code = :c", c=code)

    def actor(self, caller: Caller) -> Actor:
        """A fresh user and token for the caller (so that a logout or a password change spoils no other call)."""
        if caller.role is None:
            return Actor(caller)
        user = make_user(self.session, role=caller.role, unit_code=caller.unit)
        kind = TokenKind.api if caller.api_token else TokenKind.login
        value = make_token(self.session, user, scopes=caller.scopes, unit_code=caller.bound, kind=kind)
        token_id = self.value("SELECT max(id) FROM api_token WHERE user_id = :u", u=user.id)
        return Actor(caller, user, token_id, {"Authorization": f"Bearer {value}"})

    def call(self, method: str, path: str, status: int, **kwargs) -> dict:
        """A request as the administrator, which must succeed (setting up a target)."""
        r = self.client.request(method, API + path, headers=self.admin, **kwargs)
        assert r.status_code == status, f"setup {method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else {}

    # fresh records
    def new_unit(self) -> str:
        code = f"to-dan-pho-thu-{self.n()}"
        self.call("POST", "/v1/units", 201, json={
            "code": code, "name_vi": f"Tổ dân phố thử {code}", "kind": "other", "parent_code": UNIT_A,
            "valid_from": "2024-01-01"})
        return code

    def new_event(self) -> int:
        return self.call("POST", "/v1/succession-events", 201, json={
            "kind": "dissolve", "effective_on": "2025-07-01", "predecessors": [self.new_unit()],
            "legal_basis": "Nghị quyết số 1683/NQ-UBTVQH15 ngày 16/6/2025"})["id"]

    def new_plan(self) -> str:
        code = f"KH-THU-{self.n()}"
        self.call("POST", "/v1/plans", 201, json={
            "code": code, "title_vi": "Kế hoạch truyền thông về bình đẳng giới (thử)",
            "issuer_vi": "Ủy ban nhân dân phường Sông Cầu", "start_year": 2026, "end_year": 2030})
        return code

    def new_indicator(self) -> str:
        code = f"IND-T{self.n()}"
        self.call("POST", "/v1/indicators", 201, json={
            "plan": CITY_PLAN, "code": code, "name_vi": "Tỷ lệ trường học có hoạt động ngoại khóa về bình đẳng giới",
            "measure": "share_of_units", "method": "units_with_law_session"})
        return code

    def new_target(self, code: str, year: int) -> None:
        self.call("PUT", f"/v1/indicators/{code}/targets/{year}", 201, json=TARGET)

    def new_campaign(self) -> int:
        return self.call("POST", "/v1/campaigns", 201, json={
            "name_vi": f"Lễ phát động hưởng ứng số {self.n()}", "starts_on": "2025-11-10",
            "ends_on": "2025-11-20"})["id"]

    def new_campaign_plan(self, unit_code: str) -> int:
        campaign_id = self.new_campaign()
        self.call("POST", f"/v1/campaigns/{campaign_id}/plans", 201, json={**CAMPAIGN_PLAN, "unit": unit_code})
        return campaign_id

    def new_activity(self, unit_code: str) -> int:
        return self.call("POST", "/v1/activities", 201, json=activity_body(unit_code, f"setup {self.n()}"))["id"]

    def new_survey(self) -> int:
        return self.call("POST", "/v1/surveys", 201, json={**SURVEY, "name": f"Khảo sát thử {self.n()}"})["id"]

    def new_webhook(self) -> int:
        return self.call("POST", "/v1/webhooks", 201, json=WEBHOOK)["id"]

    def new_file(self, unit_code: str, owner: str = "activity") -> int:
        """An evidence file on a fresh activity, campaign plan or (draft) report of the unit."""
        if owner == "plan":
            path = f"/v1/campaigns/{self.new_campaign_plan(unit_code)}/plans/{unit_code}/files"
        elif owner == "report":
            self.new_report(unit_code, "draft")
            path = f"/v1/reports/{REPORT_YEAR}/units/{unit_code}/files"
        else:
            path = f"/v1/activities/{self.new_activity(unit_code)}/files"
        return self.call("POST", path, 201, files=evidence())["id"]

    def new_report(self, unit_code: str, status: str) -> int:
        """The unit's report for REPORT_YEAR, freshly made and brought to `status` (draft, submitted, accepted)."""
        self.drop_report(unit_code)
        path = f"/v1/reports/{REPORT_YEAR}/units/{unit_code}"
        report = self.call("PUT", path, 201, json=report_body(unit_code))
        if status in ("submitted", "accepted"):
            self.call("POST", f"{path}/submit", 200)
        if status == "accepted":
            self.call("POST", f"{path}/accept", 200)
        return report["id"]

    def drop_report(self, unit_code: str) -> None:
        """Remove the unit's report for REPORT_YEAR (a unit has one a year, and every call needs a fresh one)."""
        ids = "SELECT id FROM annual_report WHERE unit_id = :u AND year = :y"
        params = {"u": self.unit_id(unit_code), "y": REPORT_YEAR}
        with self.engine.begin() as conn:
            conn.execute(text(f"DELETE FROM report_transition WHERE report_id IN ({ids})"), params)
            conn.execute(text(f"DELETE FROM report_media_status WHERE report_id IN ({ids})"), params)
            conn.execute(text(f"DELETE FROM attachment WHERE owner_type = 'report' AND owner_id IN ({ids})"), params)
            conn.execute(text("DELETE FROM annual_report WHERE unit_id = :u AND year = :y"), params)

    def new_user(self) -> User:
        return make_user(self.session, role="viewer")

    def token_of(self, user: User) -> int:
        make_token(self.session, user, scopes="read")
        return self.value("SELECT max(id) FROM api_token WHERE user_id = :u", u=user.id)

    # states
    def version(self, table: str, record_id: Any, key: str = "id") -> Callable[[], Any]:
        return lambda: self.value(f'SELECT version FROM "{table}" WHERE {key} = :k', k=record_id)

    def count(self, sql: str, **params) -> Callable[[], Any]:
        return lambda: self.value(sql, **params)


TARGET = {"value": 80, "source_document": "Kế hoạch số 45/KH-UBND ngày 01/3/2026"}
CAMPAIGN_PLAN = {"document_number": "45/KH-UBND", "document_date": "2025-11-03",
                 "title": "Kế hoạch hưởng ứng Lễ phát động"}
SURVEY = {"year": 2026, "name": "Khảo sát nhận thức", "conducted_by": "Phòng LĐ-TB&XH",
          "results": [{"target_group": "public", "score": 58.5, "respondents": 300}]}
WEBHOOK = {"url": "https://he-thong.backan.gov.vn/bdg", "events": ["report.submitted"]}


def activity_body(unit_code: str, title: str) -> dict:
    return {"unit": unit_code, "held_on": "2025-03-08", "title": title, "kind": "talk", "channel": "direct",
            "task_group": "1", "participants_male": 12, "participants_female": 30,
            "target_groups": [{"code": "public"}]}


def report_body(unit_code: str, leadership: str = "Ủy ban nhân dân đã ban hành kế hoạch.") -> dict:
    return {"leadership": leadership, "conventions_adopted": 12, "conventions_without_discrimination": 11,
            "media_statuses": [{"outlet": OUTLETS[unit_code], "status": "pilot"}]}


def evidence() -> dict:
    return {"file": ("bien-ban-hop.txt", "Biên bản buổi tuyên truyền Luật Bình đẳng giới.".encode(), "text/plain")}


# --- the routes -------------------------------------------------------------------------------------------------


@dataclass
class Case:
    targets: tuple[str, ...]
    prepare: Callable[[World, Actor, str], Call]
    expect: Expect


def _unit_of(target: str) -> str:
    return TARGET_UNITS[target][0]


def _self_or_new(w: World, actor: Actor, target: str) -> User:
    return actor.user if target == "self" and actor.user is not None else w.new_user()


# auth and /me


def _login(w: World, actor: Actor, target: str) -> Call:
    user = w.new_user()
    password = TEST_PASSWORD if target == "right" else "khong-dung-mat-khau"
    return Call({}, w.count("SELECT count(*) FROM api_token WHERE user_id = :u AND kind = 'login'", u=user.id),
                {"data": {"username": user.username, "password": password}})


def _logout(w: World, actor: Actor, target: str) -> Call:
    return Call({}, lambda: w.value("SELECT revoked_at FROM api_token WHERE id = :i", i=actor.token_id))


def _me_patch(w: World, actor: Actor, target: str) -> Call:
    user_id = actor.user.id if actor.user else None
    return Call({}, w.version("user", user_id), {"json": {"full_name": f"Nguyễn Thị Thu {w.n()}"}})


def _me_password(w: World, actor: Actor, target: str) -> Call:
    user_id = actor.user.id if actor.user else None
    return Call({}, w.version("user", user_id),
                {"json": {"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD}})


# users and tokens


def _user_state(w: World, user_id: int) -> Callable[[], Any]:
    return lambda: w.row('SELECT version, is_active FROM "user" WHERE id = :i', i=user_id)


def _user_create(w: World, actor: Actor, target: str) -> Call:
    username = f"can-bo-moi-{w.n()}"
    return Call({}, w.count('SELECT count(*) FROM "user" WHERE username = :u', u=username), {"json": {
        "username": username, "password": "mot-mat-khau-dai", "full_name": "Trần Văn Mới", "role": "viewer"}})


def _user_patch(w: World, actor: Actor, target: str) -> Call:
    user = _self_or_new(w, actor, target)
    return Call({"user_id": user.id}, _user_state(w, user.id), {"json": {"full_name": f"Lê Thị Hòa {w.n()}"}})


def _user_delete(w: World, actor: Actor, target: str) -> Call:
    user = _self_or_new(w, actor, target)
    return Call({"user_id": user.id}, _user_state(w, user.id))


def _user_password(w: World, actor: Actor, target: str) -> Call:
    user = _self_or_new(w, actor, target)
    return Call({"user_id": user.id}, _user_state(w, user.id), {"json": {"password": NEW_PASSWORD}})


def _token_create(w: World, actor: Actor, target: str) -> Call:
    name = f"Kịch bản đồng bộ {w.n()}"
    body: dict[str, Any] = {"name": name, "scopes": ["read"]}
    if target != "read":
        body = {**body, "scopes": ["read", "write"], "unit": _unit_of(target)}
    return Call({}, w.count("SELECT count(*) FROM api_token WHERE name = :n", n=name), {"json": body})


def _token_revoke(w: World, actor: Actor, target: str) -> Call:
    owner = actor.user if target == "own" and actor.user is not None else w.new_user()
    token_id = w.token_of(owner)
    return Call({"token_id": token_id}, lambda: w.value("SELECT revoked_at FROM api_token WHERE id = :i", i=token_id))


# reference data (staff only)


def _unit_create(w: World, actor: Actor, target: str) -> Call:
    code = f"to-dan-pho-moi-{w.n()}"
    return Call({}, w.count("SELECT count(*) FROM unit WHERE code = :c", c=code), {"json": {
        "code": code, "name_vi": "Tổ dân phố mới", "kind": "other", "parent_code": UNIT_A,
        "valid_from": "2024-01-01"}})


def _unit_patch(w: World, actor: Actor, target: str) -> Call:
    code = w.new_unit() if target == "new" else _unit_of(target)
    return Call({"code": code}, w.version("unit", code, "code"), {"json": {"name_en": f"Renamed {w.n()}"}})


def _unit_delete(w: World, actor: Actor, target: str) -> Call:
    code = w.new_unit()
    return Call({"code": code}, w.version("unit", code, "code"))


def _event_create(w: World, actor: Actor, target: str) -> Call:
    code = w.new_unit()
    return Call({}, lambda: w.row("SELECT valid_to, version FROM unit WHERE code = :c", c=code), {"json": {
        "kind": "dissolve", "effective_on": "2025-07-01", "predecessors": [code],
        "legal_basis": "Nghị quyết số 1683/NQ-UBTVQH15 ngày 16/6/2025"}})


def _event_patch(w: World, actor: Actor, target: str) -> Call:
    event_id = w.new_event()
    return Call({"event_id": event_id}, w.version("succession_event", event_id),
                {"json": {"note": f"Bổ sung căn cứ {w.n()}"}})


def _event_delete(w: World, actor: Actor, target: str) -> Call:
    event_id = w.new_event()
    return Call({"event_id": event_id}, w.version("succession_event", event_id))


def _plan_create(w: World, actor: Actor, target: str) -> Call:
    code = f"KH-MOI-{w.n()}"
    return Call({}, w.count("SELECT count(*) FROM plan WHERE code = :c", c=code), {"json": {
        "code": code, "title_vi": "Kế hoạch truyền thông về bình đẳng giới phường Sông Cầu",
        "issuer_vi": "Ủy ban nhân dân phường Sông Cầu", "start_year": 2026, "end_year": 2030}})


def _plan_patch(w: World, actor: Actor, target: str) -> Call:
    code = w.new_plan()
    return Call({"code": code}, w.version("plan", code, "code"), {"json": {"number": f"{w.n()}/KH-UBND"}})


def _plan_delete(w: World, actor: Actor, target: str) -> Call:
    code = w.new_plan()
    return Call({"code": code}, w.version("plan", code, "code"))


def _indicator_create(w: World, actor: Actor, target: str) -> Call:
    code = f"IND-M{w.n()}"
    return Call({}, w.count("SELECT count(*) FROM indicator WHERE code = :c", c=code), {"json": {
        "plan": CITY_PLAN, "code": code, "name_vi": "Tỷ lệ hội viên được truyền thông về bình đẳng giới",
        "measure": "share_of_units", "method": "units_with_law_session"}})


def _indicator_patch(w: World, actor: Actor, target: str) -> Call:
    code = w.new_indicator()
    return Call({"code": code}, w.version("indicator", code, "code"), {"json": {"name_en": f"Schools {w.n()}"}})


def _indicator_delete(w: World, actor: Actor, target: str) -> Call:
    code = w.new_indicator()
    return Call({"code": code}, w.version("indicator", code, "code"))


def _target_state(w: World, code: str, year: int) -> Callable[[], Any]:
    return lambda: w.row("SELECT t.version, t.value FROM indicator_target t JOIN indicator i ON i.id = t.indicator_id "
                         "WHERE i.code = :c AND t.year = :y", c=code, y=year)


def _target_put(w: World, actor: Actor, target: str) -> Call:
    code = w.new_indicator()
    if target == "stored":
        w.new_target(code, 2027)
    return Call({"code": code, "year": 2027}, _target_state(w, code, 2027), {"json": {**TARGET, "value": 85}})


def _target_delete(w: World, actor: Actor, target: str) -> Call:
    code = w.new_indicator()
    w.new_target(code, 2027)
    return Call({"code": code, "year": 2027}, _target_state(w, code, 2027))


def _campaign_create(w: World, actor: Actor, target: str) -> Call:
    name = f"Ngày hội gia đình số {w.n()}"
    return Call({}, w.count("SELECT count(*) FROM campaign WHERE name_vi = :n", n=name), {"json": {
        "name_vi": name, "starts_on": "2025-06-20", "ends_on": "2025-06-28"}})


def _campaign_patch(w: World, actor: Actor, target: str) -> Call:
    campaign_id = w.new_campaign()
    return Call({"campaign_id": campaign_id}, w.version("campaign", campaign_id),
                {"json": {"theme_vi": f"Bình đẳng giới trong kỷ nguyên số {w.n()}"}})


def _campaign_delete(w: World, actor: Actor, target: str) -> Call:
    campaign_id = w.new_campaign()
    return Call({"campaign_id": campaign_id}, w.version("campaign", campaign_id))


def _survey_create(w: World, actor: Actor, target: str) -> Call:
    name = f"Khảo sát nhận thức giữa kỳ {w.n()}"
    return Call({}, w.count("SELECT count(*) FROM survey_round WHERE name = :n", n=name),
                {"json": {**SURVEY, "name": name}})


def _survey_patch(w: World, actor: Actor, target: str) -> Call:
    survey_id = w.new_survey()
    return Call({"round_id": survey_id}, w.version("survey_round", survey_id), {"json": {"note": f"Ghi chú {w.n()}"}})


def _survey_delete(w: World, actor: Actor, target: str) -> Call:
    survey_id = w.new_survey()
    return Call({"round_id": survey_id}, w.version("survey_round", survey_id))


def _webhook_create(w: World, actor: Actor, target: str) -> Call:
    url = f"https://he-thong.backan.gov.vn/bdg/{w.n()}"
    return Call({}, w.count("SELECT count(*) FROM webhook WHERE url = :u", u=url),
                {"json": {**WEBHOOK, "url": url}})


def _webhook_patch(w: World, actor: Actor, target: str) -> Call:
    hook_id = w.new_webhook()
    return Call({"webhook_id": hook_id}, w.version("webhook", hook_id), {"json": {"active": False}})


def _webhook_delete(w: World, actor: Actor, target: str) -> Call:
    hook_id = w.new_webhook()
    return Call({"webhook_id": hook_id}, w.version("webhook", hook_id))


def _deliveries(w: World, hook_id: int) -> Callable[[], Any]:
    return w.count("SELECT count(*) FROM webhook_delivery WHERE webhook_id = :h", h=hook_id)


def _webhook_test(w: World, actor: Actor, target: str) -> Call:
    hook_id = w.new_webhook()
    return Call({"webhook_id": hook_id}, _deliveries(w, hook_id))


def _webhook_redeliver(w: World, actor: Actor, target: str) -> Call:
    hook_id = w.new_webhook()
    delivery_id = w.call("POST", f"/v1/webhooks/{hook_id}/test", 202)["id"]
    return Call({"webhook_id": hook_id, "delivery_id": delivery_id}, _deliveries(w, hook_id))


# unit-scoped records


def _campaign_plan_create(w: World, actor: Actor, target: str) -> Call:
    campaign_id = w.new_campaign()
    return Call({"campaign_id": campaign_id},
                w.count("SELECT count(*) FROM campaign_plan WHERE campaign_id = :c", c=campaign_id),
                {"json": {**CAMPAIGN_PLAN, "unit": _unit_of(target)}})


def _campaign_plan_state(w: World, campaign_id: int, unit_code: str) -> Callable[[], Any]:
    return lambda: w.value("SELECT version FROM campaign_plan WHERE campaign_id = :c AND unit_id = :u",
                           c=campaign_id, u=w.unit_id(unit_code))


def _campaign_plan_patch(w: World, actor: Actor, target: str) -> Call:
    unit_code = _unit_of(target)
    campaign_id = w.new_campaign_plan(unit_code)
    return Call({"campaign_id": campaign_id, "unit_code": unit_code}, _campaign_plan_state(w, campaign_id, unit_code),
                {"json": {"title": f"Kế hoạch hưởng ứng (sửa lần {w.n()})"}})


def _campaign_plan_delete(w: World, actor: Actor, target: str) -> Call:
    unit_code = _unit_of(target)
    campaign_id = w.new_campaign_plan(unit_code)
    return Call({"campaign_id": campaign_id, "unit_code": unit_code}, _campaign_plan_state(w, campaign_id, unit_code))


def _activity_create(w: World, actor: Actor, target: str) -> Call:
    title = f"Nói chuyện chuyên đề về bình đẳng giới số {w.n()}"
    return Call({}, w.count("SELECT count(*) FROM activity WHERE title = :t", t=title),
                {"json": activity_body(_unit_of(target), title)})


def _activity_import(w: World, actor: Actor, target: str) -> Call:
    title = f"Tuyên truyền tại tổ dân phố số {w.n()}"
    content = ("unit,held_on,title,kind,channel,task_group,participants_male,participants_female\n"
               f"{_unit_of(target)},08/03/2025,{title},direct,direct,1,20,35\n").encode()
    return Call({}, w.count("SELECT count(*) FROM activity WHERE title = :t", t=title),
                {"files": {"file": ("hoat-dong.csv", content, "text/csv")}})


def _activity_state(w: World, activity_id: int) -> Callable[[], Any]:
    return lambda: w.row("SELECT version, unit_id FROM activity WHERE id = :i", i=activity_id)


def _activity_patch(w: World, actor: Actor, target: str) -> Call:
    activity_id = w.new_activity(_unit_of(target))
    if "→" in target:
        body = {"unit": TARGET_UNITS[target][1]}
    else:
        body = {"title": f"Tọa đàm về bình đẳng giới (sửa lần {w.n()})"}
    return Call({"activity_id": activity_id}, _activity_state(w, activity_id), {"json": body})


def _activity_delete(w: World, actor: Actor, target: str) -> Call:
    activity_id = w.new_activity(_unit_of(target))
    return Call({"activity_id": activity_id}, _activity_state(w, activity_id))


def _report_state(w: World, unit_code: str) -> Callable[[], Any]:
    return lambda: w.row("SELECT version, status FROM annual_report WHERE unit_id = :u AND year = :y AND "
                         "kind = 'annual'", u=w.unit_id(unit_code), y=REPORT_YEAR)


def _report_put(w: World, actor: Actor, target: str) -> Call:
    unit_code = _unit_of(target)
    if target.endswith("/new"):
        w.drop_report(unit_code)
    else:
        w.new_report(unit_code, "draft")
    return Call({"year": REPORT_YEAR, "unit": unit_code}, _report_state(w, unit_code),
                {"json": report_body(unit_code, f"Đã ban hành kế hoạch số {w.n()}/KH-UBND.")})


def _report_action(status: str, body: dict | None = None) -> Callable[[World, Actor, str], Call]:
    """An action on a fresh report of the target's unit that is in `status`, the one the action needs."""
    def prepare(w: World, actor: Actor, target: str) -> Call:
        unit_code = _unit_of(target)
        w.new_report(unit_code, status)
        return Call({"year": REPORT_YEAR, "unit": unit_code}, _report_state(w, unit_code),
                    {"json": body} if body is not None else {})
    return prepare


def _attachments(w: World, owner_type: str, owner_id: int) -> Callable[[], Any]:
    return w.count("SELECT count(*) FROM attachment WHERE owner_type = :t AND owner_id = :o", t=owner_type,
                   o=owner_id)


def _activity_file(w: World, actor: Actor, target: str) -> Call:
    activity_id = w.new_activity(_unit_of(target))
    return Call({"activity_id": activity_id}, _attachments(w, "activity", activity_id), {"files": evidence()})


def _plan_file(w: World, actor: Actor, target: str) -> Call:
    unit_code = _unit_of(target)
    campaign_id = w.new_campaign_plan(unit_code)
    plan_id = w.value("SELECT id FROM campaign_plan WHERE campaign_id = :c", c=campaign_id)
    return Call({"campaign_id": campaign_id, "unit_code": unit_code}, _attachments(w, "campaign_plan", plan_id),
                {"files": evidence()})


def _report_file(w: World, actor: Actor, target: str) -> Call:
    unit_code = _unit_of(target)
    report_id = w.new_report(unit_code, "draft")
    return Call({"year": REPORT_YEAR, "unit_code": unit_code}, _attachments(w, "report", report_id),
                {"files": evidence()})


def _file_delete(w: World, actor: Actor, target: str) -> Call:
    file_id = w.new_file(_unit_of(target), target.partition("/")[2] or "activity")
    return Call({"file_id": file_id}, w.count("SELECT count(*) FROM attachment WHERE id = :i", i=file_id))


AB = ("A", "B")
ONE = ("-",)
CASES: dict[str, Case] = {
    # identity (SELF_SERVICE above, and accounts: admins; tokens: their owner, or an admin)
    "POST /v1/auth/token": Case(("right", "wrong"), _login, login),
    "POST /v1/auth/logout": Case(ONE, _logout, lambda c, t: _answer(c, True, 204)),
    "PATCH /v1/me": Case(ONE, _me_patch, self_service(200)),
    "POST /v1/me/password": Case(ONE, _me_password, self_service(204)),
    "POST /v1/users": Case(ONE, _user_create, user_admin(201)),
    "PATCH /v1/users/{user_id}": Case(("other", "self"), _user_patch, user_admin(200)),
    "DELETE /v1/users/{user_id}": Case(("other", "self"), _user_delete, user_admin(204)),
    "POST /v1/users/{user_id}/password": Case(("other", "self"), _user_password, user_admin(204)),
    "POST /v1/tokens": Case(("read", "A", "B"), _token_create, token_create),
    "DELETE /v1/tokens/{token_id}": Case(("own", "other"), _token_revoke, token_revoke),
    # reference data: coordinators and admins
    "POST /v1/units": Case(ONE, _unit_create, staff(201)),
    "PATCH /v1/units/{code}": Case(("new", "A", "B"), _unit_patch, staff(200)),
    "DELETE /v1/units/{code}": Case(ONE, _unit_delete, staff(204)),
    "POST /v1/succession-events": Case(ONE, _event_create, staff(201)),
    "PATCH /v1/succession-events/{event_id}": Case(ONE, _event_patch, staff(200)),
    "DELETE /v1/succession-events/{event_id}": Case(ONE, _event_delete, staff(204)),
    "POST /v1/plans": Case(ONE, _plan_create, staff(201)),
    "PATCH /v1/plans/{code}": Case(ONE, _plan_patch, staff(200)),
    "DELETE /v1/plans/{code}": Case(ONE, _plan_delete, staff(204)),
    "POST /v1/indicators": Case(ONE, _indicator_create, staff(201)),
    "PATCH /v1/indicators/{code}": Case(ONE, _indicator_patch, staff(200)),
    "DELETE /v1/indicators/{code}": Case(ONE, _indicator_delete, staff(204)),
    "PUT /v1/indicators/{code}/targets/{year}": Case(
        ("new", "stored"), _target_put, lambda c, t: staff(201 if t == "new" else 200)(c, t)),
    "DELETE /v1/indicators/{code}/targets/{year}": Case(ONE, _target_delete, staff(204)),
    "POST /v1/campaigns": Case(ONE, _campaign_create, staff(201)),
    "PATCH /v1/campaigns/{campaign_id}": Case(ONE, _campaign_patch, staff(200)),
    "DELETE /v1/campaigns/{campaign_id}": Case(ONE, _campaign_delete, staff(204)),
    "POST /v1/surveys": Case(ONE, _survey_create, staff(201)),
    "PATCH /v1/surveys/{round_id}": Case(ONE, _survey_patch, staff(200)),
    "DELETE /v1/surveys/{round_id}": Case(ONE, _survey_delete, staff(204)),
    "POST /v1/webhooks": Case(ONE, _webhook_create, staff(201)),
    "PATCH /v1/webhooks/{webhook_id}": Case(ONE, _webhook_patch, staff(200)),
    "DELETE /v1/webhooks/{webhook_id}": Case(ONE, _webhook_delete, staff(204)),
    "POST /v1/webhooks/{webhook_id}/test": Case(ONE, _webhook_test, staff(202)),
    "POST /v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver": Case(ONE, _webhook_redeliver, staff(202)),
    # records of a unit: its officers, staff, tokens bound to it
    "POST /v1/campaigns/{campaign_id}/plans": Case(AB, _campaign_plan_create, unit(201)),
    "PATCH /v1/campaigns/{campaign_id}/plans/{unit_code}": Case(AB, _campaign_plan_patch, unit(200)),
    "DELETE /v1/campaigns/{campaign_id}/plans/{unit_code}": Case(AB, _campaign_plan_delete, unit(204)),
    "POST /v1/activities": Case(("A", "B", "outlet of A"), _activity_create, unit(201)),
    "POST /v1/activities/import": Case(AB, _activity_import, import_rows),
    "PATCH /v1/activities/{activity_id}": Case(("A", "B", "A→B", "B→A"), _activity_patch, unit(200)),
    "DELETE /v1/activities/{activity_id}": Case(AB, _activity_delete, unit(204)),
    "PUT /v1/reports/{year}/units/{unit}": Case(
        ("A", "B", "A/new", "B/new"), _report_put, lambda c, t: unit(201 if t.endswith("/new") else 200)(c, t)),
    "POST /v1/reports/{year}/units/{unit}/submit": Case(AB, _report_action("draft"), unit(200)),
    # workflow decisions on a unit's report: coordinators and admins only, whatever the unit
    "POST /v1/reports/{year}/units/{unit}/accept": Case(AB, _report_action("submitted"), staff(200)),
    "POST /v1/reports/{year}/units/{unit}/return": Case(
        AB, _report_action("submitted", {"comment": "Bổ sung số liệu hương ước, quy ước."}), staff(200)),
    "POST /v1/reports/{year}/units/{unit}/reopen": Case(
        AB, _report_action("accepted", {"reason": "Cập nhật kết quả Tháng hành động."}), staff(200)),
    # evidence files: the rights on the record they are attached to
    "POST /v1/activities/{activity_id}/files": Case(AB, _activity_file, unit(201)),
    "POST /v1/campaigns/{campaign_id}/plans/{unit_code}/files": Case(AB, _plan_file, unit(201)),
    "POST /v1/reports/{year}/units/{unit_code}/files": Case(AB, _report_file, unit(201)),
    "DELETE /v1/files/{file_id}": Case(("A", "B", "A/plan", "B/plan", "A/report", "B/report"), _file_delete, unit(204)),
}


# --- the tests --------------------------------------------------------------------------------------------------


def _write_routes() -> set[str]:
    from app.api import api_app

    paths = api_app.openapi()["paths"]
    return {f"{method.upper()} {path}" for path, ops in paths.items() for method in ops if method in WRITE_METHODS}


def _refuses_someone(route: str) -> bool:
    """Whether some logged-in user (full scopes) is refused on some target: the route is role-, unit- or
    owner-guarded."""
    case = CASES[route]
    return any(case.expect(c, t) in (403, 404, 422) for c in CALLERS if c.role and not c.api_token
               for t in case.targets)


def test_every_write_route_is_in_the_matrix():
    routes = _write_routes()
    assert sorted(routes - CASES.keys()) == [], "write routes the permission matrix does not cover"
    assert sorted(CASES.keys() - routes) == [], "matrix rows for routes the API does not have"
    # The routes open to any logged-in user (on themselves) are exactly the ones listed as such.
    assert {r for r in CASES if not _refuses_someone(r)} == SELF_SERVICE


@pytest.fixture(autouse=True)
def _no_webhook_worker(monkeypatch):
    # Deliveries are queued by some of these writes; nothing should try to send them during the test.
    monkeypatch.setenv("WEBHOOK_WORKER", "false")
    get_settings.cache_clear()


@pytest.mark.parametrize("route", sorted(CASES))
def test_permission_matrix(route, client, session, engine):
    method, template = route.split(" ", 1)
    case = CASES[route]
    world = World(client, session, engine)
    problems: list[str] = []
    for caller in CALLERS:
        for target in case.targets:
            actor = world.actor(caller)
            call = case.prepare(world, actor, target)
            expected = case.expect(caller, target)
            path = API + template.format(**call.params)
            state, audits = call.state(), world.audit_count()
            r = client.request(method, path, headers=actor.headers, **call.kwargs)
            state_after, audits_after = call.state(), world.audit_count()
            where = f"{caller.name} on {target}: {method} {path}"
            if r.status_code != expected:
                problems.append(f"{where}: expected {expected}, got {r.status_code} {r.text[:300]}")
            elif r.status_code < 300:
                if state_after == state:
                    problems.append(f"{where}: {r.status_code} but the target did not change ({state})")
                if audits_after <= audits:
                    problems.append(f"{where}: {r.status_code} but no audit entry")
            else:
                if r.status_code == 422 and [(e["row"], e["field"]) for e in r.json()["errors"]] != [(2, "unit")]:
                    problems.append(f"{where}: the refusal does not name row 2's unit: {r.text[:300]}")
                if not r.headers.get("content-type", "").startswith("application/problem+json"):
                    problems.append(f"{where}: refused without a problem document")
            if r.status_code >= 300 and state_after != state:
                problems.append(f"{where}: refused ({r.status_code}) but the target changed: {state} → {state_after}")
            if r.status_code >= 300 and audits_after != audits:
                problems.append(f"{where}: refused ({r.status_code}) but {audits_after - audits} audit entries added")
    assert not problems, f"{len(problems)} wrong answer(s):\n" + "\n".join(problems)
