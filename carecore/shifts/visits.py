"""The visit: check-in and check-out with electronic visit verification, the task log against the plan
version in force, progress notes, and the handover note the next caregiver reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from carecore import validation
from carecore.access.policy import require_role
from carecore.access.principal import Principal, Role
from carecore.audit.service import audits, record
from carecore.care_plans.models import SupportTask
from carecore.errors import NotFound, StateConflict, ValidationFailed
from carecore.ids import check_same_request, id_for_key, new_id, payload_hash
from carecore.people.models import HomeLocation
from carecore.ports import Ports
from carecore.shifts.critical_tasks import check_tasks_now, critical_occurrences, tasks_of
from carecore.shifts.errors import CheckInNotOpen, CriticalTasksUnlogged
from carecore.shifts.models import (
    Location,
    ProgressNote,
    Shift,
    ShiftStatus,
    TaskLogEntry,
    TaskOutcome,
    VisitCheck,
)
from carecore.shifts.policy import can_see_visit_record
from carecore.shifts.rules import checked_location, device_timing, distance_m, recorded_at
from carecore.shifts.support import publish_shift_event, shift_in_scope
from carecore.shifts.visit_flags import TASK_PREFIX, flag_now, has_exception

# GPS accuracy counts in the caregiver's favour only this far: a fix that vague proves nothing.
MAX_ACCURACY_CREDIT_M = 100.0
NOTES_AFTER_CHECK_OUT = timedelta(hours=24)


def verified(at: datetime, location: Location | None, home: HomeLocation | None) -> VisitCheck:
    """Where the caregiver was against the person's geofence; no location at all is an exception too."""
    location = checked_location(location)
    if location is None:
        return VisitCheck(at=at, location=None, distance_m=None, outside_geofence=True)
    if home is None:
        return VisitCheck(at=at, location=location, distance_m=None, outside_geofence=False)
    distance = distance_m(location, home.latitude, home.longitude)
    credit = min(location.accuracy_m or 0.0, MAX_ACCURACY_CREDIT_M)
    return VisitCheck(at, location, round(distance, 1), distance - credit > home.geofence_radius_m)


async def _own_shift(ports: Ports, actor: Principal, shift_id: str) -> Shift:
    require_role(actor, Role.CAREGIVER)
    shift = await shift_in_scope(ports, actor, shift_id)
    if shift.caregiver_id != actor.user_id:
        raise NotFound("Shift", shift_id, field="shiftId")  # someone else's visit is not theirs to see
    return shift


@audits("shift.check_in", "Shift", "shift_id")
async def check_in(
    ports: Ports,
    actor: Principal,
    shift_id: str,
    *,
    location: Location | None,
    device_at: datetime | None = None,
    fix_at: datetime | None = None,
) -> Shift:
    """Starts the visit: from 15 minutes before the start, once, by the shift's own caregiver; an offline
    phone's check-in counts at its own time if sent within 24 hours (carecore.shifts.rules.device_timing)."""
    shift = await _own_shift(ports, actor, shift_id)
    now = ports.clock.now()
    timing = device_timing(device_at, fix_at, now)
    at = recorded_at(timing, now)
    if shift.check_in is not None:
        raise StateConflict(f"You checked in at {shift.check_in.at.isoformat()} already.", field="shiftId")
    if shift.status not in (ShiftStatus.SCHEDULED, ShiftStatus.MISSED):
        raise StateConflict(f"A shift that is {shift.status.value.lower()} cannot be checked into.", field="shiftId")
    if at < shift.check_in_opens_at():
        raise CheckInNotOpen(shift.check_in_opens_at())
    if at >= shift.end:
        raise StateConflict("The shift is over; tell your coordinator about the visit.", field="shiftId")
    person = await ports.store.people.get(shift.person_id)
    check = replace(verified(at, location, person.profile.home if person else None), timing=timing)
    plan_id = person.active_care_plan_id if person else None
    flag = "check_in" if has_exception(check) else None  # told by flag_now, or the job if this dies
    updated = await ports.store.shifts.check_in(shift.id, actor.user_id, check, plan_id, now, flag=flag)
    if updated is None:
        raise StateConflict("The shift changed meanwhile (checked in, reassigned or cancelled).", field="shiftId")
    await publish_shift_event(ports, updated, "shift.checked_in")
    if flag is not None:
        await flag_now(ports, shift.id)
    return updated


@audits("shift.check_out", "Shift", "shift_id")
async def check_out(
    ports: Ports,
    actor: Principal,
    shift_id: str,
    *,
    location: Location | None,
    handover_note: str | None = None,
    reason: str | None = None,
    device_at: datetime | None = None,
    fix_at: datetime | None = None,
) -> Shift:
    """Ends the visit; refused while a critical task due in the shift has no log entry, unless a reason
    for the gap is given (then recorded, and each occurrence published for the incident module).

    Refused before the shift's start: check-in opens 15 minutes early, and a check-in and check-out in
    those minutes would complete a visit nobody made, with no late or missed-visit alert left to notice.
    """
    handover_note = validation.optional_text(handover_note, "handoverNote")
    reason = validation.optional_text(reason, "reason", max_len=500)
    for _ in range(3):  # a task logged while we looked is a new reason to look again
        shift = await _own_shift(ports, actor, shift_id)
        if shift.status is not ShiftStatus.IN_PROGRESS:
            raise StateConflict("Only a visit in progress can be checked out of.", field="shiftId")
        now = ports.clock.now()
        timing = device_timing(device_at, fix_at, now)
        at = recorded_at(timing, now)
        if at < shift.start:
            raise StateConflict(
                f"The visit cannot end before the shift starts ({shift.start.isoformat()}).", field="shiftId"
            )
        if shift.check_in is not None and at < shift.check_in.at:
            raise ValidationFailed("The check-out is earlier than the check-in.", field="deviceTime")
        unlogged = await unlogged_critical_tasks(ports, shift)
        if unlogged and reason is None:
            raise CriticalTasksUnlogged(tuple(t.id for t in unlogged), tuple(t.title for t in unlogged))
        person = await ports.store.people.get(shift.person_id)
        check = replace(verified(at, location, person.profile.home if person else None), timing=timing)
        flag = "check_out" if has_exception(check) else None  # told by flag_now, or the job if this dies
        updated = await ports.store.shifts.check_out(
            shift.id,
            actor.user_id,
            check,
            handover_note=handover_note,
            unlogged_critical_reason=reason if unlogged else None,
            task_log_size=len(shift.task_log),
            now=now,
            flag=flag,
        )
        if updated is not None:
            await publish_shift_event(ports, updated, "shift.checked_out")
            await check_tasks_now(ports, shift.id)  # the check-out made it due: lost here, the job runs it
            if flag is not None:
                await flag_now(ports, shift.id)
            return updated
    raise StateConflict("The visit is changing too quickly; try again.", field="shiftId")


async def unlogged_critical_tasks(ports: Ports, shift: Shift) -> list[SupportTask]:
    """Critical tasks of the plan in force with an occurrence in the shift that nothing was logged for
    (entries count for the occurrence they were logged near: carecore.shifts.critical_tasks)."""
    tasks, tz = await tasks_of(ports, shift)
    unlogged = {o.task.id for o in critical_occurrences(tasks, shift, tz) if not o.entries}
    return [t for t in tasks if t.id in unlogged]


@audits("shift.log_task", "Shift", "shift_id")
async def log_task(
    ports: Ports,
    actor: Principal,
    shift_id: str,
    *,
    task_id: str,
    outcome: TaskOutcome,
    reason: str | None = None,
    note: str = "",
    idempotency_key: str | None = None,
    device_at: datetime | None = None,
    fix_at: datetime | None = None,
) -> Shift:
    """Records what became of a task of the plan version in force; refused or not done needs a reason.
    An offline phone's entry counts at its own time (within 24 hours), e.g. for the critical-task check.
    A retry with the same idempotency key and values answers with the shift holding the first entry,
    even after check-out; the key with other values is IdempotencyKeyReused."""
    shift = await _own_shift(ports, actor, shift_id)
    reason = validation.optional_text(reason, "reason", max_len=500)
    note = validation.text(note, "note")
    key_hash = payload_hash(shift.id, task_id, outcome, reason, note, device_at, fix_at)
    entry_id = new_id()
    if idempotency_key:
        entry_id = id_for_key(actor.agency_id, actor.user_id, "log_task", idempotency_key)
        if (earlier := await ports.store.shifts.with_task_entry(entry_id)) is not None:
            check_same_request(next(e.key_hash for e in earlier.task_log if e.id == entry_id), key_hash)
            return earlier
    if shift.status is not ShiftStatus.IN_PROGRESS:
        raise StateConflict("Tasks are logged during the visit, after check-in.", field="shiftId")
    plan = await ports.store.care_plans.get(shift.plan_id) if shift.plan_id else None
    if plan is None or all(t.id != task_id for t in plan.content.tasks):
        raise ValidationFailed("No such task in the plan this visit follows.", field="taskId")
    if outcome is not TaskOutcome.DONE and reason is None:
        raise ValidationFailed("Say why the task was refused or not done.", field="reason")
    now = ports.clock.now()
    timing = device_timing(device_at, fix_at, now)
    at = recorded_at(timing, now)
    entry = TaskLogEntry(entry_id, task_id, outcome, reason, note, at, actor.user_id, timing, key_hash)
    flag = f"{TASK_PREFIX}{entry_id}" if has_exception(timing=timing) else None
    updated = await ports.store.shifts.add_task_entry(shift.id, actor.user_id, entry, now=now, flag=flag)
    if updated is None or all(e.id != entry_id for e in updated.task_log):
        raise StateConflict("The visit has ended; ask your coordinator to add it.", field="shiftId")
    # A concurrent request under the same key may have appended first, with other values.
    check_same_request(next(e.key_hash for e in updated.task_log if e.id == entry_id), key_hash)
    if flag is not None:
        await flag_now(ports, shift.id)  # told once: the flag is due until told, whoever tells it
    if outcome is not TaskOutcome.DONE:
        await check_tasks_now(ports, shift.id)  # a critical task refused or not done raises its incident
    return updated


@audits("shift.add_note", "Shift", "shift_id")
async def add_progress_note(
    ports: Ports, actor: Principal, shift_id: str, *, text: str, idempotency_key: str | None = None
) -> Shift:
    """Adds a note to a visit in progress, or up to a day after check-out. A retry with the same
    idempotency key and text answers with the first note; the key with another text is refused."""
    shift = await _own_shift(ports, actor, shift_id)
    text = validation.text(text, "text", required=True)
    key_hash = payload_hash(shift.id, text)
    note_id = new_id()
    if idempotency_key:
        note_id = id_for_key(actor.agency_id, actor.user_id, "add_progress_note", idempotency_key)
        if (earlier := await ports.store.shifts.with_progress_note(note_id)) is not None:
            check_same_request(next(n.key_hash for n in earlier.progress_notes if n.id == note_id), key_hash)
            return earlier
    now = ports.clock.now()
    late = shift.check_out is not None and now - shift.check_out.at > NOTES_AFTER_CHECK_OUT
    if shift.status not in (ShiftStatus.IN_PROGRESS, ShiftStatus.COMPLETED) or late:
        raise StateConflict("Notes are written during the visit or within a day after it.", field="shiftId")
    updated = await ports.store.shifts.add_progress_note(
        shift.id,
        actor.user_id,
        ProgressNote(note_id, text, now, actor.user_id, key_hash),
        (ShiftStatus.IN_PROGRESS, ShiftStatus.COMPLETED),
    )
    if updated is None or all(n.id != note_id for n in updated.progress_notes):
        raise StateConflict("The shift changed meanwhile; reload it.", field="shiftId")
    check_same_request(next(n.key_hash for n in updated.progress_notes if n.id == note_id), key_hash)
    return updated


async def handover_for(ports: Ports, actor: Principal, shift: Shift) -> Shift | None:
    """The person's previous completed visit that left a handover note, for this shift's caregiver."""
    return (await handovers_for(ports, actor, [shift])).get(shift.id)


async def handovers_for(ports: Ports, actor: Principal, shifts: Sequence[Shift]) -> dict[str, Shift]:
    """`handover_for` for many shifts (a DataLoader batch), keyed by shift id: one audit write."""
    wanted = {s.id: (s.person_id, s.start) for s in shifts if can_see_visit_record(actor, s)}
    found = await ports.store.shifts.last_handovers(wanted.values())
    previous = {shift_id: found[key] for shift_id, key in wanted.items() if key in found}
    await record(ports, actor, "shift.read_handover", "Shift", sorted({p.id for p in previous.values()}))
    return previous
