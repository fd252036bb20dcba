"""Units: the tree, validity on a date, succession, and the rules of creating, changing and closing them."""

import unicodedata
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, SQLModel, select

from app.api.common import bump
from app.api.errors import Conflict, Invalid, field_error, refuse_nulls
from app.models import (
    Activity,
    AnnualReport,
    CampaignPlan,
    SuccessionEvent,
    SuccessionKind,
    SuccessionLink,
    SurveyRound,
    Unit,
)
from app.models.base import utcnow
from app.models.unit import (
    LineageUnit,
    SuccessionEventCreate,
    SuccessionEventPublic,
    SuccessionEventUpdate,
    UnitCreate,
    UnitLineage,
    UnitPublic,
    UnitUpdate,
)
from app.services import audit

PREDECESSOR, SUCCESSOR = "predecessor", "successor"


def fold(text: str) -> str:
    """Text for matching without accents or case: "Phường Đức Xuân" → "phuong duc xuan"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def matching_name(session: Session, statement, q: str):
    """`statement` narrowed to units whose name (vi or en) or code contains `q`, ignoring accents and case.

    Done in Python over the candidates' names: units number a few thousand at most, and neither engine folds
    Vietnamese diacritics portably."""
    needle = fold(q.strip())
    candidates = session.execute(statement.with_only_columns(Unit.id, Unit.code, Unit.name_vi, Unit.name_en)).all()
    ids = [uid for uid, code, vi, en in candidates if any(needle in fold(t or "") for t in (vi, en, code))]
    return statement.where(Unit.id.in_(ids))


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
    """Units with the codes of their parent, operator, successors and predecessors, in a few queries for the list."""
    codes = dict(session.exec(select(Unit.id, Unit.code)).all())
    succ = successors(session, [u.id for u in units])
    pred = predecessors(session, [u.id for u in units])
    return [
        UnitPublic(
            **u.model_dump(),
            parent_code=codes.get(u.parent_id),
            operator_code=codes.get(u.operator_id),
            successor_codes=sorted(codes[s] for s in succ.get(u.id, [])),
            predecessor_codes=sorted(codes[p] for p in pred.get(u.id, [])),
        )
        for u in units
    ]


# --- predecessors, lineage ----------------------------------------------------------------------------------------


def predecessors(session: Session, unit_ids: list[int]) -> dict[int, list[int]]:
    """For each unit, the units it succeeded in a succession event."""
    if not unit_ids:
        return {}
    succ = select(SuccessionLink).where(SuccessionLink.role == SUCCESSOR, SuccessionLink.unit_id.in_(unit_ids))
    links = list(session.exec(succ))
    event_ids = {link.event_id for link in links}
    pred = session.exec(
        select(SuccessionLink).where(SuccessionLink.role == PREDECESSOR, SuccessionLink.event_id.in_(event_ids))
    ) if event_ids else []
    by_event: dict[int, list[int]] = {}
    for link in pred:
        by_event.setdefault(link.event_id, []).append(link.unit_id)
    result: dict[int, list[int]] = {}
    for link in links:
        result.setdefault(link.unit_id, []).extend(u for u in by_event.get(link.event_id, []) if u != link.unit_id)
    return result


def events_to_public(session: Session, events: list[SuccessionEvent]) -> list[SuccessionEventPublic]:
    """Succession events with the codes of their predecessors and successors."""
    if not events:
        return []
    codes = dict(session.exec(select(Unit.id, Unit.code)).all())
    links = session.exec(select(SuccessionLink).where(SuccessionLink.event_id.in_([e.id for e in events])))
    sides: dict[tuple[int, str], list[str]] = {}
    for link in links:
        sides.setdefault((link.event_id, link.role), []).append(codes[link.unit_id])
    return [
        SuccessionEventPublic(
            **e.model_dump(include={"id", "kind", "effective_on", "legal_basis", "note", "recorded_at", "version"}),
            predecessors=sorted(sides.get((e.id, PREDECESSOR), [])),
            successors=sorted(sides.get((e.id, SUCCESSOR), [])),
        )
        for e in events
    ]


def lineage(session: Session, unit: Unit) -> UnitLineage:
    """The units `unit` came from and became, following succession events both ways, with the events."""
    links = list(session.exec(select(SuccessionLink)))
    sides: dict[tuple[int, str], list[int]] = {}
    roles: dict[tuple[int, str], list[int]] = {}
    for link in links:
        sides.setdefault((link.event_id, link.role), []).append(link.unit_id)
        roles.setdefault((link.unit_id, link.role), []).append(link.event_id)

    def walk(own_role: str, other_role: str) -> tuple[dict[int, int], set[int]]:
        generation, events = {unit.id: 0}, set()
        queue = [unit.id]
        while queue:
            current = queue.pop(0)
            for event_id in roles.get((current, own_role), []):
                events.add(event_id)
                for other in sides.get((event_id, other_role), []):
                    if other not in generation:
                        generation[other] = generation[current] + 1
                        queue.append(other)
        del generation[unit.id]
        return generation, events

    back, back_events = walk(SUCCESSOR, PREDECESSOR)
    ahead, ahead_events = walk(PREDECESSOR, SUCCESSOR)
    units = {u.id: u for u in session.exec(select(Unit).where(Unit.id.in_(set(back) | set(ahead))))}

    def nodes(generations: dict[int, int]) -> list[LineageUnit]:
        rows = [
            LineageUnit(**units[uid].model_dump(include={"code", "official_code", "name_vi", "kind", "valid_from",
                                                         "valid_to"}), generation=gen)
            for uid, gen in generations.items()
        ]
        return sorted(rows, key=lambda n: (n.generation, n.code))

    event_rows = list(session.exec(select(SuccessionEvent).where(
        SuccessionEvent.id.in_(back_events | ahead_events)).order_by(SuccessionEvent.effective_on, SuccessionEvent.id)))
    return UnitLineage(code=unit.code, predecessors=nodes(back), successors=nodes(ahead),
                       events=events_to_public(session, event_rows))


# --- validity rules --------------------------------------------------------------------------------------------


def _loc(field: str | Sequence[str | int]) -> list[str | int]:
    return ["body", field] if isinstance(field, str) else list(field)


def inactive_reason(unit: Unit, day: date) -> str | None:
    """Why `unit` cannot take data dated `day` (it did not exist yet, or had closed), or None when it can."""
    if day < unit.valid_from:
        return f"Unit {unit.code!r} only exists from {unit.valid_from.isoformat()}."
    if unit.valid_to is not None and day > unit.valid_to:
        return f"Unit {unit.code!r} closed on {unit.valid_to.isoformat()}: it takes no data dated after that."
    return None


def ensure_active_on(unit: Unit, day: date, field: str | Sequence[str | int]) -> None:
    """Raise `Invalid` (422) naming `field` unless `unit` exists on `day`.

    `field` is a body field name ("held_on" → loc ["body", "held_on"]) or a whole location (["rows", 3, "held_on"]).
    """
    reason = inactive_reason(unit, day)
    if reason:
        raise Invalid(reason, errors=[field_error(_loc(field), reason)])


def referencing_rows(session: Session, table_name: str, row_id: int, *, skip: Sequence[str] = ()) -> dict[str, int]:
    """How many rows of every table point at row `row_id` of `table_name` by a foreign key (tables in `skip` aside)."""
    counts: dict[str, int] = {}
    for table in SQLModel.metadata.sorted_tables:
        if table.name in skip:
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name != table_name:
                continue
            n = session.exec(select(func.count()).select_from(table).where(fk.parent == row_id)).one()
            if n:
                counts[table.name] = counts.get(table.name, 0) + n
    return counts


def dated_records_outside(session: Session, unit_id: int, first: date, last: date | None) -> list[str]:
    """The unit's records dated outside [first, last] (activities, campaign plans, reports, surveys), described."""
    found = []
    checks = [
        ("activities", Activity.held_on, Activity.unit_id),
        ("campaign plans", CampaignPlan.document_date, CampaignPlan.unit_id),
    ]
    for label, column, owner in checks:
        before = session.exec(select(func.count()).where(owner == unit_id, column < first)).one()
        if before:
            found.append(f"{before} {label} dated before {first.isoformat()}")
        if last is not None:
            after = session.exec(select(func.count()).where(owner == unit_id, column > last)).one()
            if after:
                found.append(f"{after} {label} dated after {last.isoformat()}")
    for label, year, owner in (("annual reports", AnnualReport.year, AnnualReport.unit_id),
                               ("survey rounds", SurveyRound.year, SurveyRound.unit_id)):
        stmt = select(func.count()).where(owner == unit_id, year < first.year)
        if last is not None:
            stmt = select(func.count()).where(owner == unit_id, (year < first.year) | (year > last.year))
        n = session.exec(stmt).one()
        if n:
            found.append(f"{n} {label} of years outside {first.year}–{last.year if last else '…'}")
    return found


def official_code_clash(session: Session, official_code: str | None, first: date, last: date | None,
                        exclude_id: int | None = None) -> Unit | None:
    """Another unit holding `official_code` on at least one day of [first, last], if any."""
    if not official_code:
        return None
    stmt = select(Unit).where(Unit.official_code == official_code, active_between(first, last or date.max))
    if exclude_id is not None:
        stmt = stmt.where(Unit.id != exclude_id)
    return session.exec(stmt.order_by(Unit.valid_from)).first()


def _clash_error(clash: Unit, loc: list) -> Exception:
    until = clash.valid_to.isoformat() if clash.valid_to else "now"
    message = (f"Official code {clash.official_code!r} is held by {clash.code!r} from {clash.valid_from.isoformat()} "
               f"to {until}; an official code is unique among units valid on the same dates.")
    return Conflict(message, errors=[field_error(loc, message)])


def _by_code(session: Session, code: str) -> Unit | None:
    return session.exec(select(Unit).where(Unit.code == code)).first()


# --- writes ----------------------------------------------------------------------------------------------------


def create(session: Session, principal: Any, data: UnitCreate, *, loc: Sequence[str | int] = ("body",),
           valid_from: date | None = None) -> Unit:
    """Create a unit (code unique for ever, official code unique on its dates); audited."""
    loc = list(loc)
    start = data.valid_from or valid_from
    if start is None:
        raise Invalid("valid_from is required.", errors=[field_error([*loc, "valid_from"], "Field required")])
    if _by_code(session, data.code) is not None:
        msg = f"A unit with code {data.code!r} exists (codes are never reused)."
        raise Conflict(msg, errors=[field_error([*loc, "code"], msg)])
    errors = []
    if data.valid_to is not None and data.valid_to < start:
        errors.append(field_error([*loc, "valid_to"], "valid_to (the last day) is before valid_from."))
    parent = operator = None
    if data.parent_code:
        parent = _by_code(session, data.parent_code)
        if parent is None:
            errors.append(field_error([*loc, "parent_code"], f"No unit with code {data.parent_code!r}."))
        elif (reason := inactive_reason(parent, start)) is not None:
            errors.append(field_error([*loc, "parent_code"], f"The parent does not exist on {start}: {reason}"))
    if data.operator_code:
        operator = _by_code(session, data.operator_code)
        if operator is None:
            errors.append(field_error([*loc, "operator_code"], f"No unit with code {data.operator_code!r}."))
    if errors:
        raise Invalid("The unit is not valid.", errors=errors)
    if clash := official_code_clash(session, data.official_code, start, data.valid_to):
        raise _clash_error(clash, [*loc, "official_code"])
    unit = Unit(**data.model_dump(exclude={"parent_code", "operator_code", "valid_from"}), valid_from=start,
                parent_id=parent.id if parent else None, operator_id=operator.id if operator else None)
    session.add(unit)
    session.flush()
    audit.record(session, principal, "create", unit, after=audit.snapshot(unit))
    return unit


def _events_of(session: Session, unit_id: int, role: str) -> list[SuccessionEvent]:
    stmt = (select(SuccessionEvent).join(SuccessionLink, SuccessionLink.event_id == SuccessionEvent.id)
            .where(SuccessionLink.unit_id == unit_id, SuccessionLink.role == role))
    return list(session.exec(stmt.order_by(SuccessionEvent.effective_on)))


def update(session: Session, principal: Any, unit: Unit, data: UnitUpdate) -> Unit:
    """Change a unit (correct it, re-attach it, or close it by `valid_to`); audited."""
    given = data.model_fields_set
    refuse_nulls(data, "name_vi", "kind", "valid_from", "name_en")
    errors: list[dict] = []
    valid_from = data.valid_from if "valid_from" in given else unit.valid_from
    valid_to = data.valid_to if "valid_to" in given else unit.valid_to
    official_code = data.official_code if "official_code" in given else unit.official_code
    parent_id, operator_id = unit.parent_id, unit.operator_id
    if valid_to is not None and valid_to < valid_from:
        errors.append(field_error(["body", "valid_to"], "valid_to (the last day) is before valid_from."))
    if "parent_code" in given:
        parent = _by_code(session, data.parent_code) if data.parent_code else None
        if data.parent_code and parent is None:
            errors.append(field_error(["body", "parent_code"], f"No unit with code {data.parent_code!r}."))
        elif parent is not None and parent.id in subtree_ids(session, unit.id):
            errors.append(field_error(["body", "parent_code"], "A unit cannot be placed under itself or below it."))
        else:
            parent_id = parent.id if parent else None
    if "operator_code" in given:
        operator = _by_code(session, data.operator_code) if data.operator_code else None
        if data.operator_code and operator is None:
            errors.append(field_error(["body", "operator_code"], f"No unit with code {data.operator_code!r}."))
        elif operator is not None and operator.id == unit.id:
            errors.append(field_error(["body", "operator_code"], "A unit cannot operate itself."))
        else:
            operator_id = operator.id if operator else None
    if errors:
        raise Invalid("The change is not valid.", errors=errors)
    if (valid_from, valid_to) != (unit.valid_from, unit.valid_to):
        for event in _events_of(session, unit.id, PREDECESSOR):
            last = event.effective_on - timedelta(days=1)
            if valid_to != last:
                msg = (f"Succession event {event.id} ({event.kind}, effective {event.effective_on.isoformat()}) "
                       f"ends this unit on {last.isoformat()}; delete the event to change it.")
                errors.append(field_error(["body", "valid_to"], msg))
        for event in _events_of(session, unit.id, SUCCESSOR):
            if valid_from > event.effective_on or (valid_to is not None and valid_to < event.effective_on):
                field = "valid_from" if valid_from > event.effective_on else "valid_to"
                msg = (f"The unit succeeds others in event {event.id} effective {event.effective_on.isoformat()}: "
                       "it must exist on that day.")
                errors.append(field_error(["body", field], msg))
        outside = dated_records_outside(session, unit.id, valid_from, valid_to)
        if outside:
            field = "valid_to" if any("after" in o or "outside" in o for o in outside) else "valid_from"
            msg = "The unit has records outside the new validity: " + "; ".join(outside) + "."
            errors.append(field_error(["body", field], msg))
    if errors:
        raise Invalid("The change is not valid.", errors=errors)
    if clash := official_code_clash(session, official_code, valid_from, valid_to, exclude_id=unit.id):
        raise _clash_error(clash, ["body", "official_code"])
    before = audit.snapshot(unit)
    changes = data.model_dump(include=given & {"name_vi", "name_en", "kind"})
    for name, value in changes.items():
        setattr(unit, name, value)
    unit.official_code, unit.valid_from, unit.valid_to = official_code, valid_from, valid_to
    unit.parent_id, unit.operator_id = parent_id, operator_id
    audit.save_update(session, principal, unit, before)
    return unit


_LABELS = {"unit": "units below or run by it", "audit_log": "audit entries", "user": "users", "api_token": "tokens"}


def delete(session: Session, principal: Any, unit: Unit) -> None:
    """Delete a unit that has no records at all; one with records must be closed instead (valid_to)."""
    refs = referencing_rows(session, "unit", unit.id)
    if refs:
        listed = ", ".join(f"{n} {_LABELS.get(t, t.replace('_', ' '))}" for t, n in sorted(refs.items()))
        raise Conflict(f"Unit {unit.code!r} has records ({listed}): it cannot be deleted. Close it instead "
                       "(PATCH valid_to with its last day).", title="Unit has records")
    before = audit.snapshot(unit)
    session.delete(unit)
    session.flush()
    audit.record(session, principal, "delete", unit, before=before)


# --- succession events -----------------------------------------------------------------------------------------

# (predecessors: min, max), (successors: min, max) for each kind; None is "no upper limit".
SHAPES: dict[SuccessionKind, tuple[tuple[int, int | None], tuple[int, int | None]]] = {
    SuccessionKind.merge: ((2, None), (1, 1)),
    SuccessionKind.split: ((1, 1), (2, None)),
    SuccessionKind.rename: ((1, 1), (1, 1)),
    SuccessionKind.dissolve: ((1, None), (0, 0)),
    SuccessionKind.transfer: ((1, 1), (1, 1)),
}


def _count_rule(low: int, high: int | None) -> str:
    if high is None:
        return f"at least {low}"
    return "none" if high == 0 else (f"exactly {low}" if low == high else f"{low} to {high}")


def _shape_errors(kind: SuccessionKind, n_pred: int, n_succ: int) -> list[dict]:
    errors = []
    for field, n, (low, high) in (("predecessors", n_pred, SHAPES[kind][0]),
                                  ("successors", n_succ, SHAPES[kind][1])):
        if n < low or (high is not None and n > high):
            msg = f"A {kind.value} takes {_count_rule(low, high)} {field}; {n} given."
            errors.append(field_error(["body", field], msg))
    return errors


def event_snapshot(session: Session, event: SuccessionEvent) -> dict:
    """An event's columns with the codes of its units, for the audit log."""
    public = events_to_public(session, [event])[0]
    return {**audit.snapshot(event), "predecessors": public.predecessors, "successors": public.successors}


def record_event(session: Session, principal: Any, data: SuccessionEventCreate) -> SuccessionEvent:
    """Record a succession event: check its shape and dates, close the predecessors, create new units, link."""
    errors = _shape_errors(data.kind, len(data.predecessors), len(data.successors) + len(data.new_units))
    new_codes = [u.code for u in data.new_units]
    for field, codes in (("predecessors", data.predecessors), ("successors", data.successors + new_codes)):
        seen = set()
        for i, code in enumerate(codes):
            if code in seen:
                errors.append(field_error(["body", field, i], f"{code!r} is listed twice."))
            seen.add(code)
    for i, code in enumerate(data.successors + new_codes):
        if code in data.predecessors:
            errors.append(field_error(["body", "successors", i], f"{code!r} cannot precede and succeed itself."))
    if errors:
        raise Invalid("The succession event is not valid.", errors=errors)

    effective_on, last_day = data.effective_on, data.effective_on - timedelta(days=1)
    preds: list[Unit] = []
    for i, code in enumerate(data.predecessors):
        loc = ["body", "predecessors", i]
        unit = _by_code(session, code)
        if unit is None:
            errors.append(field_error(loc, f"No unit with code {code!r}."))
            continue
        preds.append(unit)
        ended = _events_of(session, unit.id, PREDECESSOR)
        if ended:
            errors.append(field_error(loc, f"{code!r} already ended in succession event {ended[0].id}."))
        elif unit.valid_from > last_day:
            errors.append(field_error(loc, f"{code!r} only exists from {unit.valid_from.isoformat()}; it cannot end "
                                           f"on {last_day.isoformat()}."))
        elif unit.valid_to is not None and unit.valid_to != last_day:
            when = "before" if unit.valid_to < last_day else "after"
            errors.append(field_error(loc, f"{code!r} closes on {unit.valid_to.isoformat()}, {when} the day before "
                                           f"the event ({last_day.isoformat()})."))
        elif unit.valid_to is None and (outside := dated_records_outside(session, unit.id, unit.valid_from,
                                                                          last_day)):
            errors.append(field_error(loc, f"{code!r} has records after {last_day.isoformat()}: "
                                           + "; ".join(outside) + ". Move them to the successor first."))
    succs: list[Unit] = []
    for i, code in enumerate(data.successors):
        loc = ["body", "successors", i]
        unit = _by_code(session, code)
        if unit is None:
            errors.append(field_error(loc, f"No unit with code {code!r}; list it in new_units to create it."))
            continue
        succs.append(unit)
        if (reason := inactive_reason(unit, effective_on)) is not None:
            errors.append(field_error(loc, f"A successor must exist from the event's date: {reason}"))
    for i, new in enumerate(data.new_units):
        loc = ["body", "new_units", i]
        if _by_code(session, new.code) is not None:
            errors.append(field_error([*loc, "code"], f"A unit with code {new.code!r} exists; list it in successors."))
        if new.valid_from is not None and new.valid_from > effective_on:
            errors.append(field_error([*loc, "valid_from"], "A successor must exist from the event's date."))
    if errors:
        raise Invalid("The succession event is not valid.", errors=errors)

    # Close the predecessors first, so that a new unit may take over an official code from the day after.
    for unit in preds:
        if unit.valid_to is None:
            before = audit.snapshot(unit)
            unit.valid_to = last_day
            bump(unit)
            session.add(unit)
            session.flush()
            audit.record(session, principal, "update", unit, before=before, after=audit.snapshot(unit))
    for i, new in enumerate(data.new_units):
        succs.append(create(session, principal, new, loc=("body", "new_units", i), valid_from=effective_on))

    event = SuccessionEvent(kind=data.kind, effective_on=effective_on, legal_basis=data.legal_basis,
                            note=data.note, recorded_at=utcnow())
    session.add(event)
    session.flush()
    for role, units in ((PREDECESSOR, preds), (SUCCESSOR, succs)):
        for unit in units:
            session.add(SuccessionLink(event_id=event.id, unit_id=unit.id, role=role))
    session.flush()
    audit.record(session, principal, "create", event, after=event_snapshot(session, event))
    return event


def update_event(session: Session, principal: Any, event: SuccessionEvent, data: SuccessionEventUpdate) -> None:
    """Correct an event's legal basis or note; audited."""
    refuse_nulls(data, "legal_basis")
    given = data.model_fields_set
    before = event_snapshot(session, event)
    for name in given:
        setattr(event, name, getattr(data, name))
    audit.save_update(session, principal, event, before, after=lambda: event_snapshot(session, event))


def delete_event(session: Session, principal: Any, event: SuccessionEvent) -> None:
    """Delete an event and its links; the units it closed stay closed (reopen them with PATCH valid_to)."""
    before = event_snapshot(session, event)
    for link in session.exec(select(SuccessionLink).where(SuccessionLink.event_id == event.id)):
        session.delete(link)
    session.flush()
    session.delete(event)
    session.flush()
    audit.record(session, principal, "delete", event, before=before)


# Imported last: the app.api package imports the routers, which import this module; by now every name above exists.
