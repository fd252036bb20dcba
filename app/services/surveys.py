"""Awareness survey rounds and their scores per target group (IND-03 compares them with the baseline round)."""

from datetime import date
from typing import Any

from sqlmodel import Session, select

from app.api.errors import Conflict, Invalid, NotFound, field_error, refuse_nulls
from app.models import CodeItem, CodeListName, SurveyResult, SurveyRound, Unit
from app.models.survey import (
    SurveyResultIn,
    SurveyResultPublic,
    SurveyRoundCreate,
    SurveyRoundPublic,
    SurveyRoundUpdate,
)
from app.services import audit


def get(session: Session, round_id: int) -> SurveyRound:
    """The survey round `round_id`, or 404."""
    survey = session.get(SurveyRound, round_id)
    if survey is None:
        raise NotFound(f"No survey round {round_id}.")
    return survey


def _results(session: Session, round_ids: list[int]) -> dict[int, list[SurveyResult]]:
    found: dict[int, list[SurveyResult]] = {i: [] for i in round_ids}
    stmt = select(SurveyResult).where(SurveyResult.round_id.in_(round_ids)).order_by(SurveyResult.target_group)
    for result in session.exec(stmt):
        found[result.round_id].append(result)
    return found


def to_public(session: Session, rounds: list[SurveyRound]) -> list[SurveyRoundPublic]:
    """Rounds with their area's unit code and their results."""
    results = _results(session, [r.id for r in rounds])
    unit_ids = {r.unit_id for r in rounds if r.unit_id}
    codes = dict(session.exec(select(Unit.id, Unit.code).where(Unit.id.in_(unit_ids))).all()) if unit_ids else {}
    return [
        SurveyRoundPublic(
            **r.model_dump(), unit_code=codes.get(r.unit_id),
            results=[SurveyResultPublic(target_group=x.target_group, score=x.score, respondents=x.respondents)
                     for x in results[r.id]],
        )
        for r in rounds
    ]


def snapshot(session: Session, survey: SurveyRound) -> dict:
    """A round's columns and results, for the audit log."""
    return {**audit.snapshot(survey), "results": [
        {"target_group": x.target_group, "score": x.score, "respondents": x.respondents}
        for x in _results(session, [survey.id])[survey.id]]}


def _result_errors(session: Session, results: list[SurveyResultIn]) -> list[dict]:
    known = set(session.exec(select(CodeItem.code).where(CodeItem.list_name == CodeListName.target_group.value)))
    errors, seen = [], set()
    for i, result in enumerate(results):
        loc = ["body", "results", i, "target_group"]
        if result.target_group not in known:
            errors.append(field_error(loc, f"{result.target_group!r} is not in the code list target_group."))
        elif result.target_group in seen:
            errors.append(field_error(loc, f"{result.target_group!r} is listed twice."))
        seen.add(result.target_group)
    return errors


def _unit_id(session: Session, code: str | None, year: int, errors: list[dict]) -> int | None:
    if not code:
        return None
    unit = session.exec(select(Unit).where(Unit.code == code)).first()
    if unit is None:
        errors.append(field_error(["body", "unit"], f"No unit with code {code!r}."))
        return None
    if unit.valid_from.year > year or (unit.valid_to is not None and unit.valid_to.year < year):
        errors.append(field_error(["body", "unit"], f"Unit {code!r} does not exist in {year}."))
    return unit.id


def _check_dates(year: int, conducted_on: date | None, errors: list[dict]) -> None:
    if conducted_on is not None and conducted_on.year not in (year, year + 1):
        errors.append(field_error(["body", "conducted_on"],
                                  f"A survey of {year} is conducted in {year} (or early {year + 1})."))


def _check_baseline(session: Session, unit_id: int | None, exclude_id: int | None) -> None:
    stmt = select(SurveyRound).where(SurveyRound.is_baseline.is_(True))
    stmt = stmt.where(SurveyRound.unit_id.is_(None) if unit_id is None else SurveyRound.unit_id == unit_id)
    if exclude_id is not None:
        stmt = stmt.where(SurveyRound.id != exclude_id)
    other = session.exec(stmt).first()
    if other is not None:
        area = "the whole plan area" if unit_id is None else "this unit"
        msg = f"Round {other.id} ({other.year}, {other.name}) is already the baseline of {area}."
        raise Conflict(msg, errors=[field_error(["body", "is_baseline"], msg)])


def _write_results(session: Session, survey: SurveyRound, results: list[SurveyResultIn]) -> None:
    for old in session.exec(select(SurveyResult).where(SurveyResult.round_id == survey.id)):
        session.delete(old)
    session.flush()
    for result in results:
        session.add(SurveyResult(round_id=survey.id, **result.model_dump()))
    session.flush()


def create(session: Session, principal: Any, data: SurveyRoundCreate) -> SurveyRound:
    """Record a survey round with its results; audited."""
    errors = _result_errors(session, data.results)
    unit_id = _unit_id(session, data.unit, data.year, errors)
    _check_dates(data.year, data.conducted_on, errors)
    if errors:
        raise Invalid("The survey round is not valid.", errors=errors)
    if data.is_baseline:
        _check_baseline(session, unit_id, None)
    survey = SurveyRound(**data.model_dump(exclude={"unit", "results"}), unit_id=unit_id)
    session.add(survey)
    session.flush()
    _write_results(session, survey, data.results)
    audit.record(session, principal, "create", survey, after=snapshot(session, survey))
    return survey


def update(session: Session, principal: Any, survey: SurveyRound, data: SurveyRoundUpdate) -> SurveyRound:
    """Change a round; `results`, when given, replaces all its results. Audited."""
    refuse_nulls(data, "year", "name", "is_baseline", "results")
    given = data.model_fields_set
    errors: list[dict] = []
    year = data.year if "year" in given else survey.year
    if "results" in given:
        errors += _result_errors(session, data.results)
    unit_id = _unit_id(session, data.unit, year, errors) if "unit" in given else survey.unit_id
    if "unit" not in given and "year" in given and survey.unit_id is not None:
        _unit_id(session, session.get(Unit, survey.unit_id).code, year, errors)
    _check_dates(year, data.conducted_on if "conducted_on" in given else survey.conducted_on, errors)
    if errors:
        raise Invalid("The change is not valid.", errors=errors)
    if data.is_baseline if "is_baseline" in given else survey.is_baseline:
        _check_baseline(session, unit_id, survey.id)
    before = snapshot(session, survey)
    for name in given - {"unit", "results"}:
        setattr(survey, name, getattr(data, name))
    survey.unit_id = unit_id
    if "results" in given:
        _write_results(session, survey, data.results)
    audit.save_update(session, principal, survey, before, after=lambda: snapshot(session, survey))
    return survey


def delete(session: Session, principal: Any, survey: SurveyRound) -> None:
    """Delete a round and its results; audited."""
    before = snapshot(session, survey)
    _write_results(session, survey, [])
    session.delete(survey)
    session.flush()
    audit.record(session, principal, "delete", survey, before=before)


