"""The indicator engine on a small world built by hand; every expected figure is worked out here, in plain Python.

`build_world` and the `expected_*` functions are shared with the API tests (tests/api/test_indicator_values.py).
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from app.config import get_settings
from app.models import (
    Activity,
    ActivityProduct,
    ActivityTargetGroup,
    AnnualReport,
    Campaign,
    CampaignPlan,
    ReportMediaStatus,
    SuccessionEvent,
    SuccessionLink,
    SurveyResult,
    SurveyRound,
    Unit,
)
from app.services import engine
from app.services.targets import units_needed

NEW_WARD = "p-bac-kan-moi"  # the ward made in 2025 from Sông Cầu and Phùng Chí Kiên
MERGED = ("p-song-cau", "p-phung-chi-kien")
CLOSED = {"p-song-cau": date(2025, 6, 30), "p-phung-chi-kien": date(2025, 6, 30), "hoi-ccb": date(2024, 6, 30)}
ZERO_ACTIVITY_UNIT = "phong-tckh"

IND_KINDS = {"department", "mass_org", "ward", "commune", "enterprise"}
LAW_TASK_GROUPS = {"1"}
LAW_KINDS = {"conference", "training", "talk", "themed_talk", "direct", "community_meeting"}
COUNTED = {"submitted", "resubmitted", "accepted"}


@dataclass
class A:
    """An activity of the world."""

    unit: str
    held_on: date
    kind: str
    task_group: str
    channel: str = "direct"
    campaign: str | None = None
    male: int = 0
    female: int = 0
    broadcasts: int = 0
    cost: int = 0
    funding: str | None = None
    groups: list[tuple[str, int | None, int | None]] = field(default_factory=list)
    products: list[tuple[str, int]] = field(default_factory=list)
    ends_on: date | None = None


ACTIVITIES = [
    A("hoi-lhpn", date(2024, 3, 8), "talk", "1", male=10, female=30, groups=[("public", 10, 30)]),
    A("x-nong-thuong", date(2024, 6, 28), "community_meeting", "3", male=20, female=25),
    A("hoi-ccb", date(2024, 3, 1), "conference", "1", male=15, female=5, cost=1_000_000, funding="state_budget"),
    A("p-duc-xuan", date(2024, 11, 20), "cultural_event", "4", male=30, female=30),
    A("p-nguyen-thi-minh-khai", date(2025, 3, 8), "broadcast", "1", channel="loudspeaker", broadcasts=12),
    A("p-song-cau", date(2025, 5, 10), "training", "4", male=12, female=18, cost=5_000_000, funding="state_budget",
      groups=[("officials", 5, 8), ("youth", None, None)], products=[("leaflet", 200)]),
    A(NEW_WARD, date(2025, 11, 20), "talk", "2", campaign="action-month-2025", male=8, female=22, cost=3_000_000,
      funding="social_mobilisation", groups=[("men", 8, 0)], products=[("poster", 10)]),
    A("p-duc-xuan", date(2025, 11, 25), "cultural_event", "4", male=30, female=40, cost=10_000_000,
      funding="state_budget", groups=[("youth", 10, 15)]),
    A("x-duong-quang", date(2025, 12, 1), "conference", "1", campaign="action-month-2025", male=25, female=25,
      cost=2_000_000, funding="international", products=[("leaflet", 500)]),
    A("hoi-lhpn", date(2025, 11, 16), "direct", "1", male=5, female=45, cost=1_500_000, funding="international",
      groups=[("elderly", 2, 20), ("public", 3, 25)]),
    A("phong-ldtbxh", date(2025, 2, 1), "conference", "1", male=20, female=20, cost=4_000_000, funding="state_budget"),
    # Linked to the Action Month but held before its window: it still counts for IND-02.
    A("phong-ldtbxh", date(2025, 11, 10), "movement_launch", "3", campaign="action-month-2025", male=50, female=60),
    A("doan-tn", date(2025, 10, 20), "online_post", "2", channel="social_media", broadcasts=3),
    A("tt-vhttt", date(2025, 6, 28), "broadcast", "5", channel="radio_tv", broadcasts=20, cost=800_000,
      funding="state_budget", products=[("video_clip", 2)]),
    A("tt-yte", date(2025, 3, 8), "conference", "1", male=6, female=9),  # a health unit: not in IND-01's scope
    A("loa-p-xuat-hoa", date(2025, 4, 1), "broadcast", "1", channel="loudspeaker", broadcasts=8),  # a media outlet
    A("p-nguyen-thi-minh-khai", date(2026, 4, 1), "talk", "1", male=3, female=7),
]

# (campaign code, unit)
PLANS = [
    ("action-month-2025", NEW_WARD), ("action-month-2025", "p-duc-xuan"), ("action-month-2025", "phong-ldtbxh"),
    ("action-month-2025", "hoi-lhpn"), ("action-month-2025", "x-nong-thuong"), ("womens-day-2025", "x-duong-quang"),
    ("action-month-2024", "hoi-lhpn"), ("action-month-2024", "p-duc-xuan"),
]


@dataclass
class R:
    """An annual report of the world."""

    unit: str
    year: int
    status: str
    adopted: int | None = None
    without: int | None = None
    media: dict[str, str] = field(default_factory=dict)


REPORTS = [
    R("p-nguyen-thi-minh-khai", 2025, "submitted", 4, 4, {"loa-p-nguyen-thi-minh-khai": "pilot"}),
    R("p-duc-xuan", 2025, "accepted", 5, 4, {"loa-p-duc-xuan": "official"}),
    R(NEW_WARD, 2025, "resubmitted", 3, 3, {"loa-p-song-cau": "pilot", "loa-p-phung-chi-kien": "pilot"}),
    R("x-duong-quang", 2025, "draft", 10, 0, {"loa-x-duong-quang": "official"}),  # a draft never counts
    R("x-nong-thuong", 2025, "submitted", 0, 0, {"loa-x-nong-thuong": "official"}),  # reported zero
    R("p-huyen-tung", 2025, "returned", 2, 1, {"loa-p-huyen-tung": "pilot"}),  # returned: does not count
    R("p-xuat-hoa", 2025, "submitted", None, None, {"loa-p-xuat-hoa": "pilot"}),  # reported, without the figures
    R("tt-vhttt", 2025, "submitted", None, None, {"dai-tt-th": "official"}),
    R("phong-ldtbxh", 2025, "accepted"),
    R("p-nguyen-thi-minh-khai", 2026, "submitted", 100, 97, {"loa-p-nguyen-thi-minh-khai": "pilot"}),
    R("p-duc-xuan", 2026, "draft", 50, 0),
    R("tt-vhttt", 2026, "accepted", None, None, {"dai-tt-th": "official"}),
]

# (year, is_baseline, area unit or None for the plan area, scores)
SURVEYS = [
    (2025, True, None, {"men": 50.0, "youth": 60.0, "officials": 70.0}),
    (2030, False, None, {"men": 60.0, "youth": 66.0, "ethnic_minorities": 55.0}),
    (2025, True, "p-duc-xuan", {"men": 40.0}),
    (2030, False, "p-duc-xuan", {"men": 50.0}),
]


def _id(session: Session, code: str) -> int:
    return session.exec(select(Unit.id).where(Unit.code == code)).one()


def build_world(session: Session) -> None:
    """The 2025 merger, a closed unit, activities, campaign plans, annual reports and surveys, on the seeded city."""
    city = _id(session, "tp-bac-kan")
    new = Unit(code=NEW_WARD, official_code="01843", name_vi="Phường Bắc Kạn", name_en="Bắc Kạn ward", kind="ward",
               parent_id=city, valid_from=date(2025, 7, 1))
    session.add(new)
    for code, last_day in CLOSED.items():
        u = session.exec(select(Unit).where(Unit.code == code)).one()
        u.valid_to = last_day
        session.add(u)
    event = SuccessionEvent(kind="merge", effective_on=date(2025, 7, 1),
                            legal_basis="Nghị quyết số 1683/NQ-UBTVQH15")
    session.add(event)
    session.flush()
    for code in MERGED:
        session.add(SuccessionLink(event_id=event.id, unit_id=_id(session, code), role="predecessor"))
    session.add(SuccessionLink(event_id=event.id, unit_id=new.id, role="successor"))

    campaigns = {c.code: c.id for c in session.exec(select(Campaign))}
    for n, a in enumerate(ACTIVITIES):
        row = Activity(unit_id=_id(session, a.unit), held_on=a.held_on, ends_on=a.ends_on, title=f"Hoạt động {n}",
                       kind=a.kind, channel=a.channel, task_group=a.task_group,
                       campaign_id=campaigns[a.campaign] if a.campaign else None, participants_male=a.male,
                       participants_female=a.female, broadcasts=a.broadcasts, cost_vnd=a.cost,
                       funding_source=a.funding)
        session.add(row)
        session.flush()
        for code, m, f in a.groups:
            session.add(ActivityTargetGroup(activity_id=row.id, code=code, participants_male=m, participants_female=f))
        for code, qty in a.products:
            session.add(ActivityProduct(activity_id=row.id, code=code, quantity=qty))
    for campaign, unit in PLANS:
        session.add(CampaignPlan(campaign_id=campaigns[campaign], unit_id=_id(session, unit),
                                 document_number="12/KH-UBND", document_date=date(2025, 11, 1)))
    for r in REPORTS:
        report = AnnualReport(unit_id=_id(session, r.unit), year=r.year, kind="annual", status=r.status,
                              period_start=date(r.year, 1, 1), period_end=date(r.year, 12, 31),
                              cutoff_on=date(r.year, 12, 5), due_at=datetime(r.year, 12, 9, 17, tzinfo=UTC),
                              conventions_adopted=r.adopted, conventions_without_discrimination=r.without)
        session.add(report)
        session.flush()
        for outlet, status in r.media.items():
            session.add(ReportMediaStatus(report_id=report.id, outlet_id=_id(session, outlet), status=status))
    for year, baseline, area, scores in SURVEYS:
        rnd = SurveyRound(year=year, name=f"Khảo sát nhận thức năm {year}", is_baseline=baseline,
                          unit_id=_id(session, area) if area else None)
        session.add(rnd)
        session.flush()
        for group, score in scores.items():
            session.add(SurveyResult(round_id=rnd.id, target_group=group, score=score))
    session.commit()


# --- the reference: the rules written out naively ---------------------------------------------------------------


@dataclass
class U:
    code: str
    kind: str
    parent: str | None
    valid_from: date
    valid_to: date | None


def units_of(session: Session) -> dict[str, U]:
    """Every unit, by code, as plain data."""
    rows = session.exec(select(Unit)).all()
    codes = {u.id: u.code for u in rows}
    return {u.code: U(u.code, str(u.kind), codes.get(u.parent_id), u.valid_from, u.valid_to) for u in rows}


def subtree(units: dict[str, U], root: str) -> set[str]:
    out = {root}
    changed = True
    while changed:
        more = {c for c, u in units.items() if u.parent in out} - out
        changed = bool(more)
        out |= more
    return out


def active(u: U, year: int, rule: str = "any") -> bool:
    first, last = date(year, 1, 1), date(year, 12, 31)
    if u.valid_from > last:
        return False
    return u.valid_to is None or u.valid_to >= (last if rule == "end" else first)


def eligible(units, scope, year, kinds, rule="any") -> set[str]:
    return {c for c in scope if units[c].kind in kinds and active(units[c], year, rule)}


def expected_ind01(units, scope, year, rule="any"):
    den = eligible(units, scope, year, IND_KINDS, rule)
    num = {a.unit for a in ACTIVITIES
           if a.held_on.year == year and (a.task_group in LAW_TASK_GROUPS or a.kind in LAW_KINDS)} & den
    return num, den


def _in_window(a: A, campaign: str) -> bool:
    kind, year = campaign.rsplit("-", 1)
    if kind != "action-month":
        return False
    start, end = date(int(year), 11, 15), date(int(year), 12, 15)
    return a.campaign == campaign or (a.held_on <= end and (a.ends_on or a.held_on) >= start)


def expected_ind02(units, scope, year, rule="any"):
    den = eligible(units, scope, year, IND_KINDS, rule)
    campaign = f"action-month-{year}"
    num = {u for c, u in PLANS if c == campaign and any(a.unit == u and _in_window(a, c) for a in ACTIVITIES)} & den
    return num, den


def expected_ind04(units, scope, year, official_only, rule="any"):
    den = eligible(units, scope, year, {"media"}, rule)
    statuses: dict[str, set[str]] = {}
    for r in REPORTS:
        if r.year == year and r.status in COUNTED:
            for outlet, status in r.media.items():
                statuses.setdefault(outlet, set()).add(status)
    ok = {"official"} if official_only else {"pilot", "official"}
    num = {o for o, s in statuses.items() if s & ok} & den
    missing = den - set(statuses)
    return num, den, missing


def expected_ind05(units, scope, year, rule="any"):
    den_units = eligible(units, scope, year, {"ward", "commune"}, rule)
    reported = {r.unit: r for r in REPORTS if r.year == year and r.status in COUNTED and r.unit in den_units
                and r.adopted is not None and r.without is not None}
    missing = den_units - set(reported)
    if not reported:
        return None, None, set(), missing
    return (sum(r.without for r in reported.values()), sum(r.adopted for r in reported.values()), set(reported),
            missing)


def expected_ind03(year, area=None):
    base = next(s for y, b, a, s in SURVEYS if b and a == area)
    now = next((s for y, b, a, s in SURVEYS if y == year and a == area), None)
    if now is None:
        return None
    common = sorted(set(base) & set(now))
    points = sum(now[g] - base[g] for g in common)
    return {"groups": common, "points_sum": points, "base_sum": sum(base[g] for g in common),
            "relative": 100 * points / sum(base[g] for g in common), "points": points / len(common)}


# --- tests of the engine itself ----------------------------------------------------------------------------------


def _row(rows, indicator, year, unit=None):
    found = [r for r in rows if r.indicator == indicator and r.year == year and r.unit == unit]
    assert len(found) == 1, (indicator, year, unit, found)
    return found[0]


class TestCompute:
    def test_city_2025_matches_the_reference(self, session):
        build_world(session)
        units = units_of(session)
        city = subtree(units, "tp-bac-kan")
        rows = engine.compute(session, indicators=None, years=[2025], unit_code=None)
        assert [r.indicator for r in rows] == ["IND-01", "IND-02", "IND-03", "IND-04", "IND-05"]

        num, den = expected_ind01(units, city, 2025)
        r = _row(rows, "IND-01", 2025)
        assert (r.numerator, r.denominator) == (len(num), len(den))
        assert r.units_numerator == sorted(num) and r.units_denominator == sorted(den)
        assert r.value == pytest.approx(100 * len(num) / len(den))
        assert ZERO_ACTIVITY_UNIT in r.units_denominator and ZERO_ACTIVITY_UNIT not in r.units_numerator
        assert "hoi-ccb" not in r.units_denominator  # closed in 2024
        assert {"tt-yte", "loa-p-xuat-hoa"}.isdisjoint(r.units_numerator)  # health unit, media outlet

        num, den = expected_ind02(units, city, 2025)
        r = _row(rows, "IND-02", 2025)
        assert (r.units_numerator, r.units_denominator) == (sorted(num), sorted(den))
        assert "phong-ldtbxh" in num and "x-nong-thuong" not in num and "x-duong-quang" not in num

        num, den, missing = expected_ind04(units, city, 2025, official_only=False)
        r = _row(rows, "IND-04", 2025)
        assert (r.numerator, r.denominator, r.target_count) == (len(num), len(den), 7) == (7, 9, 7)
        assert r.missing_units == sorted(missing) == ["loa-p-huyen-tung", "loa-x-duong-quang"]
        assert (r.target, r.target_qualifier, r.status) == (70, "pilot", "achieved")

        num, den, units_den, missing = expected_ind05(units, city, 2025)
        r = _row(rows, "IND-05", 2025)
        assert (r.numerator, r.denominator) == (num, den) == (11, 12)
        assert r.units_denominator == sorted(units_den) and "x-nong-thuong" in r.units_denominator
        assert r.missing_units == sorted(missing) and "x-duong-quang" in r.missing_units  # its report is a draft
        assert r.value == pytest.approx(100 * 11 / 12) and r.status == "at_risk"

    def test_a_write_is_seen_by_the_next_computation(self, session):
        build_world(session)
        before = _row(engine.compute(session, indicators=["IND-01"], years=[2025]), "IND-01", 2025)
        session.add(Activity(unit_id=_id(session, ZERO_ACTIVITY_UNIT), held_on=date(2025, 9, 1), title="Hội nghị",
                             kind="conference", channel="direct", task_group="1"))
        session.commit()
        after = _row(engine.compute(session, indicators=["IND-01"], years=[2025]), "IND-01", 2025)
        assert after.numerator == before.numerator + 1
        assert ZERO_ACTIVITY_UNIT in after.units_numerator

    def test_current_boundaries_sum_numerators_and_denominators(self, session):
        build_world(session)
        units = units_of(session)
        members = {NEW_WARD, *MERGED}
        rows = engine.compute(session, indicators=["IND-01", "IND-05"], years=[2024, 2025], unit_code=NEW_WARD,
                              boundaries="current")
        for year in (2024, 2025):
            num, den = expected_ind01(units, members, year)
            r = _row(rows, "IND-01", year)
            assert (r.units_numerator, r.units_denominator) == (sorted(num), sorted(den))
        assert _row(rows, "IND-01", 2024).denominator == 2 and _row(rows, "IND-01", 2025).numerator == 2
        as_reported = engine.compute(session, indicators=["IND-01"], years=[2024], unit_code=NEW_WARD)
        assert (as_reported[0].denominator, as_reported[0].status) == (0, "no_data")

    def test_status_rules(self):
        # 70% of 9 is 6.3 outlets: the rounding setting decides how many are needed.
        assert [units_needed(70, 9, r) for r in ("ceil", "round", "floor")] == [7, 6, 6]
        assert [units_needed(90, 9, r) for r in ("ceil", "round", "floor")] == [9, 8, 8]
        assert units_needed(100, 20, "ceil") == 20  # no floating-point surprise

    def test_settings_in_the_fingerprint(self, session, monkeypatch):
        first = engine.etag(session, "q")[0]
        monkeypatch.setenv("TARGET_COUNT_ROUNDING", "floor")
        get_settings.cache_clear()
        assert engine.etag(session, "q")[0] != first
