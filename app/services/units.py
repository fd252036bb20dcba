"""Unit look-ups: the tree, validity on a date, and succession."""

from datetime import date

from sqlalchemy import and_, or_
from sqlmodel import Session, select

from app.models import SuccessionLink, Unit
from app.models.unit import UnitPublic


def active_on(day: date):
    """SQL condition: the unit exists on `day`."""
    return and_(Unit.valid_from <= day, or_(Unit.valid_to.is_(None), Unit.valid_to >= day))


def active_between(first: date, last: date):
    """SQL condition: the unit exists on at least one day of [first, last]."""
    return and_(Unit.valid_from <= last, or_(Unit.valid_to.is_(None), Unit.valid_to >= first))


def subtree_ids(session: Session, root_id: int) -> set[int]:
    """The ids of a unit and all units below it (by parent)."""
    children: dict[int | None, list[int]] = {}
    for uid, parent in session.exec(select(Unit.id, Unit.parent_id)):
        children.setdefault(parent, []).append(uid)
    seen, stack = {root_id}, [root_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return seen


def successors(session: Session, unit_ids: list[int]) -> dict[int, list[int]]:
    """For each unit, the units that succeeded it in a succession event."""
    if not unit_ids:
        return {}
    pred = select(SuccessionLink).where(SuccessionLink.role == "predecessor", SuccessionLink.unit_id.in_(unit_ids))
    links = list(session.exec(pred))
    event_ids = {link.event_id for link in links}
    succ = session.exec(
        select(SuccessionLink).where(SuccessionLink.role == "successor", SuccessionLink.event_id.in_(event_ids))
    ) if event_ids else []
    by_event: dict[int, list[int]] = {}
    for link in succ:
        by_event.setdefault(link.event_id, []).append(link.unit_id)
    result: dict[int, list[int]] = {}
    for link in links:
        result.setdefault(link.unit_id, []).extend(u for u in by_event.get(link.event_id, []) if u != link.unit_id)
    return result


def to_public(session: Session, units: list[Unit]) -> list[UnitPublic]:
    """Units with the codes of their parent, operator and successors, in two queries for the whole list."""
    codes = dict(session.exec(select(Unit.id, Unit.code)).all())
    succ = successors(session, [u.id for u in units])
    return [
        UnitPublic(
            **u.model_dump(),
            parent_code=codes.get(u.parent_id),
            operator_code=codes.get(u.operator_id),
            successor_codes=sorted(codes[s] for s in succ.get(u.id, [])),
        )
        for u in units
    ]
