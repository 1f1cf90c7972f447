"""Background checks of shifts, claimed with leases in the database (carecore.storage.leases).

Any number of instances may run `run_due_jobs` at once: each due check is claimed by one of them, a
crashed runner's claim lapses and another takes it over, and every effect (event, alert request) has
an id derived from the shift, so even a check run twice has its effects once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from carecore.alerts.models import AlertKind, Audience
from carecore.incidents.models import Severity
from carecore.ports import Ports
from carecore.shifts.models import Shift, ShiftStatus
from carecore.shifts.open_shifts import send_offers
from carecore.shifts.support import publish_shift_event, request_shift_alert

CHECK_LEASE = timedelta(minutes=1)


def _still_waiting(shift: Shift) -> bool:
    return shift.status in (ShiftStatus.SCHEDULED, ShiftStatus.OPEN) and shift.check_in is None


async def _late(ports: Ports, shift: Shift, now: datetime) -> None:
    """10 minutes after the start without a check-in: flag it, publish `shift.late`, tell coordinators."""
    if not _still_waiting(shift):
        return
    await ports.store.shifts.mark_late(shift.id, now)
    await publish_shift_event(ports, shift, "shift.late")
    kind = AlertKind.LATE_VISIT if shift.caregiver_id else AlertKind.COVERAGE_GAP
    # Keyed by the booking: a replacement caregiver who is late too is news, a rerun of this check is not.
    key = shift.booking_token or "open"
    await request_shift_alert(ports, shift, kind, Severity.HIGH, (Audience.COORDINATORS_ON_DUTY,), key)


async def _missed(ports: Ports, shift: Shift, now: datetime) -> None:
    """30 minutes without a check-in: the shift is MISSED and `shift.missed` tells the incident module
    (the person may be alone). A caregiver who arrives later can still check in."""
    if not _still_waiting(shift):
        return
    await ports.store.shifts.mark_missed(shift.id, now)
    await publish_shift_event(ports, shift, "shift.missed")


CHECKS = (("late_check_at", _late), ("missed_check_at", _missed))


async def run_due_jobs(ports: Ports, *, owner: str, now: datetime | None = None, limit: int = 500) -> int:
    """Runs the due late and missed checks and open-shift offers; returns how many it handled."""
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
    while handled < limit and await send_offers(ports, owner=owner) is not None:
        handled += 1
    return handled
