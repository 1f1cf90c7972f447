"""Coordinators schedule shifts (single or weekly), edit, cancel and (re)assign them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from carecore import validation
from carecore.access.policy import require_role
from carecore.access.principal import Principal, Role
from carecore.agencies.models import Agency
from carecore.agencies.service import get_agency
from carecore.audit.service import audits
from carecore.errors import AlreadyExists, DomainError, StateConflict, ValidationFailed
from carecore.events.models import EventData
from carecore.ids import id_for_key, new_id
from carecore.people.models import Person
from carecore.people.service import person_in_scope
from carecore.ports import Ports
from carecore.shifts.errors import MissingQualifications
from carecore.shifts.models import (
    PLACEABLE,
    HistoryAction,
    HistoryEntry,
    QualificationOverride,
    Shift,
    ShiftStatus,
)
from carecore.shifts.open_shifts import offer_now
from carecore.shifts.placement import (
    HOLD_LAPSE,
    Placement,
    finish,
    new_hold,
    place,
    require_placeable,
    series_violation,
    why_not_held,
)
from carecore.shifts.rules import checked_codes, checked_times, missing_qualifications, weekly_occurrences
from carecore.shifts.support import (
    Caregiver,
    load_caregiver,
    publish_shift_event,
    shift_in_scope,
    tell_caregivers,
    zone,
)


@dataclass(frozen=True, slots=True)
class ShiftPlan:
    """What a coordinator fills in to schedule a shift."""

    person_id: str
    start: datetime
    end: datetime
    caregiver_id: str | None = None  # None: the shift is opened to qualified caregivers
    required_qualifications: tuple[str, ...] = ()
    notes: str = ""
    override_reason: str | None = None  # places a caregiver without the required qualifications


@dataclass(frozen=True, slots=True)
class WeeklyRecurrence:
    weekdays: tuple[int, ...]  # 0 = Monday, in the agency's time zone
    until: date  # the last day that may hold a shift


def qualification_override(
    actor: Principal, required: tuple[str, ...], caregiver: Caregiver, day: date, reason: str | None, now: datetime
) -> QualificationOverride | None:
    """None when the caregiver is qualified; an override when a coordinator gave a reason; else refuses."""
    missing = missing_qualifications(required, caregiver.profile, day)
    if not missing:
        return None
    reason = validation.optional_text(reason, "overrideReason", max_len=500)
    if reason is None or actor.role is not Role.COORDINATOR:
        raise MissingQualifications(missing)
    return QualificationOverride(missing=missing, reason=reason, by=actor.user_id, at=now)


@dataclass(frozen=True, slots=True)
class _Checked:
    agency: Agency
    person: Person
    start: datetime
    end: datetime
    required: tuple[str, ...]
    notes: str
    caregiver: Caregiver | None


async def _checked(ports: Ports, actor: Principal, plan: ShiftPlan) -> _Checked:
    require_role(actor, Role.COORDINATOR)
    person = await person_in_scope(ports, actor, plan.person_id, field="personId")
    if not person.profile.active:
        raise ValidationFailed("This person is no longer supported by the agency.", field="personId")
    agency = await get_agency(ports, actor.agency_id)
    start, end = checked_times(plan.start, plan.end, ports.clock.now())
    required = checked_codes(plan.required_qualifications, "requiredQualifications")
    notes = validation.text(plan.notes, "notes")
    caregiver = await load_caregiver(ports, agency, plan.caregiver_id) if plan.caregiver_id else None
    return _Checked(agency, person, start, end, required, notes, caregiver)


async def schedule_shift(
    ports: Ports, actor: Principal, plan: ShiftPlan, *, idempotency_key: str | None = None
) -> Shift:
    """Schedules one shift with a caregiver, or opens it when no caregiver is named."""
    require_role(actor, Role.COORDINATOR)
    shift_id = (
        id_for_key(actor.agency_id, actor.user_id, "schedule_shift", idempotency_key) if idempotency_key else None
    )
    if shift_id is not None and (existing := await ports.store.shifts.get(shift_id)) is not None:
        return existing  # a retry of a request that already went through, even if its time has passed
    c = await _checked(ports, actor, plan)
    shift_id = shift_id or new_id()
    if c.caregiver is not None:
        day = c.start.astimezone(zone(c.agency)).date()
        qualification_override(actor, c.required, c.caregiver, day, plan.override_reason, ports.clock.now())
        cid, limits = c.caregiver.user.id, c.caregiver.limits
        violation = await series_violation(ports, cid, [(shift_id, c.start, c.end)], limits, zone(c.agency))
        if violation is not None:
            raise violation
    return await _create(ports, actor, c, plan, shift_id, series_id=None, keep_on_refusal=False)


async def schedule_weekly_shifts(
    ports: Ports,
    actor: Principal,
    plan: ShiftPlan,
    recurrence: WeeklyRecurrence,
    *,
    idempotency_key: str | None = None,
) -> list[Shift]:
    """Schedules the same local hours on chosen weekdays until a date (python-dateutil rules).

    Refused as a whole, before anything is written, when the caregiver's schedule cannot take every
    shift of the series. One that loses a race with a concurrent change afterwards stays OPEN.
    """
    c = await _checked(ports, actor, plan)
    tz = zone(c.agency)
    times = weekly_occurrences(c.start, c.end, recurrence.weekdays, recurrence.until, tz)
    series_id = (
        id_for_key(actor.agency_id, actor.user_id, "schedule_weekly", idempotency_key) if idempotency_key else new_id()
    )
    ids = [id_for_key(series_id, start.isoformat()) for start, _ in times]
    existing = await ports.store.shifts.get_many(ids)
    if c.caregiver is not None:
        for start, _ in times:
            day = start.astimezone(tz).date()
            qualification_override(actor, c.required, c.caregiver, day, plan.override_reason, ports.clock.now())
        pending = [(ids[i], s, e) for i, (s, e) in enumerate(times) if ids[i] not in existing]
        violation = await series_violation(ports, c.caregiver.user.id, pending, c.caregiver.limits, tz)
        if violation is not None:
            raise violation
    shifts: list[Shift] = []
    for shift_id, (start, end) in zip(ids, times, strict=True):
        if shift_id in existing:
            shifts.append(existing[shift_id])
            continue
        one = replace(c, start=start, end=end)
        shifts.append(await _create(ports, actor, one, plan, shift_id, series_id=series_id, keep_on_refusal=True))
    return shifts


@audits("shift.create", "Shift", "shift_id")
async def _create(
    ports: Ports,
    actor: Principal,
    c: _Checked,
    plan: ShiftPlan,
    shift_id: str,
    *,
    series_id: str | None,
    keep_on_refusal: bool,
) -> Shift:
    """Inserts the shift OPEN, held for its caregiver if one is named, then places them.

    A crash before the placement commits leaves an OPEN shift, which coverage reports: never a shift
    that seems covered when it is not.
    """
    now = ports.clock.now()
    placement = None
    if c.caregiver is not None:
        day = c.start.astimezone(zone(c.agency)).date()
        placement = Placement(
            caregiver_id=c.caregiver.user.id,
            start=c.start,
            end=c.end,
            limits=c.caregiver.limits,
            tz=zone(c.agency),
            history=HistoryEntry(HistoryAction.ASSIGNED, now, actor.user_id, to_caregiver_id=c.caregiver.user.id),
            override=qualification_override(actor, c.required, c.caregiver, day, plan.override_reason, now),
        )
    hold = new_hold(placement, now) if placement else None
    shift = Shift(
        id=shift_id,
        agency_id=actor.agency_id,
        person_id=c.person.id,
        caregiver_id=None,
        status=ShiftStatus.OPEN,
        start=c.start,
        end=c.end,
        required_qualifications=c.required,
        notes=c.notes,
        revision=1,
        created_by=actor.user_id,
        created_at=now,
        updated_at=now,
        series_id=series_id,
        history=(HistoryEntry(HistoryAction.CREATED, now, actor.user_id),),
        hold=hold,
    )
    try:
        await ports.store.shifts.insert(shift)
    except AlreadyExists:
        found = await ports.store.shifts.get(shift_id)
        assert found is not None
        return found
    if placement is None or hold is None:
        await publish_shift_event(ports, shift, "shift.opened", str(shift.revision))
        await offer_now(ports, shift.id)
        return shift
    try:
        placed = await finish(ports, shift, hold, placement, previous=None, keep_hold_on_refusal=True)
    except DomainError:
        if not keep_on_refusal:
            await ports.store.shifts.delete_unplaced(shift.id, hold.token)
            raise
        await ports.store.shifts.drop_hold(shift.id, hold.token)
        await ports.store.shifts.request_offers(shift.id, ports.clock.now())
        await offer_now(ports, shift.id)
        return await ports.store.shifts.get(shift.id) or shift
    await _announce_assignment(ports, placed, previous=None)
    return placed


async def _announce_assignment(ports: Ports, shift: Shift, *, previous: str | None) -> None:
    data: EventData = {"previous_caregiver_id": previous}
    await publish_shift_event(ports, shift, "shift.assigned", str(shift.revision), data=data)
    await tell_caregivers(ports, shift, str(shift.revision), shift.caregiver_id, previous)


@audits("shift.assign", "Shift", "shift_id")
async def assign_shift(
    ports: Ports,
    actor: Principal,
    shift_id: str,
    *,
    caregiver_id: str,
    reason: str | None = None,
    override_reason: str | None = None,
    expected_revision: int | None = None,
) -> Shift:
    """Gives a shift to a caregiver; taking it from another one is a reassignment and needs a reason."""
    require_role(actor, Role.COORDINATOR)
    shift = await shift_in_scope(ports, actor, shift_id)
    agency = await get_agency(ports, actor.agency_id)
    caregiver = await load_caregiver(ports, agency, caregiver_id)
    reason = validation.optional_text(reason, "reason", max_len=500)
    if shift.caregiver_id == caregiver.user.id:
        return shift
    if shift.caregiver_id is not None and reason is None:
        raise ValidationFailed("Say why the shift is reassigned; it stays in the shift's history.", field="reason")
    require_placeable(shift, ports.clock.now())
    now = ports.clock.now()
    tz = zone(agency)
    action = HistoryAction.REASSIGNED if shift.caregiver_id else HistoryAction.ASSIGNED
    placement = Placement(
        caregiver_id=caregiver.user.id,
        start=shift.start,
        end=shift.end,
        limits=caregiver.limits,
        tz=tz,
        history=HistoryEntry(action, now, actor.user_id, shift.caregiver_id, caregiver.user.id, reason),
        override=qualification_override(
            actor, shift.required_qualifications, caregiver, shift.start.astimezone(tz).date(), override_reason, now
        ),
    )
    placed = await place(ports, shift, placement, expected_revision=expected_revision)
    await _announce_assignment(ports, placed, previous=shift.caregiver_id)
    return placed


@audits("shift.update", "Shift", "shift_id")
async def update_shift(
    ports: Ports,
    actor: Principal,
    shift_id: str,
    *,
    expected_revision: int,
    start: datetime,
    end: datetime,
    required_qualifications: tuple[str, ...],
    notes: str,
    override_reason: str | None = None,
) -> Shift:
    """Moves or edits a shift that has not started; its caregiver's schedule must take the new times."""
    require_role(actor, Role.COORDINATOR)
    shift = await shift_in_scope(ports, actor, shift_id)
    if shift.status not in (ShiftStatus.SCHEDULED, ShiftStatus.OPEN):
        raise StateConflict("Only a shift that has not started can be edited.", field="shiftId")
    agency = await get_agency(ports, actor.agency_id)
    now = ports.clock.now()
    start, end = checked_times(start, end, now)
    required = checked_codes(required_qualifications, "requiredQualifications")
    notes = validation.text(notes, "notes")
    history = HistoryEntry(HistoryAction.RESCHEDULED, now, actor.user_id, shift.caregiver_id, shift.caregiver_id)
    if shift.caregiver_id is None:
        updated = await ports.store.shifts.move_open(
            shift.id,
            expected_revision=expected_revision,
            start=start,
            end=end,
            required=required,
            notes=notes,
            history=history,
            now=now,
            lapsed_before=now - HOLD_LAPSE,
        )
        if updated is None:
            raise await why_not_held(ports, shift, expected_revision)
    else:
        tz = zone(agency)
        caregiver = await load_caregiver(ports, agency, shift.caregiver_id)
        placement = Placement(
            caregiver_id=caregiver.user.id,
            start=start,
            end=end,
            limits=caregiver.limits,
            tz=tz,
            history=history,
            override=_kept_override(
                actor, shift, required, caregiver, start.astimezone(tz).date(), override_reason, now
            ),
            field="start",
            required_qualifications=required,
            notes=notes,
        )
        updated = await place(ports, shift, placement, expected_revision=expected_revision)
        await tell_caregivers(ports, updated, str(updated.revision), updated.caregiver_id)
    return updated


def _kept_override(
    actor: Principal,
    shift: Shift,
    required: tuple[str, ...],
    caregiver: Caregiver,
    day: date,
    reason: str | None,
    now: datetime,
) -> QualificationOverride | None:
    """An earlier override still stands for an edit that needs nothing more of the caregiver."""
    earlier = shift.qualification_override
    missing = missing_qualifications(required, caregiver.profile, day)
    if reason is None and earlier is not None and set(missing) <= set(earlier.missing):
        return earlier if missing else None
    return qualification_override(actor, required, caregiver, day, reason, now)


@audits("shift.cancel", "Shift", "shift_id")
async def cancel_shift(
    ports: Ports, actor: Principal, shift_id: str, *, reason: str, expected_revision: int | None = None
) -> Shift:
    """Cancels a shift that has not started (or was missed); its caregiver's time is freed."""
    require_role(actor, Role.COORDINATOR)
    shift = await shift_in_scope(ports, actor, shift_id)
    reason_text = validation.text(reason, "reason", max_len=500, required=True)
    now = ports.clock.now()
    if shift.status is ShiftStatus.CANCELLED:
        return shift
    cancelled = await ports.store.shifts.release_caregiver(
        shift.id,
        expected_caregiver=shift.caregiver_id,
        statuses=PLACEABLE,
        to_status=ShiftStatus.CANCELLED,
        history=HistoryEntry(HistoryAction.CANCELLED, now, actor.user_id, shift.caregiver_id, None, reason_text),
        now=now,
        lapsed_before=now - HOLD_LAPSE,
        expected_revision=expected_revision,
        cancel_reason=reason_text,
    )
    if cancelled is None:
        raise await why_not_held(ports, shift, expected_revision)
    if shift.caregiver_id is not None:
        await ports.store.caregiver_schedules.remove(shift.caregiver_id, shift.id)
    await publish_shift_event(ports, cancelled, "shift.cancelled")
    await tell_caregivers(ports, cancelled, "cancelled", shift.caregiver_id)
    return cancelled
