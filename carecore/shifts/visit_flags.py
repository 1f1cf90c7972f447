"""A visit record's exceptions, told to coordinators: a check-in or check-out outside the geofence (or
without a location) and a phone time that disagrees (a late submission, a skewed clock).

Crash safety: the check-in, check-out or task-log update that records an exception also names it in
the shift's `visit_flags` and sets `visit_flags_at` (its due time), in the same single-document
update. The request then publishes at once (`flag_now`); if its process dies first, the lease-claimed
`run_visit_flags` (carecore.shifts.jobs, every instance) does. Events and alert requests take ids
derived from (shift, check, kind), so a rerun sends nothing twice, and the due mark is cleared only
after they are stored: a crash anywhere leaves it due (docs/safety.md, I11).
"""

from __future__ import annotations

from datetime import timedelta

from carecore.ports import Ports
from carecore.shifts.models import DeviceTiming, Shift, VisitCheck
from carecore.shifts.support import EventValue, publish_shift_event, request_shift_alert
from carecore.vocabulary import AlertKind, Audience, Severity

FLAGS_LEASE = timedelta(minutes=1)
TASK_PREFIX = "task:"


def has_exception(check: VisitCheck | None = None, timing: DeviceTiming | None = None) -> bool:
    """Whether a record needs telling: what the write names in `visit_flags`."""
    if check is not None and (check.outside_geofence or _timing_exception(check.timing)):
        return True
    return _timing_exception(timing)


def _timing_exception(timing: DeviceTiming | None) -> bool:
    return timing is not None and (timing.late_submission or timing.clock_skew)


async def flag_timing(ports: Ports, shift: Shift, timing: DeviceTiming | None, which: str) -> None:
    """Accepted, but marked on the record (`timing`) and published: a late submission or a phone clock
    that disagrees with the GPS fix's. A skewed clock also alerts the coordinators on duty, as a geofence
    exception does (a late submission alone is the ordinary offline case: marked, not alerted)."""
    if timing is None or not _timing_exception(timing):
        return
    data: dict[str, EventValue] = {
        "which": which,
        "late_submission": timing.late_submission,
        "clock_skew": timing.clock_skew,
        "delay_s": round((timing.received_at - timing.device_at).total_seconds()),
    }
    await publish_shift_event(ports, shift, "shift.visit_time_exception", which, data=data)
    if timing.clock_skew:
        coordinators = (Audience.COORDINATORS_ON_DUTY,)
        await request_shift_alert(ports, shift, AlertKind.VISIT_CLOCK_SKEW, Severity.MEDIUM, coordinators, which)


async def flag_geofence(ports: Ports, shift: Shift, check: VisitCheck, which: str) -> None:
    """Accepted, but coordinators see it: an event (the incident module may open a SYSTEM incident)
    and an alert to the coordinators on duty."""
    if not check.outside_geofence:
        return
    data = {"which": which, "distance_m": check.distance_m, "no_location": check.location is None}
    await publish_shift_event(ports, shift, "shift.geofence_exception", which, data=data)
    coordinators = (Audience.COORDINATORS_ON_DUTY,)
    await request_shift_alert(ports, shift, AlertKind.GEOFENCE_EXCEPTION, Severity.MEDIUM, coordinators, which)


async def _publish(ports: Ports, shift: Shift, which: str) -> None:
    """Publishes what the record named `which` says (the stored record, not the request's copy)."""
    if which in ("check_in", "check_out"):
        check = shift.check_in if which == "check_in" else shift.check_out
        if check is not None:
            await flag_geofence(ports, shift, check, which)
            await flag_timing(ports, shift, check.timing, which)
        return
    entry_id = which.removeprefix(TASK_PREFIX)
    for entry in shift.task_log:
        if entry.id == entry_id:
            await flag_timing(ports, shift, entry.timing, which)


async def run_visit_flags(ports: Ports, *, owner: str, limit: int = 500, shift_id: str | None = None) -> int:
    """Publishes the due visit exceptions (or the given shift's, if due); returns how many shifts it did."""
    ran = 0
    shifts = ports.store.shifts
    while ran < limit:
        now = ports.clock.now()
        claimed = await shifts.claim_visit_flags(now=now, owner=owner, lease=FLAGS_LEASE, shift_id=shift_id)
        if claimed is None:
            break
        shift, due = claimed
        for which in due:
            await _publish(ports, shift, which)
        await shifts.finish_visit_flags(shift.id, due, owner=owner, now=now)
        ran += 1
        if shift_id is not None:
            break
    return ran


async def flag_now(ports: Ports, shift_id: str) -> None:
    """The request's fast path after a write that named an exception; the job retries what this misses."""
    await run_visit_flags(ports, owner=f"request:{shift_id}", shift_id=shift_id)
