"""The Action Month board: plans, activities in the campaign, participants by sex, units without a plan."""

from datetime import date

import pytest
from sqlmodel import select

from app.models import Activity, Attachment, AuditEntry, Campaign, CampaignPlan
from app.services import calendar
from tests.api.test_reports import API, People
from tests.factories import make_unit, unit

YEAR = 2024
IN_SCOPE = {"department", "mass_org", "ward", "commune", "enterprise"}


@pytest.fixture
def people(session) -> People:
    return People(session)


def campaign(session, year: int, kind: str = "action_month") -> Campaign:
    return session.exec(select(Campaign).where(Campaign.year == year, Campaign.kind == kind)).one()


def add_plan(session, code: str, camp: Campaign, number: str, on: date) -> CampaignPlan:
    plan = CampaignPlan(campaign_id=camp.id, unit_id=unit(session, code).id, document_number=number,
                        document_date=on, title=f"Kế hoạch hưởng ứng {camp.name_vi}")
    session.add(plan)
    session.commit()
    return plan


def add_activity(session, code: str, held_on: date, male: int, female: int, *, ends_on=None, camp=None):
    session.add(Activity(unit_id=unit(session, code).id, held_on=held_on, ends_on=ends_on, title="Truyền thông",
                         kind="talk", channel="direct", task_group="1", participants_male=male,
                         participants_female=female, campaign_id=camp.id if camp else None))
    session.commit()


def board(client, headers, year: int = YEAR, **params) -> dict:
    r = client.get(f"{API}/action-month/{year}", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


class TestBoard:
    def test_plans_activities_and_participants(self, client, session, people):
        am = campaign(session, YEAR)
        assert (am.starts_on, am.ends_on) == (date(2024, 11, 15), date(2024, 12, 15))
        make_unit(session, code="dn-may-bk", kind="enterprise", parent_code="tp-bac-kan")
        make_unit(session, code="p-giai-the", kind="ward", parent_code="tp-bac-kan", valid_to=date(2023, 6, 30))
        plan = add_plan(session, "p-song-cau", am, "45/KH-UBND", date(2024, 11, 5))
        add_plan(session, "hoi-lhpn", am, "12/KH-HLHPN", date(2024, 11, 8))
        add_plan(session, "phong-vhtt", campaign(session, YEAR, "womens_day"), "3/KH-VHTT", date(2024, 3, 1))
        session.add(Attachment(owner_type="campaign_plan", owner_id=plan.id, filename="ke-hoach-45.pdf",
                               content_type="application/pdf", size=1234, sha256="0" * 64, storage_key="x/y"))
        session.commit()

        # (unit, held_on, ends_on, linked to the campaign, male, female)
        acts = [
            ("p-song-cau", date(2024, 11, 20), None, False, 10, 20),
            ("p-song-cau", date(2024, 11, 14), None, False, 100, 100),  # the day before the window
            ("p-song-cau", date(2024, 11, 10), None, True, 1, 2),  # linked to the campaign
            ("p-song-cau", date(2024, 11, 10), date(2024, 11, 16), False, 3, 4),  # runs into the window
            ("loa-p-song-cau", date(2024, 12, 1), None, False, 0, 0),  # the ward's loudspeakers
            ("p-song-cau", date(2024, 12, 16), None, False, 100, 100),  # the day after
            ("hoi-lhpn", date(2024, 12, 15), None, False, 0, 50),
            ("phong-gddt", date(2024, 11, 15), None, False, 7, 9),
            ("tt-yte", date(2024, 11, 20), None, False, 5, 5),  # a health centre: not in scope
        ]
        for code, held, ends, linked, m, f in acts:
            add_activity(session, code, held, m, f, ends_on=ends, camp=am if linked else None)

        viewer = people("viewer")
        units = client.get(f"{API}/units", params={"limit": 1000}, headers=viewer).json()["items"]
        operator = {u["code"]: u["operator_code"] for u in units if u["operator_code"]}
        scope = {u["code"] for u in units if u["kind"] in IN_SCOPE and date.fromisoformat(u["valid_from"])
                 <= date(YEAR, 12, 31) and (u["valid_to"] is None or u["valid_to"] >= f"{YEAR}-01-01")}
        expected = {code: [0, 0, 0] for code in scope}
        for code, held, ends, linked, m, f in acts:
            owner = operator.get(code, code)
            if owner in expected and (linked or (held <= am.ends_on and (ends or held) >= am.starts_on)):
                expected[owner][0] += 1
                expected[owner][1] += m
                expected[owner][2] += f

        b = board(client, viewer)
        assert b["campaign"]["code"] == "action-month-2024" and b["campaign"]["starts_on"] == "2024-11-15"
        rows = {r["unit_code"]: r for r in b["units"]}
        assert set(rows) == scope and "dn-may-bk" in rows and "p-giai-the" not in rows and "tt-yte" not in rows
        got = {c: [r["activities"], r["participants_male"], r["participants_female"]] for c, r in rows.items()}
        assert got == expected
        assert rows["p-song-cau"]["activities"] == 4
        assert rows["p-song-cau"]["participants_total"] == sum(expected["p-song-cau"][1:])
        assert rows["p-song-cau"]["plan"] == {
            "id": plan.id, "document_number": "45/KH-UBND", "document_date": "2024-11-05",
            "title": plan.title, "files": [{"id": rows["p-song-cau"]["plan"]["files"][0]["id"],
                                            "filename": "ke-hoach-45.pdf", "content_type": "application/pdf",
                                            "size": 1234}]}
        assert rows["phong-vhtt"]["plan"] is None  # its plan is for 8/3, not the Action Month

        without = sorted(scope - {"p-song-cau", "hoi-lhpn"})
        assert sorted(u["code"] for u in b["units_without_plan"]) == without
        male = sum(v[1] for v in expected.values())
        female = sum(v[2] for v in expected.values())
        assert b["totals"] == {
            "units": len(scope), "units_with_plan": 2, "units_without_plan": len(without),
            "units_with_activities": sum(1 for v in expected.values() if v[0]),
            "units_with_plan_and_activities": 2,
            "activities": sum(v[0] for v in expected.values()),
            "participants_male": male, "participants_female": female, "participants_total": male + female,
        }

    def test_filter_by_subtree(self, client, session, people):
        add_activity(session, "loa-p-song-cau", date(2024, 11, 25), 2, 3)
        b = board(client, people("viewer"), unit="p-song-cau")
        assert [(r["unit_code"], r["activities"], r["participants_total"]) for r in b["units"]] == [
            ("p-song-cau", 1, 5)]
        assert b["units_without_plan"] == [{"code": "p-song-cau", "name": "Phường Sông Cầu", "kind": "ward"}]

    def test_the_campaign_is_created_when_missing(self, client, session, people):
        # The seed holds 2022–2030; a year's campaigns are recreated when missing, up to next year.
        year = calendar.local_today().year + 1
        seeded = session.exec(select(Campaign).where(Campaign.code == f"action-month-{year}")).first()
        if seeded is not None:
            session.delete(seeded)
            session.commit()
        viewer = people("viewer")
        first = board(client, viewer, year=year)
        assert (first["campaign"]["code"], first["campaign"]["starts_on"], first["campaign"]["ends_on"]) == (
            f"action-month-{year}", f"{year}-11-15", f"{year}-12-15")
        assert first["campaign"]["name_vi"].endswith(f"năm {year}")
        again = board(client, viewer, year=year)
        assert again["campaign"]["id"] == first["campaign"]["id"]
        assert len(session.exec(select(Campaign).where(Campaign.year == year,
                                                       Campaign.kind == "action_month")).all()) == 1
        entry = session.exec(select(AuditEntry).where(AuditEntry.resource_type == "campaign")).one()
        assert (entry.action, entry.resource_id) == ("create", str(first["campaign"]["id"]))

    def test_a_year_beyond_next_has_no_action_month_yet(self, client, people):
        year = calendar.local_today().year + 5
        r = client.get(f"{API}/action-month/{year}", headers=people("viewer"))
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"

    def test_readers_only(self, client):
        assert client.get(f"{API}/action-month/{YEAR}").status_code == 401

    def test_bad_year(self, client, people):
        assert client.get(f"{API}/action-month/1990", headers=people("viewer")).status_code == 422
