"""Coordinators schedule shifts (single or weekly), edit, cancel and (re)assign them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from carecore import validation
from carecore.access.policy import require_role
from carecore.access.principal import Principal, Role
from carecore.agencies.models import Agency
from carecore.agencies.service import get_agency
from carecore.audit.service import audited, audits
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
    Hold,
    QualificationOverride,
    Shift,
    ShiftStatus,
)
from carecore.shifts.open_shifts import finish_release, offer_now
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
from carecore.shifts.queries import ASSIGN_ACTION
from carecore.shifts.rules import checked_codes, checked_times, missing_qualifications, weekly_occurrences
from carecore.shifts.support import (
    Caregiver,
    change_key,
    load_caregiver,
    publish_shift_event,
    shift_in_scope,
    tell_caregivers,
    zone,
)

ASSIGNING = (HistoryAction.ASSIGNED, HistoryAction.REASSIGNED)


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
        # A retry of a request that went through (even if its time has passed), or died midway.
        return await _finish_created(ports, actor, plan, existing, None, keep_on_refusal=False)
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
            shifts.append(await _finish_created(ports, actor, plan, existing[shift_id], c, keep_on_refusal=True))
            continue
        one = replace(c, start=start, end=end)
        shifts.append(await _create(ports, actor, one, plan, shift_id, series_id=series_id, keep_on_refusal=True))
    return shifts


def _placement_for(actor: Principal, c: _Checked, plan: ShiftPlan, now: datetime) -> Placement | None:
    if c.caregiver is None:
        return None
    day = c.start.astimezone(zone(c.agency)).date()
    return Placement(
        caregiver_id=c.caregiver.user.id,
        start=c.start,
        end=c.end,
        limits=c.caregiver.limits,
        tz=zone(c.agency),
        history=HistoryEntry(HistoryAction.ASSIGNED, now, actor.user_id, to_caregiver_id=c.caregiver.user.id),
        override=qualification_override(actor, c.required, c.caregiver, day, plan.override_reason, now),
    )


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
    that seems covered when it is not. It is inserted due for offers once its hold lapses, so the
    offer job offers it if the placement never commits; a retry of the request places the caregiver.
    """
    now = ports.clock.now()
    placement = _placement_for(actor, c, plan, now)
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
        await ports.store.shifts.insert(shift, offer_unplaced_after=HOLD_LAPSE)
    except AlreadyExists:
        found = await ports.store.shifts.get(shift_id)
        assert found is not None
        return found
    if placement is None or hold is None:
        await _announce_opened(ports, shift)
        return shift
    return await _place_new(ports, shift, hold, placement, keep_on_refusal=keep_on_refusal)


async def _place_new(ports: Ports, shift: Shift, hold: Hold, placement: Placement, *, keep_on_refusal: bool) -> Shift:
    """Places the named caregiver on a new shift this request holds; a refusal deletes the shift, or
    leaves it OPEN and offered (a series keeps its other shifts)."""
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


async def _finish_created(
    ports: Ports, actor: Principal, plan: ShiftPlan, shift: Shift, c: _Checked | None, *, keep_on_refusal: bool
) -> Shift:
    """A retry of a create finishes what the first attempt left if it died midway: the named caregiver
    not placed yet, or nobody told. Everything it repeats is keyed, so it happens once."""
    untouched = shift.status is ShiftStatus.OPEN and shift.caregiver_id is None and shift.revision == 1
    if plan.caregiver_id is None:
        if untouched:
            await _announce_opened(ports, shift)
        return shift
    if untouched:
        checked = replace(c or await _checked(ports, actor, plan), start=shift.start, end=shift.end)
        now = ports.clock.now()
        placement = _placement_for(actor, checked, plan, now)
        assert placement is not None
        hold = new_hold(placement, now)
        held = await ports.store.shifts.take_hold(
            shift.id,
            hold,
            statuses=(ShiftStatus.OPEN,),
            lapsed_before=now - HOLD_LAPSE,
            expected_revision=1,
            expected_caregiver=(None,),
        )
        if held is None:  # the first attempt's placement may still be running: the client tries again
            raise await why_not_held(ports, shift, 1)
        async with audited(ports, actor, "shift.create", "Shift", [shift.id]):  # the placement is a change too
            return await _place_new(ports, held, hold, placement, keep_on_refusal=keep_on_refusal)
    created = [h for h in shift.history if h.action is HistoryAction.ASSIGNED][:1]
    if len(shift.history) == 2 and created and created[0].to_caregiver_id == shift.caregiver_id:
        await _announce_assignment(ports, shift, previous=None)  # placed by the create, nothing since
    return shift


async def _announce_opened(ports: Ports, shift: Shift) -> None:
    await publish_shift_event(ports, shift, "shift.opened", change_key(shift))
    await offer_now(ports, shift.id)


async def _announce_assignment(ports: Ports, shift: Shift, *, previous: str | None) -> None:
    data: EventData = {"previous_caregiver_id": previous}
    await publish_shift_event(ports, shift, "shift.assigned", change_key(shift), data=data)
    await tell_caregivers(ports, shift, change_key(shift), shift.caregiver_id, previous)


@audits(ASSIGN_ACTION, "Shift", "shift_id")
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
        last = shift.history[-1] if shift.history else None
        if last is not None and last.action in ASSIGNING and last.to_caregiver_id == caregiver.user.id:
            # A retry: tell them again in case a crash came between the placement and the telling
            # (keyed by the change, so once); a change since then announced itself.
            await _announce_assignment(ports, shift, previous=last.from_caregiver_id)
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
        return await _finish_cancel(ports, shift)  # a retry: finish what a crash after the write left
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
    return await _finish_cancel(ports, cancelled)


async def announce_change(ports: Ports, shift: Shift) -> None:
    """Announces the shift's latest change again: the job's safety net for a request that died after
    its write and before telling people. Every effect is keyed by the change, so it happens once."""
    last = shift.history[-1] if shift.history else None
    if last is None:
        return
    if last.action in ASSIGNING and last.to_caregiver_id == shift.caregiver_id:
        await _announce_assignment(ports, shift, previous=last.from_caregiver_id)
    elif last.action in (HistoryAction.OPENED, HistoryAction.GIVEN_UP):
        await finish_release(ports, shift, last.action)
    elif last.action is HistoryAction.CANCELLED and shift.status is ShiftStatus.CANCELLED:
        await _finish_cancel(ports, shift)


async def _finish_cancel(ports: Ports, cancelled: Shift) -> Shift:
    """Everything after the write that cancelled the shift (it keeps its caregiver's id), each keyed,
    so a retry after a crash repeats none of it: the caregiver's time freed, the event, the caregiver told."""
    if cancelled.caregiver_id is not None:
        await ports.store.caregiver_schedules.remove(cancelled.caregiver_id, cancelled.id)
    await publish_shift_event(ports, cancelled, "shift.cancelled")
    await tell_caregivers(ports, cancelled, "cancelled", cancelled.caregiver_id)
    return cancelled
