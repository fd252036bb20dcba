"""Activities: records, filters, the rules they obey, who may write them, no lost updates, audit."""

from datetime import date, timedelta

import pytest
from sqlmodel import select

from app.models import Activity, ActivityProduct, ActivityTargetGroup, AuditEntry, Campaign, CodeItem
from app.services.calendar import local_today
from tests.factories import login_headers, make_token, make_unit, make_user, unit

API = "/api/v1"
URL = f"{API}/activities"


def body(**overrides) -> dict:
    """A valid activity of Sông Cầu ward in the 2025 Action Month (campaign added by the caller when wanted)."""
    values = {
        "unit": "p-song-cau", "held_on": "2025-11-20", "title": "Tuyên truyền Luật Bình đẳng giới tại tổ 3",
        "kind": "direct", "channel": "direct", "task_group": "1",
        "participants_male": 25, "participants_female": 40,
        "target_groups": [{"code": "public", "participants_male": 20, "participants_female": 30},
                          {"code": "elderly"}],
        "products": [{"code": "leaflet", "quantity": 200}, {"code": "poster", "quantity": 5}],
        "cost_vnd": 1_500_000, "funding_source": "state_budget", "location": "Nhà văn hóa tổ 3",
    }
    values.update(overrides)
    return values


def campaign_id(session, code: str) -> int:
    found = session.exec(select(Campaign).where(Campaign.code == code)).one().id
    session.commit()  # end the read, so that this session may write after the API has
    return found


def fields(response) -> set[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return {e["field"] for e in response.json()["errors"]}


def count(session, model=Activity) -> int:
    session.expire_all()
    found = len(session.exec(select(model)).all())
    session.commit()
    return found


@pytest.fixture
def staff(session):
    return login_headers(session, "coordinator")


@pytest.fixture
def officer(session):
    return login_headers(session, "officer", "p-song-cau")


def create(client, headers, **overrides) -> dict:
    r = client.post(URL, json=body(**overrides), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


class TestCreateReadUpdateDelete:
    def test_create_read_update_delete(self, client, session, officer):
        month = campaign_id(session, "action-month-2025")
        r = client.post(URL, json=body(campaign_id=month, participants_total=65), headers=officer)
        assert r.status_code == 201, r.text
        created = r.json()
        assert r.headers["etag"] == f'"{created["id"]}.1"'
        assert r.headers["location"].endswith(f"/activities/{created['id']}")
        assert (created["unit_code"], created["unit_name"]) == ("p-song-cau", "Phường Sông Cầu")
        assert (created["campaign_id"], created["campaign_code"]) == (month, "action-month-2025")
        assert created["participants_total"] == 25 + 40
        assert created["target_groups"] == [
            {"code": "public", "participants_male": 20, "participants_female": 30},
            {"code": "elderly", "participants_male": None, "participants_female": None}]
        assert created["products"] == [{"code": "leaflet", "quantity": 200}, {"code": "poster", "quantity": 5}]

        got = client.get(f"{URL}/{created['id']}", headers=login_headers(session, "viewer"))
        assert got.status_code == 200 and got.headers["etag"] == r.headers["etag"]
        assert got.json() == created

        patch = {"title": "Nói chuyện chuyên đề về bình đẳng giới", "participants_female": 45,
                 "products": [{"code": "video_clip", "quantity": 1}]}
        r = client.patch(f"{URL}/{created['id']}", json=patch, headers={**officer, "If-Match": r.headers["etag"]})
        assert r.status_code == 200, r.text
        updated = r.json()
        assert r.headers["etag"] == f'"{created["id"]}.2"' and updated["version"] == 2
        assert updated["title"] == patch["title"] and updated["participants_total"] == 25 + 45
        assert updated["products"] == [{"code": "video_clip", "quantity": 1}]
        assert updated["target_groups"] == created["target_groups"]  # not sent: kept

        stale = client.delete(f"{URL}/{created['id']}", headers={**officer, "If-Match": f'"{created["id"]}.1"'})
        assert stale.status_code == 412
        r = client.delete(f"{URL}/{created['id']}", headers={**officer, "If-Match": f'"{created["id"]}.2"'})
        assert r.status_code == 204
        assert client.get(f"{URL}/{created['id']}", headers=officer).status_code == 404
        assert count(session) == 0 and count(session, ActivityTargetGroup) == 0 and count(session, ActivityProduct) == 0

    def test_a_patch_that_changes_nothing_keeps_the_version(self, client, officer):
        a = create(client, officer)
        r = client.patch(f"{URL}/{a['id']}", json={"title": a["title"]}, headers=officer)
        assert r.status_code == 200 and r.json()["version"] == 1

    def test_unknown_activity_is_404(self, client, staff):
        assert client.get(f"{URL}/999999", headers=staff).status_code == 404
        assert client.patch(f"{URL}/999999", json={"title": "x"}, headers=staff).status_code == 404
        assert client.delete(f"{URL}/999999", headers=staff).status_code == 404

    def test_anonymous_reads_nothing(self, client):
        assert client.get(URL).status_code == 401
        assert client.post(URL, json=body()).status_code == 401


class TestValidation:
    @pytest.mark.parametrize(("overrides", "field"), [
        ({"participants_male": -1}, "body.participants_male"),
        ({"participants_female": -3}, "body.participants_female"),
        # Counts are bounded, so that no sum over the records can overflow the database's integers.
        ({"participants_male": 2**63 - 1, "participants_female": 1}, "body.participants_male"),
        ({"broadcasts": 10_000_001}, "body.broadcasts"),
        ({"products": [{"code": "leaflet", "quantity": 10**12}]}, "body.products.0.quantity"),
        ({"participants_total": 64}, "body.participants_total"),
        ({"target_groups": [{"code": "public", "participants_male": -1}]}, "body.target_groups.0.participants_male"),
        ({"target_groups": [{"code": "public", "participants_male": 26}]}, "body.target_groups.0.participants_male"),
        ({"target_groups": [{"code": "elderly"}, {"code": "youth", "participants_female": 41}]},
         "body.target_groups.1.participants_female"),
        ({"target_groups": [{"code": "elderly"}, {"code": "elderly"}]}, "body.target_groups.1.code"),
        ({"target_groups": [{"code": "martians"}]}, "body.target_groups.0.code"),
        ({"products": [{"code": "leaflet", "quantity": -5}]}, "body.products.0.quantity"),
        ({"products": [{"code": "t-shirt", "quantity": 5}]}, "body.products.0.code"),
        ({"kind": "party"}, "body.kind"),
        ({"channel": "pigeon"}, "body.channel"),
        ({"task_group": "8"}, "body.task_group"),
        ({"funding_source": "lottery"}, "body.funding_source"),
        ({"funding_source": None}, "body.funding_source"),  # a cost needs its source
        ({"cost_vnd": -1}, "body.cost_vnd"),
        ({"ends_on": "2025-11-19"}, "body.ends_on"),
        ({"title": ""}, "body.title"),
        ({"title": "x" * 501}, "body.title"),
        ({"location": "x" * 301}, "body.location"),
        ({"description": "x" * 10001}, "body.description"),
        ({"colour": "red"}, "body.colour"),
        ({"unit": "khong-co"}, "body.unit"),
        ({"held_on": "2021-12-31"}, "body.held_on"),  # before the seeded units existed
        ({"campaign_id": 999999}, "body.campaign_id"),
    ])
    def test_rule(self, client, session, staff, overrides, field):
        r = client.post(URL, json=body(**overrides), headers=staff)
        assert field in fields(r)
        assert count(session) == 0

    def test_no_cost_needs_no_funding_source(self, client, staff):
        assert create(client, staff, cost_vnd=0, funding_source=None)["funding_source"] is None

    def test_future_dates_are_plans_not_records(self, client, session, staff):
        tomorrow = local_today() + timedelta(days=1)
        assert "body.held_on" in fields(client.post(URL, json=body(held_on=tomorrow.isoformat()), headers=staff))
        assert create(client, staff, held_on=local_today().isoformat(), target_groups=[], products=[])

    def test_a_closed_unit_takes_no_data_dated_after_it_closed(self, client, session, staff):
        closed = make_unit(session, code="p-cu", kind="ward", valid_to=date(2025, 6, 30))
        assert create(client, staff, unit=closed.code, held_on="2025-06-30")
        r = client.post(URL, json=body(unit=closed.code, held_on="2025-07-01"), headers=staff)
        assert "body.held_on" in fields(r)
        r = client.post(URL, json=body(unit=closed.code, held_on="2025-06-29", ends_on="2025-07-02"), headers=staff)
        assert fields(r) == {"body.ends_on"}

    def test_an_activity_of_a_campaign_lies_in_its_window(self, client, session, staff):
        month = campaign_id(session, "action-month-2025")  # 15/11–15/12/2025
        assert create(client, staff, campaign_id=month, held_on="2025-11-15")
        assert create(client, staff, campaign_id=month, held_on="2025-12-15")
        for day in ("2025-11-14", "2025-12-16"):
            assert "body.held_on" in fields(client.post(URL, json=body(campaign_id=month, held_on=day), headers=staff))

    def test_a_retired_code_takes_no_new_data(self, client, session, staff):
        item = session.exec(select(CodeItem).where(CodeItem.list_name == "activity_kind",
                                                   CodeItem.code == "talk")).one()
        session.commit()
        a = create(client, staff, kind="talk")
        item.active = False
        session.add(item)
        session.commit()
        assert "body.kind" in fields(client.post(URL, json=body(kind="talk"), headers=staff))
        # The old record keeps its code through an unrelated change.
        r = client.patch(f"{URL}/{a['id']}", json={"title": "Tọa đàm"}, headers=staff)
        assert r.status_code == 200 and r.json()["kind"] == "talk"

    def test_patch_is_checked_against_the_whole_record(self, client, session, staff):
        a = create(client, staff)
        before = client.get(f"{URL}/{a['id']}", headers=staff).json()
        # Fewer men than the group counted among them; a total that does not add up; an unknown field.
        for patch, field in (({"participants_male": 10}, "body.target_groups.0.participants_male"),
                             ({"participants_female": 1, "participants_total": 30}, "body.participants_total"),
                             ({"cost_vnd": 5, "funding_source": None}, "body.funding_source"),
                             ({"held_on": None}, "body.held_on"),
                             ({"version": 7}, "body.version")):
            assert field in fields(client.patch(f"{URL}/{a['id']}", json=patch, headers=staff)), patch
        assert client.get(f"{URL}/{a['id']}", headers=staff).json() == before

    def test_errors_name_every_broken_rule(self, client, staff):
        r = client.post(URL, json=body(kind="party", participants_total=1, funding_source=None), headers=staff)
        assert {"body.kind", "body.participants_total", "body.funding_source"} <= fields(r)
        assert all(e["message"] for e in r.json()["errors"])


class TestWhoMayWrite:
    def test_officer_writes_only_its_own_unit(self, client, session, officer):
        assert client.post(URL, json=body(unit="x-duong-quang"), headers=officer).status_code == 403
        other = create(client, login_headers(session, "coordinator"), unit="x-duong-quang")
        assert client.patch(f"{URL}/{other['id']}", json={"title": "Đổi"}, headers=officer).status_code == 403
        assert client.delete(f"{URL}/{other['id']}", headers=officer).status_code == 403
        own = create(client, officer)
        assert client.patch(f"{URL}/{own['id']}", json={"title": "Đổi"}, headers=officer).status_code == 200
        # Moving its own activity to another unit needs the right on both.
        r = client.patch(f"{URL}/{own['id']}", json={"unit": "x-duong-quang"}, headers=officer)
        assert r.status_code == 403
        assert client.get(f"{URL}/{own['id']}", headers=officer).json()["unit_code"] == "p-song-cau"

    def test_coordinator_moves_an_activity_between_units(self, client, session, staff):
        a = create(client, staff)
        r = client.patch(f"{URL}/{a['id']}", json={"unit": "x-duong-quang"}, headers=staff)
        assert r.status_code == 200 and r.json()["unit_code"] == "x-duong-quang"

    def test_viewers_and_read_only_tokens_write_nothing(self, client, session):
        viewer = login_headers(session, "viewer")
        reader = {"Authorization": "Bearer " + make_token(session, make_user(session, "coordinator"), scopes="read")}
        a = create(client, login_headers(session, "admin"))
        for headers in (viewer, reader):
            assert client.post(URL, json=body(), headers=headers).status_code == 403
            assert client.patch(f"{URL}/{a['id']}", json={"title": "x"}, headers=headers).status_code == 403
            assert client.delete(f"{URL}/{a['id']}", headers=headers).status_code == 403
            assert client.get(f"{URL}/{a['id']}", headers=headers).status_code == 200

    def test_a_unit_bound_token_writes_only_its_unit(self, client, session):
        user = make_user(session, "coordinator")
        bound = {"Authorization": "Bearer " + make_token(session, user, unit_code="p-song-cau")}
        assert create(client, bound)
        assert client.post(URL, json=body(unit="x-duong-quang"), headers=bound).status_code == 403


class TestNoLostUpdates:
    def test_the_second_editor_from_the_same_version_gets_412(self, client, session):
        a = create(client, login_headers(session, "officer", "p-song-cau"))
        first, second = (login_headers(session, "officer", "p-song-cau") for _ in range(2))
        etag = client.get(f"{URL}/{a['id']}", headers=first).headers["etag"]
        assert client.get(f"{URL}/{a['id']}", headers=second).headers["etag"] == etag
        r1 = client.patch(f"{URL}/{a['id']}", json={"title": "Bản của người thứ nhất"},
                          headers={**first, "If-Match": etag})
        assert r1.status_code == 200
        r2 = client.patch(f"{URL}/{a['id']}", json={"title": "Bản của người thứ hai"},
                          headers={**second, "If-Match": etag})
        assert r2.status_code == 412
        assert r2.json()["current_etag"] == r1.headers["etag"]
        now = client.get(f"{URL}/{a['id']}", headers=first).json()
        assert now["title"] == "Bản của người thứ nhất" and now["version"] == 2


class TestIdempotency:
    def test_a_retried_post_creates_one_record(self, client, session, officer):
        headers = {**officer, "Idempotency-Key": "form-42"}
        r1 = client.post(URL, json=body(), headers=headers)
        r2 = client.post(URL, json=body(), headers=headers)
        assert (r1.status_code, r2.status_code) == (201, 201)
        assert r2.json() == r1.json() and r2.headers["etag"] == r1.headers["etag"]
        assert r2.headers.get("idempotent-replayed") == "true"
        assert count(session) == 1

    def test_the_same_key_with_another_body_is_refused(self, client, session, officer):
        headers = {**officer, "Idempotency-Key": "form-43"}
        assert client.post(URL, json=body(), headers=headers).status_code == 201
        r = client.post(URL, json=body(title="Một hoạt động khác"), headers=headers)
        assert r.status_code == 422 and r.json()["title"] == "Idempotency key reused"
        assert count(session) == 1

    def test_a_key_is_forgotten_after_its_retention(self, client, session, officer):
        from datetime import timedelta

        from sqlmodel import select

        from app.models import IdempotencyRecord

        headers = {**officer, "Idempotency-Key": "form-44"}
        assert client.post(URL, json=body(), headers=headers).status_code == 201
        record = session.exec(select(IdempotencyRecord)).one()
        record.created_at -= timedelta(hours=25)  # older than IDEMPOTENCY_HOURS (24)
        session.add(record)
        session.commit()
        # The old answer is not replayed: the same key now makes a new record, and the stale entry is gone.
        r = client.post(URL, json=body(title="Một lần gửi mới"), headers=headers)
        assert r.status_code == 201 and r.headers.get("idempotent-replayed") is None
        assert count(session) == 2
        session.rollback()
        assert [x.key for x in session.exec(select(IdempotencyRecord))] == ["form-44"]


class TestList:
    @pytest.fixture
    def seeded(self, client, session, staff):
        month = campaign_id(session, "action-month-2025")
        women = campaign_id(session, "womens-day-2024")
        made = [
            create(client, staff, held_on="2025-11-20", campaign_id=month, title="Hội nghị A"),
            create(client, staff, unit="loa-p-song-cau", held_on="2025-11-25", kind="broadcast",
                   channel="loudspeaker", task_group="2", target_groups=[], products=[], participants_male=0,
                   participants_female=0, broadcasts=3, campaign_id=month, title="Phát thanh B"),
            create(client, staff, unit="x-duong-quang", held_on="2024-03-08", campaign_id=women,
                   target_groups=[{"code": "men"}], cost_vnd=0, funding_source=None, title="Tọa đàm C"),
            create(client, staff, held_on="2024-06-01", funding_source="international", title="Câu lạc bộ D"),
        ]
        return {a["title"][-1]: a for a in made}

    def ids(self, client, headers, **params) -> list[int]:
        r = client.get(URL, params=params, headers=headers)
        assert r.status_code == 200, r.text
        return [a["id"] for a in r.json()["items"]]

    def test_filters(self, client, session, staff, seeded):
        a, b, c, d = (seeded[k]["id"] for k in "ABCD")
        h = login_headers(session, "viewer")
        assert self.ids(client, h) == [b, a, d, c]  # newest first
        assert self.ids(client, h, unit="p-song-cau") == [a, d]
        assert self.ids(client, h, unit="p-song-cau", include_subunits=True) == [b, a, d]
        assert self.ids(client, h, unit="tp-bac-kan", include_subunits=True) == [b, a, d, c]
        assert self.ids(client, h, year=2024) == [d, c]
        assert self.ids(client, h, date_from="2024-03-08", date_to="2025-11-20") == [a, d, c]
        assert self.ids(client, h, campaign=seeded["A"]["campaign_id"]) == [b, a]
        assert self.ids(client, h, task_group="2") == [b]
        assert self.ids(client, h, kind="broadcast") == [b]
        assert self.ids(client, h, kind=["broadcast", "direct"]) == [b, a, d, c]
        assert self.ids(client, h, channel="loudspeaker") == [b]
        assert self.ids(client, h, target_group="men") == [c]
        assert self.ids(client, h, target_group="public") == [a, d]
        assert self.ids(client, h, funding_source="international") == [d]
        assert self.ids(client, h, q="tọa đàm") == [c]
        assert client.get(URL, params={"unit": "khong-co"}, headers=h).status_code == 404
        assert "query.date_to" in fields(client.get(URL, params={"date_from": "2025-01-02", "date_to": "2025-01-01"},
                                                    headers=h))

    def test_pages_are_stable_and_complete(self, client, session, staff, seeded):
        h = login_headers(session, "viewer")
        # Same day for several: the id breaks the tie.
        for _ in range(3):
            create(client, staff, held_on="2025-11-20")
        total = client.get(URL, headers=h).json()["total"]
        assert total == 7
        seen = []
        for offset in range(0, total, 2):
            page = client.get(URL, params={"limit": 2, "offset": offset}, headers=h).json()
            assert page["total"] == total
            seen += [(i["held_on"], i["id"]) for i in page["items"]]
        assert seen == sorted(seen, reverse=True) and len(set(seen)) == total


class TestAudit:
    def test_every_write_is_audited_with_before_and_after(self, client, session, officer):
        a = create(client, officer)
        client.patch(f"{URL}/{a['id']}", json={"target_groups": [{"code": "youth", "participants_female": 3}],
                                                "cost_vnd": 0}, headers=officer)
        client.delete(f"{URL}/{a['id']}", headers=officer)
        session.expire_all()
        entries = session.exec(select(AuditEntry).where(AuditEntry.resource_type == "activity",
                                                        AuditEntry.resource_id == str(a["id"]))
                               .order_by(AuditEntry.id)).all()
        assert [e.action for e in entries] == ["create", "update", "delete"]
        create_, update_, delete_ = entries
        assert create_.before is None and create_.after["title"] == a["title"]
        assert create_.after["target_groups"] == a["target_groups"] and create_.after["products"] == a["products"]
        assert update_.before["target_groups"] == a["target_groups"] and update_.before["cost_vnd"] == 1_500_000
        assert update_.after["target_groups"] == [{"code": "youth", "participants_male": None,
                                                   "participants_female": 3}]
        assert (update_.after["cost_vnd"], update_.after["version"]) == (0, 2)
        assert delete_.before == update_.after and delete_.after is None
        assert {e.unit_id for e in entries} == {unit(session, "p-song-cau").id}
        assert all(e.user_id is not None for e in entries)

    def test_a_refused_write_leaves_no_trace(self, client, session, officer):
        client.post(URL, json=body(kind="party"), headers=officer)
        client.post(URL, json=body(unit="x-duong-quang"), headers=officer)
        session.expire_all()
        assert session.exec(select(AuditEntry).where(AuditEntry.resource_type == "activity")).all() == []
