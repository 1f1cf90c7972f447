"""Late and missed visits: a lease-claimed background check, once each even with racing runners."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from carecore.alerts.models import AlertKind, Audience
from carecore.ids import id_for_key
from carecore.incidents.worker import IncidentWorker
from carecore.ports import Ports
from carecore.shifts import visits
from carecore.shifts.jobs import CHECK_LEASE, run_due_jobs
from carecore.shifts.models import Shift, ShiftStatus
from carecore.shifts.presence import caregivers_on_shift
from carecore.shifts.scheduling import assign_shift
from tests.shifts.conftest import Shifts


async def race(ports: Ports) -> None:
    await asyncio.gather(run_due_jobs(ports, owner="instance-a"), run_due_jobs(ports, owner="instance-b"))


async def kinds_of_events(ports: Ports, shifts: Shifts, shift: Shift) -> list[str]:
    events = await ports.store.events.since(shifts.local(0, 0))
    return [e.kind for e in events if e.subject_id == shift.id and e.kind in ("shift.late", "shift.missed")]


async def test_late_at_ten_minutes_and_missed_at_thirty_each_exactly_once_with_two_runners(
    shifts: Shifts, ports: Ports
) -> None:
    caregiver = shifts.world.caregiver_on_team
    shift = await shifts.schedule(caregiver, shifts.local(1, 9), shifts.local(1, 13))

    shifts.set_clock(1, 9, 9)
    await race(ports)
    assert await kinds_of_events(ports, shifts, shift) == []

    shifts.set_clock(1, 9, 10)
    await race(ports)
    await race(ports)
    late = await ports.store.shifts.get(shift.id)
    assert late is not None and late.late_at == shifts.local(1, 9, 10) and late.status is ShiftStatus.SCHEDULED
    assert await kinds_of_events(ports, shifts, shift) == ["shift.late"]
    alerts = await ports.store.alert_requests.for_subject(shift.id)
    late_alerts = [a for a in alerts if a.kind is AlertKind.LATE_VISIT]
    assert len(late_alerts) == 1 and late_alerts[0].audiences == (Audience.COORDINATORS_ON_DUTY,)

    shifts.set_clock(1, 9, 30)
    await race(ports)
    await race(ports)
    missed = await ports.store.shifts.get(shift.id)
    assert missed is not None and missed.status is ShiftStatus.MISSED
    assert await kinds_of_events(ports, shifts, shift) == ["shift.late", "shift.missed"]
    event = next(e for e in await ports.store.events.since(shifts.local(0, 0)) if e.kind == "shift.missed")
    # Keyed by the booking the shift confirms, not the shift alone: a replacement's miss is news (failure 4).
    booking = missed.booking_token
    assert booking is not None
    assert event.id == id_for_key("shift.missed", shift.id, booking) and event.person_id == shifts.world.minji.id
    assert event.data == {"caregiver_id": caregiver.id, "start": shift.start.isoformat(), "booking": booking}


async def test_a_caregiver_who_checked_in_is_neither_late_nor_missed(shifts: Shifts, ports: Ports) -> None:
    caregiver = shifts.world.caregiver_on_team
    shift = await shifts.schedule(caregiver, shifts.local(1, 9), shifts.local(1, 13))
    shifts.set_clock(1, 9, 5)
    await visits.check_in(ports, caregiver.principal(), shift.id, location=None)

    shifts.set_clock(1, 9, 45)
    await race(ports)

    assert await kinds_of_events(ports, shifts, shift) == []
    assert await caregivers_on_shift(ports, shifts.world.minji.id, shifts.clock.now()) == [caregiver.id]
    assert await caregivers_on_shift(ports, shifts.world.jiho.id, shifts.clock.now()) == []


async def test_an_open_shift_nobody_took_raises_a_coverage_gap_alert(shifts: Shifts, ports: Ports) -> None:
    shift = await shifts.schedule(None, shifts.local(1, 9), shifts.local(1, 13))

    shifts.set_clock(1, 9, 10)
    await race(ports)

    alerts = await ports.store.alert_requests.for_subject(shift.id)
    assert [a.kind for a in alerts if a.kind is not AlertKind.OPEN_SHIFT_OFFER] == [AlertKind.COVERAGE_GAP]


async def test_a_check_a_crashed_runner_claimed_is_taken_over_when_its_lease_lapses(
    shifts: Shifts, ports: Ports
) -> None:
    shift = await shifts.schedule(shifts.world.caregiver_on_team, shifts.local(1, 9), shifts.local(1, 13))
    shifts.set_clock(1, 9, 10)
    claimed = await ports.store.shifts.claim_due_check(
        "late_check_at", now=shifts.clock.now(), owner="crashed", lease=CHECK_LEASE
    )
    assert claimed is not None

    await run_due_jobs(ports, owner="survivor")
    assert await kinds_of_events(ports, shifts, shift) == []
    shifts.clock.advance(CHECK_LEASE + timedelta(seconds=1))
    await run_due_jobs(ports, owner="survivor")

    assert await kinds_of_events(ports, shifts, shift) == ["shift.late"]


async def test_a_caregiver_arriving_after_the_shift_was_missed_can_still_check_in(shifts: Shifts, ports: Ports) -> None:
    caregiver = shifts.world.caregiver_on_team
    shift = await shifts.schedule(caregiver, shifts.local(1, 9), shifts.local(1, 13))
    shifts.set_clock(1, 9, 31)
    await run_due_jobs(ports, owner="a")

    started = await visits.check_in(ports, caregiver.principal(), shift.id, location=None)

    assert started.status is ShiftStatus.IN_PROGRESS


async def missed_visit_incidents(ports: Ports, shift: Shift) -> list[str]:
    docs = await ports.store.db["incidents"].find({"related_shift_id": shift.id, "type": "MISSED_VISIT"}).to_list()
    return [d["_id"] for d in docs]


async def test_a_replacement_caregiver_who_misses_the_shift_too_opens_a_second_incident(
    shifts: Shifts, ports: Ports
) -> None:
    """Failure 4: the event and the incident were keyed by the shift, so the second miss vanished."""
    shift = await shifts.schedule(shifts.world.caregiver_on_team, shifts.local(1, 9), shifts.local(1, 13))
    for minute in (10, 30):
        shifts.set_clock(1, 9, minute)
        await race(ports)
    await IncidentWorker(ports).run_once()
    [first] = await missed_visit_incidents(ports, shift)

    shifts.set_clock(1, 9, 32)
    replacement = shifts.world.caregiver_off_team
    await assign_shift(ports, shifts.coordinator, shift.id, caregiver_id=replacement.id, reason="대체 인력")
    shifts.set_clock(1, 9, 42)
    await race(ports)
    shifts.set_clock(1, 10, 2)
    await race(ports)
    await asyncio.gather(IncidentWorker(ports).run_once(), IncidentWorker(ports).run_once())

    incidents = await missed_visit_incidents(ports, shift)
    assert len(incidents) == 2 and first in incidents
    assert await kinds_of_events(ports, shifts, shift) == ["shift.late", "shift.missed", "shift.late", "shift.missed"]
    late_alerts = [a for a in await ports.store.alert_requests.for_subject(shift.id) if a.kind is AlertKind.LATE_VISIT]
    assert len(late_alerts) == 2


class Died(BaseException):
    """The process died (not an Exception: no handler in the code under test sees it)."""


async def test_a_crash_after_marking_the_shift_missed_still_opens_its_incident(
    shifts: Shifts, ports: Ports, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Failure 3: the rerun saw MISSED and returned, so `shift.missed` was never published."""
    shift = await shifts.schedule(shifts.world.caregiver_on_team, shifts.local(1, 9), shifts.local(1, 13))
    shifts.set_clock(1, 9, 10)
    await run_due_jobs(ports, owner="a")
    shifts.set_clock(1, 9, 30)

    async def dies(*_: object) -> None:
        raise Died

    with monkeypatch.context() as patched:
        patched.setattr(ports.store.events, "append", dies)
        with pytest.raises(Died):
            await run_due_jobs(ports, owner="dying")
    stored = await ports.store.shifts.get(shift.id)
    assert stored is not None and stored.status is ShiftStatus.MISSED

    shifts.clock.advance(CHECK_LEASE + timedelta(seconds=1))
    await run_due_jobs(ports, owner="survivor")
    await IncidentWorker(ports).run_once()

    assert len(await missed_visit_incidents(ports, shift)) == 1
