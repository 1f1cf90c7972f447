"""Critical tasks of the plan in force during a visit: each occurrence missed, refused or not done is
published once as `shift.critical_task_missed` (the incident module opens its incident: I3).

An occurrence counts as missed when nothing is logged for it `GRACE` after its due time while the
visit runs, and at once when the visit ends. 30 minutes is the window within which time-critical
medicines (anticonvulsants among them) must be given (ISMP's rule for timely administration: 30
minutes either side of the scheduled time); it is also how long a visit may go without a check-in
before it counts as missed. A log entry counts for the latest occurrence due up to `EARLY` after it,
so a dose logged a little early or late counts for its own occurrence and never for the next one.

Crash safety: the shift's `task_check_at` is the due time of a lease-claimed check (carecore.shifts.jobs).
Check-in sets it to now (the check works out the first due time), and so do check-out and a refused or
not-done entry, in the same update that records them; the request then runs the check itself at once.
The check publishes under ids derived from (shift, task, occurrence), then moves `task_check_at` to
the next occurrence's grace or clears it. A crash anywhere leaves the check due, so a rerun publishes
what is missing and nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from carecore.agencies.service import get_agency
from carecore.care_plans.models import SupportTask
from carecore.care_plans.schedule import occurrences
from carecore.ports import Ports
from carecore.shifts.models import Shift, ShiftStatus, TaskLogEntry, TaskOutcome
from carecore.shifts.support import publish_shift_event, zone

CRITICAL_TASK_MISSED = "shift.critical_task_missed"
GRACE = timedelta(minutes=30)
EARLY = timedelta(minutes=30)
CHECK_LEASE = timedelta(minutes=1)
MISSED = "MISSED"  # the outcome of an occurrence nothing was logged for


@dataclass(frozen=True, slots=True)
class Occurrence:
    task: SupportTask
    due: datetime
    entries: tuple[TaskLogEntry, ...]  # what was logged for it, oldest first

    @property
    def failed(self) -> TaskOutcome | None:
        """REFUSED or NOT_DONE when an entry says so: the first such entry decides."""
        return next((e.outcome for e in self.entries if e.outcome is not TaskOutcome.DONE), None)


def _owner_index(dues: Sequence[datetime], at: datetime) -> int:
    """The occurrence an entry logged at `at` counts for: the latest one due by `at` + EARLY (less when
    occurrences are close together: never more than half-way to the previous one); else the first."""
    found = 0
    for i, due in enumerate(dues):
        early = EARLY if i == 0 else min(EARLY, (due - dues[i - 1]) / 2)
        if due - early <= at:
            found = i
    return found


def critical_occurrences(tasks: Sequence[SupportTask], shift: Shift, tz: ZoneInfo) -> list[Occurrence]:
    """Every occurrence of a critical task in the shift, with the entries that count for it."""
    found: list[Occurrence] = []
    for task in tasks:
        if not task.critical:
            continue
        dues = occurrences(task.schedule, shift.start, shift.end, tz)
        if not dues:
            continue
        logged: list[list[TaskLogEntry]] = [[] for _ in dues]
        for entry in sorted((e for e in shift.task_log if e.task_id == task.id), key=lambda e: e.at):
            logged[_owner_index(dues, entry.at)].append(entry)
        found.extend(Occurrence(task, due, tuple(entries)) for due, entries in zip(dues, logged, strict=True))
    return found


def to_report(found: Sequence[Occurrence], *, ended: bool, now: datetime) -> list[tuple[Occurrence, str]]:
    """The occurrences that raise an incident now, with why: refused, not done, or missed."""
    report: list[tuple[Occurrence, str]] = []
    for occurrence in found:
        if (failed := occurrence.failed) is not None:
            report.append((occurrence, failed.value))
        elif not occurrence.entries and (ended or occurrence.due + GRACE <= now):
            report.append((occurrence, MISSED))
    return report


def next_check(found: Sequence[Occurrence], *, ended: bool, now: datetime) -> datetime | None:
    """When the next unlogged occurrence runs out of grace; None once the visit is over."""
    pending = [o.due + GRACE for o in found if not o.entries and o.due + GRACE > now]
    return None if ended or not pending else min(pending)


async def tasks_of(ports: Ports, shift: Shift) -> tuple[tuple[SupportTask, ...], ZoneInfo]:
    """The tasks of the plan version the visit follows, and the agency's time zone."""
    plan = await ports.store.care_plans.get(shift.plan_id) if shift.plan_id else None
    tz = zone(await get_agency(ports, shift.agency_id))
    return (plan.content.tasks if plan else ()), tz


async def check_critical_tasks(ports: Ports, shift: Shift, now: datetime) -> datetime | None:
    """Publishes each occurrence to report (idempotently); returns when to look again."""
    if shift.status not in (ShiftStatus.IN_PROGRESS, ShiftStatus.COMPLETED):
        return None
    tasks, tz = await tasks_of(ports, shift)
    found = critical_occurrences(tasks, shift, tz)
    ended = shift.status is ShiftStatus.COMPLETED
    for occurrence, outcome in to_report(found, ended=ended, now=now):
        due = occurrence.due.isoformat()
        data = {"plan_id": shift.plan_id, "task_id": occurrence.task.id, "due_at": due, "outcome": outcome}
        await publish_shift_event(ports, shift, CRITICAL_TASK_MISSED, occurrence.task.id, due, data=data)
    return next_check(found, ended=ended, now=now)


async def run_task_checks(ports: Ports, *, owner: str, limit: int = 500, shift_id: str | None = None) -> int:
    """Runs the due critical-task checks (or the given shift's, if due); returns how many it ran."""
    ran = 0
    while ran < limit:
        now = ports.clock.now()
        shifts = ports.store.shifts
        if shift_id is None:
            shift = await shifts.claim_due_check("task_check_at", now=now, owner=owner, lease=CHECK_LEASE)
        else:
            shift = await shifts.claim_check_of(shift_id, "task_check_at", now=now, owner=owner, lease=CHECK_LEASE)
        if shift is None:
            break
        following = await check_critical_tasks(ports, shift, now)
        await shifts.finish_check_of(
            shift.id, "task_check_at", owner=owner, revision=shift.revision, next_at=following, now=now
        )
        ran += 1
        if shift_id is not None:
            break
    return ran


async def check_tasks_now(ports: Ports, shift_id: str) -> None:
    """Runs a shift's check at once after what made it due; the background job retries what this misses."""
    await run_task_checks(ports, owner=f"request:{shift_id}", shift_id=shift_id)
