"""The report workflow: every transition by every role, deadlines, the frozen summary, events."""

from datetime import date

import pytest
from sqlmodel import select

from app.models import (
    Activity,
    ActivityProduct,
    ActivityTargetGroup,
    AuditEntry,
    Webhook,
    WebhookDelivery,
)
from tests.api.test_reports import People, local, quick_user, report_url, set_clock, ward_body
from tests.factories import make_token, unit

UNIT = "p-song-cau"
YEAR = 2024
ROLES = ("admin", "coordinator", "officer_own", "officer_other", "viewer")
# Each role that may take an action takes it on its own ward's report, so that one database serves them all.
WARDS = ("p-song-cau", "x-duong-quang", "p-xuat-hoa")
# Who may take each action, and where each legal action leads (written out, not taken from the code).
WHO = {
    "edit": {"admin", "coordinator", "officer_own"},
    "submit": {"admin", "coordinator", "officer_own"},
    "accept": {"admin", "coordinator"},
    "return": {"admin", "coordinator"},
    "reopen": {"admin", "coordinator"},
}
LEGAL = {
    ("edit", "draft"): "draft", ("edit", "returned"): "returned",
    ("submit", "draft"): "submitted", ("submit", "returned"): "resubmitted",
    ("accept", "submitted"): "accepted", ("accept", "resubmitted"): "accepted",
    ("return", "submitted"): "returned", ("return", "resubmitted"): "returned",
    ("reopen", "accepted"): "returned",
}
ALLOWED = {
    "draft": ["edit", "submit"], "returned": ["edit", "submit"], "submitted": ["accept", "return"],
    "resubmitted": ["accept", "return"], "accepted": ["reopen"],
}
PATH_TO = {
    "draft": [], "submitted": ["submit"], "returned": ["submit", "return"],
    "resubmitted": ["submit", "return", "submit"], "accepted": ["submit", "accept"],
}
STATUSES = list(PATH_TO)


@pytest.fixture
def people(session) -> People:
    return People(session)


def actor(people, name: str, unit_code: str = UNIT) -> tuple[dict, str]:
    """Headers and username of the user playing `name` towards the report of `unit_code`."""
    if name == "officer_own":
        return people.user("officer", unit_code)
    if name == "officer_other":
        return people.user("officer", "p-duc-xuan")
    return people.user(name)


def act(client, headers, action: str, year: int = YEAR, unit_code: str = UNIT, **params):
    """Take a workflow action (or an edit) through the API."""
    if action == "edit":
        body = ward_body(f"loa-{unit_code}", proposals="Sửa đổi.")
        return client.put(report_url(year, unit_code), json=body, headers=headers, params=params)
    payload = {"return": {"comment": "Bổ sung số liệu hội nghị."}, "reopen": {"reason": "Bổ sung hoạt động sau 10/12."}}
    return client.post(report_url(year, unit_code, action), json=payload.get(action), headers=headers,
                       params=params)


def bring_to(client, people, status: str, unit_code: str = UNIT) -> dict:
    """Create the report of `unit_code` and drive it to `status` as a coordinator."""
    h = people("coordinator")
    outlet = f"loa-{unit_code}"
    r = client.put(report_url(YEAR, unit_code), json=ward_body(outlet), headers=h)
    assert r.status_code == 201, r.text
    for step in PATH_TO[status]:
        r = act(client, h, step, unit_code=unit_code)
        assert r.status_code == 200, r.text
    assert r.json()["status"] == status
    return r.json()


def current(client, people, unit_code: str = UNIT) -> dict:
    return client.get(report_url(YEAR, unit_code), headers=people("viewer")).json()


def history(client, people, unit_code: str = UNIT) -> list[dict]:
    return client.get(report_url(YEAR, unit_code, "history"), headers=people("viewer")).json()


class TestTransitionsByRole:
    @pytest.mark.parametrize("action, status", list(LEGAL))
    def test_legal_transition_by_each_role_that_may(self, client, session, people, action, status):
        for role, code in zip(sorted(WHO[action]), WARDS, strict=False):
            before = bring_to(client, people, status, code)
            steps_before = len(history(client, people, code))
            # Everyone else is refused first, and changes nothing.
            for other in sorted(set(ROLES) - WHO[action]):
                r = act(client, actor(people, other, code)[0], action, unit_code=code)
                assert r.status_code == 403, (other, r.text)
                assert r.headers["content-type"] == "application/problem+json"
            assert current(client, people, code)["version"] == before["version"]

            headers, username = actor(people, role, code)
            r = act(client, headers, action, unit_code=code)
            assert r.status_code == 200, (role, r.text)
            after = r.json()
            assert after["status"] == LEGAL[(action, status)]
            assert after["version"] == before["version"] + 1
            assert r.headers["etag"] == f'"{after["id"]}.{after["version"]}"'
            steps = history(client, people, code)
            if action == "edit":
                assert len(steps) == steps_before
                assert after["proposals"] == "Sửa đổi."
            else:
                assert len(steps) == steps_before + 1
                last = steps[-1]
                assert (last["action"], last["from_status"], last["to_status"], last["by"]) == (
                    action, status, LEGAL[(action, status)], username)
            session.commit()  # end the test session's read snapshot (SQLite) to see the app's writes
            entry = session.exec(select(AuditEntry).where(AuditEntry.resource_type == "annual_report",
                                                          AuditEntry.resource_id == str(after["id"]))
                                 .order_by(AuditEntry.id.desc())).first()
            session.commit()
            assert entry.action == ("update" if action == "edit" else action)
            assert (entry.before["status"], entry.after["status"]) == (status, LEGAL[(action, status)])

    @pytest.mark.parametrize("status", STATUSES)
    def test_illegal_transitions_are_refused_for_every_role(self, client, session, people, status):
        before = bring_to(client, people, status)
        steps_before = len(history(client, people))
        illegal = [a for a in WHO if (a, status) not in LEGAL]
        assert illegal
        for action in illegal:
            for name in ROLES:
                r = act(client, actor(people, name)[0], action)
                if name not in WHO[action]:
                    assert r.status_code == 403, (action, name, r.text)
                    continue
                assert r.status_code == 409, (action, name, r.text)
                problem = r.json()
                assert problem["current_status"] == status
                assert problem["allowed_actions"] == ALLOWED[status]
                assert status in problem["detail"]
        after = current(client, people)
        assert (after["status"], after["version"]) == (status, before["version"])
        assert len(history(client, people)) == steps_before

    def test_submitting_twice_is_a_conflict(self, client, session, people):
        bring_to(client, people, "draft")
        h = people("officer", UNIT)
        assert act(client, h, "submit").status_code == 200
        again = act(client, h, "submit")
        assert again.status_code == 409 and again.json()["allowed_actions"] == ["accept", "return"]

    def test_actions_listed_for_the_caller(self, client, session, people):
        bring_to(client, people, "submitted")
        url = report_url(YEAR, UNIT)
        assert client.get(url, headers=people("coordinator")).json()["actions"] == [
            "accept", "return"]
        assert client.get(url, headers=people("officer", UNIT)).json()["actions"] == []

    def test_a_staff_token_bound_to_a_unit_cannot_review(self, client, session, people):
        bring_to(client, people, "submitted")
        user = quick_user(session, "coordinator")
        token = make_token(session, user, unit_code=UNIT)
        assert act(client, {"Authorization": f"Bearer {token}"}, "accept").status_code == 403

    def test_action_on_a_missing_report_is_404(self, client, session, people):
        assert act(client, people(), "submit").status_code == 404


class TestDeadline:
    def test_last_second_of_9_december_is_on_time_and_midnight_is_late(self, client, session, people, monkeypatch):
        coord = people()
        for code in ("p-song-cau", "p-duc-xuan", "x-duong-quang"):
            assert client.put(report_url(YEAR, code), json=ward_body(f"loa-{code}"), headers=coord).status_code == 201

        set_clock(monkeypatch, local(2024, 12, 9, 23, 59))
        r = act(client, people("officer", "x-duong-quang"), "submit", unit_code="x-duong-quang")
        assert (r.json()["on_time"], r.json()["first_submitted_at"]) == (True, "2024-12-09T16:59:00Z")
        set_clock(monkeypatch, local(2024, 12, 9, 23, 59, 59))
        r = act(client, people("officer", "p-song-cau"), "submit")
        assert r.json()["on_time"] is True
        set_clock(monkeypatch, local(2024, 12, 10, 0, 0, 0))
        r = act(client, people("officer", "p-duc-xuan"), "submit", unit_code="p-duc-xuan")
        assert (r.json()["on_time"], r.json()["submitted_at"]) == (False, "2024-12-09T17:00:00Z")

        c = client.get(f"{report_url(YEAR, 'x')[:-len('/units/x')]}/completeness", headers=coord).json()
        assert [(u["code"], u["days_late"]) for u in c["late_units"]] == [("p-duc-xuan", 1)]
        rows = {u["unit_code"]: u for u in c["units"]}
        assert rows["p-song-cau"]["on_time"] is True and rows["x-duong-quang"]["on_time"] is True

    def test_resubmission_keeps_the_first_submission_verdict(self, client, session, people, monkeypatch):
        bring_to(client, people, "draft")
        coord = people()
        set_clock(monkeypatch, local(2024, 12, 1, 9))
        first = act(client, coord, "submit").json()
        set_clock(monkeypatch, local(2024, 12, 3, 9))
        returned = act(client, coord, "return").json()
        assert returned["return_comment"] == "Bổ sung số liệu hội nghị."
        # The officer sees why.
        assert current(client, people)["return_comment"] == "Bổ sung số liệu hội nghị."
        set_clock(monkeypatch, local(2024, 12, 15, 9))
        again = act(client, people("officer", UNIT), "submit").json()
        assert again["status"] == "resubmitted"
        assert (again["first_submitted_at"], again["on_time"]) == (first["first_submitted_at"], True)
        assert again["submitted_at"] == "2024-12-15T02:00:00Z"

    def test_reopen_keeps_timeliness_and_allows_amendment(self, client, session, people, monkeypatch):
        set_clock(monkeypatch, local(2024, 12, 5, 10))
        accepted = bring_to(client, people, "accepted")
        assert accepted["accepted_at"] == "2024-12-05T03:00:00Z"
        coord = people()
        set_clock(monkeypatch, local(2024, 12, 20, 10))
        assert client.post(report_url(YEAR, UNIT, "reopen"), json={}, headers=coord).status_code == 422
        assert client.post(report_url(YEAR, UNIT, "reopen"), json={"reason": ""}, headers=coord).status_code == 422
        reopened = act(client, coord, "reopen").json()
        assert (reopened["status"], reopened["reopen_reason"], reopened["accepted_at"]) == (
            "returned", "Bổ sung hoạt động sau 10/12.", None)
        assert (reopened["first_submitted_at"], reopened["on_time"]) == (accepted["first_submitted_at"], True)
        officer = people("officer", UNIT)
        assert act(client, officer, "edit").status_code == 200
        assert act(client, officer, "submit").json()["status"] == "resubmitted"
        final = act(client, coord, "accept").json()
        assert (final["status"], final["on_time"], final["accepted_at"]) == ("accepted", True, "2024-12-20T03:00:00Z")
        assert [s["action"] for s in history(client, people)] == ["submit", "accept", "reopen", "submit", "accept"]
        assert history(client, people)[2]["comment"] == "Bổ sung hoạt động sau 10/12."

    def test_return_needs_a_comment(self, client, session, people):
        bring_to(client, people, "submitted")
        coord = people()
        for payload in (None, {}, {"comment": ""}, {"comment": "x" * 4001}):
            r = client.post(report_url(YEAR, UNIT, "return"), json=payload, headers=coord)
            assert r.status_code == 422, payload
        assert current(client, people)["status"] == "submitted"


class TestSubmissionRequirements:
    def test_ward_must_give_conventions_and_its_outlet(self, client, session, people):
        h = people("officer", UNIT)
        client.put(report_url(YEAR, UNIT), json={"leadership": "…"}, headers=h)
        r = act(client, h, "submit")
        assert r.status_code == 422
        assert {e["field"] for e in r.json()["errors"]} == {
            "body.conventions_adopted", "body.conventions_without_discrimination",
            "body.media_statuses.loa-p-song-cau"}
        assert current(client, people)["status"] == "draft"

    def test_the_centre_must_give_the_station(self, client, session, people):
        h = people()
        client.put(report_url(YEAR, "tt-vhttt"), json={}, headers=h)
        r = act(client, h, "submit", unit_code="tt-vhttt")
        assert [e["field"] for e in r.json()["errors"]] == ["body.media_statuses.dai-tt-th"]
        client.put(report_url(YEAR, "tt-vhttt"), json={"media_statuses": [{"outlet": "dai-tt-th",
                                                                             "status": "official"}]}, headers=h)
        assert act(client, h, "submit", unit_code="tt-vhttt").status_code == 200

    def test_a_department_needs_no_figures_and_a_review_needs_none(self, client, session, people):
        h = people()
        client.put(report_url(YEAR, "phong-ldtbxh"), json={}, headers=h)
        assert act(client, h, "submit", unit_code="phong-ldtbxh").status_code == 200
        client.put(report_url(2025, UNIT), json={}, params={"kind": "midterm"}, headers=h)
        r = client.post(report_url(2025, UNIT, "submit"), params={"kind": "midterm"}, headers=h)
        assert r.status_code == 200 and r.json()["kind"] == "midterm"


class TestIfMatchAndIdempotency:
    def test_stale_if_match_is_412_and_changes_nothing(self, client, session, people):
        draft = bring_to(client, people, "draft")
        h = people("officer", UNIT)
        etag = f'"{draft["id"]}.{draft["version"]}"'
        act(client, h, "edit")
        r = client.post(report_url(YEAR, UNIT, "submit"), headers={**h, "If-Match": etag})
        assert r.status_code == 412
        assert current(client, people)["status"] == "draft"
        fresh = client.get(report_url(YEAR, UNIT), headers=h).headers["etag"]
        assert client.post(report_url(YEAR, UNIT, "submit"), headers={**h, "If-Match": fresh}).status_code == 200

    def test_a_retried_submit_is_replayed(self, client, session, people):
        bring_to(client, people, "draft")
        h = {**people("officer", UNIT), "Idempotency-Key": "nop-bao-cao-2024"}
        first = client.post(report_url(YEAR, UNIT, "submit"), headers=h)
        again = client.post(report_url(YEAR, UNIT, "submit"), headers=h)
        assert first.status_code == again.status_code == 200
        assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
        assert [s["action"] for s in history(client, people)] == ["submit"]


class TestEvents:
    def test_submit_return_accept_queue_webhook_events(self, client, session, people):
        every = Webhook(url="http://127.0.0.1:9/all", events="report.submitted report.returned report.accepted",
                        secret="bí-mật")
        accepted_only = Webhook(url="http://127.0.0.1:9/ok", events="report.accepted", secret="s2")
        session.add_all([every, accepted_only])
        session.commit()
        bring_to(client, people, "accepted")  # submit, accept
        coord = people()
        act(client, coord, "reopen")
        act(client, coord, "submit")
        act(client, coord, "return")
        rows = session.exec(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        got = [(d.webhook_id, d.event, d.payload["status"]) for d in rows]
        assert got == [
            (every.id, "report.submitted", "submitted"),
            (every.id, "report.accepted", "accepted"), (accepted_only.id, "report.accepted", "accepted"),
            (every.id, "report.submitted", "resubmitted"),
            (every.id, "report.returned", "returned"),
        ]
        payload = rows[0].payload
        assert {k: payload[k] for k in ("event", "year", "unit", "kind", "report")} == {
            "event": "report.submitted", "year": YEAR, "unit": UNIT, "kind": "annual",
            "report": f"/api/v1/reports/{YEAR}/units/{UNIT}"}
        assert payload["at"]


def _activity(session, unit_code, held_on, *, kind="talk", channel="direct", task_group="1", male=0, female=0,
              broadcasts=0, cost=0, funding=None, groups=(), products=()):
    a = Activity(unit_id=unit(session, unit_code).id, held_on=held_on, title=f"Hoạt động {held_on}", kind=kind,
                 channel=channel, task_group=task_group, participants_male=male, participants_female=female,
                 broadcasts=broadcasts, cost_vnd=cost, funding_source=funding)
    session.add(a)
    session.flush()
    for code, m, f in groups:
        session.add(ActivityTargetGroup(activity_id=a.id, code=code, participants_male=m, participants_female=f))
    for code, qty in products:
        session.add(ActivityProduct(activity_id=a.id, code=code, quantity=qty))
    session.commit()
    return {"kind": kind, "channel": channel, "task_group": task_group, "male": male, "female": female,
            "broadcasts": broadcasts, "cost": cost, "funding": funding or "unspecified", "groups": groups,
            "products": products}


def _expected_summary(acts: list[dict]) -> dict:
    """The summary, computed here from the activities' values."""
    def add(d, key, by=1):
        d[key] = d.get(key, 0) + by

    by_kind, by_channel, products, cost = {}, {}, {}, {}
    by_task_group: dict = {}
    by_target_group: dict = {}
    for a in acts:
        add(by_kind, a["kind"])
        add(by_channel, a["channel"])
        add(cost, a["funding"], a["cost"])
        tg = by_task_group.setdefault(a["task_group"], {"activities": 0, "male": 0, "female": 0, "total": 0})
        tg["activities"] += 1
        tg["male"] += a["male"]
        tg["female"] += a["female"]
        tg["total"] += a["male"] + a["female"]
        for code, m, f in a["groups"]:
            g = by_target_group.setdefault(code, {"activities": 0, "male": 0, "female": 0, "total": 0})
            g["activities"] += 1
            g["male"] += m or 0
            g["female"] += f or 0
            g["total"] += (m or 0) + (f or 0)
        for code, qty in a["products"]:
            add(products, code, qty)
    male = sum(a["male"] for a in acts)
    female = sum(a["female"] for a in acts)
    return {
        "activities": len(acts), "participants": {"male": male, "female": female, "total": male + female},
        "broadcasts": sum(a["broadcasts"] for a in acts), "cost_vnd": sum(a["cost"] for a in acts),
        "by_kind": by_kind, "by_channel": by_channel, "by_task_group": by_task_group,
        "by_target_group": by_target_group, "products": products, "cost_by_funding_source": cost,
    }


class TestActivitySummary:
    def test_summary_is_computed_at_submission_and_then_frozen(self, client, session, people, monkeypatch):
        inside = [
            _activity(session, UNIT, date(2024, 3, 8), male=10, female=30, cost=2_000_000, funding="state_budget",
                      groups=[("public", 10, 30), ("officials", None, None)], products=[("leaflet", 200)]),
            # The ward's loudspeakers: reported by the ward.
            _activity(session, "loa-p-song-cau", date(2024, 11, 20), kind="broadcast", channel="loudspeaker",
                      task_group="5", broadcasts=12, cost=500_000),
            _activity(session, UNIT, date(2024, 12, 9), male=5, female=7, cost=1_000_000,
                      funding="social_mobilisation", groups=[("public", 5, 7), ("youth", 2, 3)],
                      products=[("leaflet", 50), ("poster", 3)]),
        ]
        _activity(session, UNIT, date(2024, 12, 10), male=99)  # after the cut-off (09/12)
        _activity(session, UNIT, date(2023, 12, 31), male=99)  # before the period
        _activity(session, "p-duc-xuan", date(2024, 5, 1), male=99)  # another ward

        bring_to(client, people, "draft")
        set_clock(monkeypatch, local(2024, 12, 9, 15))
        submitted = act(client, people("officer", UNIT), "submit").json()
        summary = submitted["activity_summary"]
        assert (summary["from"], summary["to"]) == ("2024-01-01", "2024-12-09")
        assert summary["units"] == ["loa-p-song-cau", "p-song-cau"]
        assert {k: summary[k] for k in _expected_summary(inside)} == _expected_summary(inside)

        # An activity recorded later does not change what was submitted.
        late = _activity(session, UNIT, date(2024, 6, 1), kind="training", task_group="4", male=3, female=4)
        assert current(client, people)["activity_summary"] == summary
        # A resubmission takes a new summary.
        coord = people()
        act(client, coord, "return")
        again = act(client, people("officer", UNIT), "submit").json()["activity_summary"]
        assert {k: again[k] for k in _expected_summary(inside)} == _expected_summary([*inside, late])
