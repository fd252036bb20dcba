"""The engine against a naive recount, on many random worlds (hypothesis).

Each example writes random activities, Action Month plans and annual reports on the seeded city inside a
transaction, computes IND-01, IND-02, IND-04 and IND-05 with the engine, recounts them here with plain Python over
the same records, and rolls back.
"""

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from app.models import Activity, AnnualReport, Campaign, CampaignPlan, ReportMediaStatus, Unit
from app.services import engine as indicator_engine

YEAR = 2025
IND_KINDS = {"department", "mass_org", "ward", "commune", "enterprise"}
LAW_KINDS = {"conference", "training", "talk", "themed_talk", "direct", "community_meeting"}
ACTIVITY_KINDS = sorted(LAW_KINDS | {"broadcast", "online_post", "cultural_event", "publication"})
STATUSES = ["draft", "submitted", "returned", "resubmitted", "accepted"]
COUNTED = {"submitted", "resubmitted", "accepted"}
MEDIA_STATUSES = ["none", "pilot", "official"]

activity_st = st.fixed_dictionaries({
    "unit": st.integers(0, 40),
    # Days from 1/1 of the year: some outside it, many around the Action Month (15/11–15/12: days 318–348).
    "day": st.one_of(st.integers(-40, 400), st.integers(290, 355)),
    "length": st.sampled_from([None, None, 0, 3, 20, 40]),
    "kind": st.sampled_from(ACTIVITY_KINDS),
    "task_group": st.sampled_from([str(i) for i in range(1, 8)]),
    "linked": st.booleans(),
})
report_st = st.fixed_dictionaries({
    "status": st.sampled_from(STATUSES),
    "adopted": st.one_of(st.none(), st.integers(0, 30)),
    "share": st.floats(0, 1),
    "media": st.sampled_from(MEDIA_STATUSES),
})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(activities=st.lists(activity_st, max_size=40), planned=st.sets(st.integers(0, 40), max_size=25),
       reports=st.dictionaries(st.integers(0, 40), report_st, max_size=12))
def test_engine_matches_a_naive_recount(engine, activities, planned, reports):
    with engine.connect() as conn:
        trans = conn.begin()
        with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
            units = session.exec(select(Unit).order_by(Unit.code)).all()
            by_id = {u.id: u for u in units}
            month = session.exec(select(Campaign).where(Campaign.kind == "action_month", Campaign.year == YEAR)).one()
            start = date(YEAR, 1, 1)

            rows = []
            for a in activities:
                unit = units[a["unit"] % len(units)]
                held = start + timedelta(days=a["day"])
                ends = None if a["length"] is None else held + timedelta(days=a["length"])
                rows.append(Activity(unit_id=unit.id, held_on=held, ends_on=ends, title="t", kind=a["kind"],
                                     channel="direct", task_group=a["task_group"],
                                     campaign_id=month.id if a["linked"] else None))
            session.add_all(rows)
            plan_units = {units[i % len(units)].id for i in planned}
            session.add_all(CampaignPlan(campaign_id=month.id, unit_id=u, document_number="1/KH",
                                         document_date=date(YEAR, 11, 1)) for u in plan_units)
            report_rows = {}
            for i, r in reports.items():
                unit = units[i % len(units)]
                if unit.id in report_rows:
                    continue
                adopted = r["adopted"]
                without = None if adopted is None else int(adopted * r["share"])
                rep = AnnualReport(unit_id=unit.id, year=YEAR, period_start=start, period_end=date(YEAR, 12, 31),
                                   cutoff_on=date(YEAR, 12, 9), due_at=datetime(YEAR, 12, 9, 17, tzinfo=UTC),
                                   status=r["status"], conventions_adopted=adopted,
                                   conventions_without_discrimination=without)
                session.add(rep)
                session.flush()
                report_rows[unit.id] = (rep, r["media"])
            outlets_of = {}
            for u in units:
                if u.kind == "media" and u.operator_id is not None:
                    outlets_of.setdefault(u.operator_id, []).append(u.id)
            for uid, (rep, media) in report_rows.items():
                for outlet in outlets_of.get(uid, []):
                    session.add(ReportMediaStatus(report_id=rep.id, outlet_id=outlet, status=media))
            session.flush()

            got = {v.indicator: v for v in indicator_engine.compute(
                session, indicators=["IND-01", "IND-02", "IND-04", "IND-05"], years=[YEAR])}

            # --- the naive recount -------------------------------------------------------------------------
            in_city = {u.id for u in units if u.kind not in ("province", "city")}
            eligible = {u for u in in_city if by_id[u].kind in IND_KINDS}
            in_year = [a for a in rows if a.held_on.year == YEAR]
            law = {a.unit_id for a in in_year if a.task_group == "1" or a.kind in LAW_KINDS} & eligible
            assert (got["IND-01"].numerator, got["IND-01"].denominator) == (len(law), len(eligible))

            def in_month(a: Activity) -> bool:
                last = a.ends_on or a.held_on
                return a.campaign_id == month.id or (a.held_on <= month.ends_on and last >= month.starts_on)

            carried = {a.unit_id for a in rows if in_month(a)}
            am = plan_units & carried & eligible
            assert (got["IND-02"].numerator, got["IND-02"].denominator) == (len(am), len(eligible))

            counted = {uid: rep for uid, (rep, _) in report_rows.items() if rep.status in COUNTED}
            wards = {u for u in in_city if by_id[u].kind in ("ward", "commune")}
            figures = [(rep.conventions_adopted, rep.conventions_without_discrimination)
                       for uid, rep in counted.items() if uid in wards and rep.conventions_adopted is not None]
            if figures:
                assert got["IND-05"].denominator == sum(a for a, _ in figures)
                assert got["IND-05"].numerator == sum(w for _, w in figures)
            else:
                assert got["IND-05"].value is None and got["IND-05"].status == "no_data"

            outlets = {u.id for u in units if u.kind == "media"}
            status_of = {}
            for uid, (rep, media) in report_rows.items():
                if rep.status in COUNTED:
                    for outlet in outlets_of.get(uid, []):
                        status_of[outlet] = media
            applying = {o for o, s in status_of.items() if s in ("pilot", "official")}  # 2025: pilot counts
            assert got["IND-04"].denominator == len(outlets)
            if status_of:
                assert got["IND-04"].numerator == len(applying)
            else:
                assert got["IND-04"].numerator is None
        trans.rollback()
