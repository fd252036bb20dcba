"""The reference data loads idempotently and says what DOMAIN.md says."""

import csv

from sqlalchemy import func
from sqlmodel import select

from app.models import Campaign, CodeItem, Indicator, IndicatorTarget, Plan, PlanPhase, Unit
from app.services.seed import SEED_DIR, load_all

TABLES = [Campaign, CodeItem, Indicator, IndicatorTarget, Plan, PlanPhase, Unit]


def _dump(session):
    return {t.__name__: sorted(map(repr, (r.model_dump(exclude={"created_at", "updated_at"})
                                          for r in session.exec(select(t))))) for t in TABLES}


def test_loading_twice_leaves_the_same_rows(session):
    before = _dump(session)  # the template was seeded once already
    assert load_all(session) == {"code_lists": 0, "units": 0, "plan": 0, "campaigns": 0}
    session.commit()
    assert _dump(session) == before


def test_loading_into_a_partly_filled_database_adds_only_what_is_missing(session):
    ward = session.exec(select(Unit).where(Unit.code == "loa-p-song-cau")).one()
    session.delete(ward)
    session.commit()
    added = load_all(session)
    session.commit()
    assert added["units"] == 1
    assert session.exec(select(func.count()).select_from(Unit)).one() == len(
        list(csv.DictReader((SEED_DIR / "units.csv").open(encoding="utf-8"))))


def test_units_of_the_city(session):
    wards = session.exec(select(Unit).where(Unit.kind.in_(["ward", "commune"]))).all()
    assert sorted(u.official_code for u in wards) == ["01834", "01837", "01840", "01843", "01846", "01849",
                                                      "01852", "01855"]
    assert {u.kind for u in wards if u.official_code in ("01849", "01852")} == {"commune"}
    media = session.exec(select(Unit).where(Unit.kind == "media")).all()
    assert len(media) == 9
    by_id = {u.id: u for u in session.exec(select(Unit))}
    # Each loudspeaker system is run by its ward or commune; the station by the culture centre.
    for outlet in media:
        operator = by_id[outlet.operator_id]
        if outlet.code == "dai-tt-th":
            assert operator.code == "tt-vhttt"
        else:
            assert operator.kind in ("ward", "commune") and outlet.parent_id == operator.id


def test_code_lists(session):
    counts = dict(session.exec(select(CodeItem.list_name, func.count()).group_by(CodeItem.list_name)).all())
    assert counts == {"task_group": 7, "target_group": 18, "activity_kind": 18, "channel": 7, "product": 6,
                      "funding_source": 4}
    labels = [c.label_vi for c in session.exec(select(CodeItem))]
    # The plan's slips are corrected in the seed data.
    assert not any("quan phòng" in label or "công thông tin" in label or "tiên bộ" in label for label in labels)


def test_campaigns_every_year(session):
    months = session.exec(select(Campaign).where(Campaign.kind == "action_month")).all()
    assert sorted(c.year for c in months) == list(range(2022, 2031))
    for c in months:
        assert (c.starts_on.month, c.starts_on.day, c.ends_on.month, c.ends_on.day) == (11, 15, 12, 15)
    days = {(c.starts_on.month, c.starts_on.day) for c in session.exec(select(Campaign).where(Campaign.year == 2024))}
    assert days == {(3, 8), (6, 28), (10, 20), (11, 15)}
