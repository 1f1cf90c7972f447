"""Background checks of shifts (late, missed, critical tasks, visit exceptions, offers, announcements),
claimed with leases in the database (carecore.storage.leases).

Any number of instances may run `run_due_jobs` at once: each due check is claimed by one of them, a
crashed runner's claim lapses and another takes it over, and every effect (event, alert request) has
an id derived from the shift (and the booking), so even a check run twice has its effects once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from carecore.ports import Ports
from carecore.shifts.critical_tasks import run_task_checks
from carecore.shifts.models import Shift, ShiftStatus
from carecore.shifts.open_shifts import send_offers
from carecore.shifts.scheduling import announce_change
from carecore.shifts.support import publish_shift_event, request_shift_alert
from carecore.shifts.visit_flags import run_visit_flags
from carecore.vocabulary import AlertKind, Audience, Severity

CHECK_LEASE = timedelta(minutes=1)
WAITING_OR_MISSED = (ShiftStatus.SCHEDULED, ShiftStatus.OPEN, ShiftStatus.MISSED)


def _still_waiting(shift: Shift) -> bool:
    return shift.status in (ShiftStatus.SCHEDULED, ShiftStatus.OPEN) and shift.check_in is None


def _booking(shift: Shift) -> str:
    """What a late or missed visit is keyed by: a replacement caregiver who is late or absent too is news
    (their own event, alert and incident), a rerun of the check is not."""
    return shift.booking_token or "open"


async def _late(ports: Ports, shift: Shift, now: datetime) -> None:
    """10 minutes after the start without a check-in: flag it, publish `shift.late`, tell coordinators.

    A rerun after a crash finds `late_at` set and does the rest again: every effect is keyed by the
    booking, so it happens once. A shift the missed check got to first is still late."""
    if shift.check_in is not None or shift.status not in WAITING_OR_MISSED:
        return
    await ports.store.shifts.mark_late(shift.id, now)
    booking = _booking(shift)
    await publish_shift_event(ports, shift, "shift.late", booking, data={"booking": booking})
    kind = AlertKind.LATE_VISIT if shift.caregiver_id else AlertKind.COVERAGE_GAP
    await request_shift_alert(ports, shift, kind, Severity.HIGH, (Audience.COORDINATORS_ON_DUTY,), booking)


async def _missed(ports: Ports, shift: Shift, now: datetime) -> None:
    """30 minutes without a check-in: the shift is MISSED and `shift.missed` tells the incident module
    (the person may be alone). A caregiver who arrives later can still check in.

    A shift found MISSED already was marked by a run that died before publishing (a later booking
    would have made it SCHEDULED again and a check-in IN_PROGRESS): this run publishes."""
    if shift.status is not ShiftStatus.MISSED:
        if not _still_waiting(shift):
            return
        marked = await ports.store.shifts.mark_missed(shift.id, now)
        if marked is None:
            return  # checked in (or cancelled) just now
        shift = marked
    elif shift.check_in is not None:
        return
    booking = _booking(shift)
    await publish_shift_event(ports, shift, "shift.missed", booking, data={"booking": booking})


CHECKS = (("late_check_at", _late), ("missed_check_at", _missed))


async def _announce_due(ports: Ports, *, owner: str, limit: int) -> int:
    """Announces again the changes whose requests may have died before telling anyone (ANNOUNCE_AFTER)."""
    done = 0
    while done < limit:
        now = ports.clock.now()
        shift = await ports.store.shifts.claim_due_check("announce_due_at", now=now, owner=owner, lease=CHECK_LEASE)
        if shift is None:
            break
        await announce_change(ports, shift)
        await ports.store.shifts.finish_check_of(
            shift.id, "announce_due_at", owner=owner, revision=shift.revision, next_at=None, now=now
        )
        done += 1
    return done


async def run_due_jobs(ports: Ports, *, owner: str, now: datetime | None = None, limit: int = 500) -> int:
    """Runs the due late, missed and critical-task checks, the visit exceptions still to be told
    (carecore.shifts.visit_flags) and open-shift offers; returns how many it handled."""
    handled = 0
    for due_field, check in CHECKS:
        while handled < limit:
            at = now or ports.clock.now()
            shift = await ports.store.shifts.claim_due_check(due_field, now=at, owner=owner, lease=CHECK_LEASE)
            if shift is None:
                break
            await check(ports, shift, at)
            await ports.store.shifts.finish_check(shift.id, due_field, owner=owner)
            handled += 1
    handled += await run_task_checks(ports, owner=owner, limit=limit - handled)
    handled += await run_visit_flags(ports, owner=owner, limit=limit - handled)
    handled += await _announce_due(ports, owner=owner, limit=limit - handled)
    while handled < limit and await send_offers(ports, owner=owner) is not None:
        handled += 1
    return handled
