"""Offline visits: a phone's own times for check-in, check-out and task logs, up to a day late (issue 13)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from carecore.alerts.models import AlertKind, Audience
from carecore.errors import StateConflict, ValidationFailed
from carecore.ids import id_for_key
from carecore.ports import Ports
from carecore.shifts import visits
from carecore.shifts.jobs import run_due_jobs
from carecore.shifts.models import Shift, ShiftStatus, TaskOutcome, VisitCheck
from carecore.shifts.rules import device_timing
from tests.shifts.conftest import Shifts
from tests.shifts.test_visits import AT_HOME, morning, plan_task

__all__ = ["morning"]  # the fixture, shared with the online visit's tests


async def test_a_visit_sent_hours_later_counts_at_the_phones_times_and_is_marked_late(
    shifts: Shifts, ports: Ports, morning: Shift
) -> None:
    me = shifts.world.caregiver_on_team.principal()
    shifts.set_clock(1, 18)  # back in signal range long after the 07:00-10:00 visit

    started = await visits.check_in(
        ports, me, morning.id, location=AT_HOME, device_at=shifts.local(1, 6, 58), fix_at=shifts.local(1, 6, 57)
    )
    task = await plan_task(ports, started)
    logged = await visits.log_task(
        ports, me, morning.id, task_id=task, outcome=TaskOutcome.DONE, device_at=shifts.local(1, 8, 2)
    )
    ended = await visits.check_out(ports, me, morning.id, location=AT_HOME, device_at=shifts.local(1, 10, 1))

    assert ended.status is ShiftStatus.COMPLETED
    assert ended.check_in is not None and ended.check_out is not None
    assert ended.check_in.at == shifts.local(1, 6, 58) and ended.check_out.at == shifts.local(1, 10, 1)
    assert logged.task_log[0].at == shifts.local(1, 8, 2)
    for timing in (ended.check_in.timing, ended.check_out.timing, ended.task_log[0].timing):
        assert timing is not None and timing.late_submission and not timing.clock_skew
        assert timing.received_at == shifts.local(1, 18)
    assert ended.updated_at == shifts.local(1, 18)  # a delta sync still sees the change when it arrived
    events = await ports.store.events.since(shifts.local(0, 0), kinds=["shift.visit_time_exception"])
    assert len(events) == 3 and {e.data["late_submission"] for e in events} == {True}
    alerts = await ports.store.alert_requests.for_subject(morning.id)
    assert not [a for a in alerts if a.kind is AlertKind.VISIT_CLOCK_SKEW]  # late, but the clock was right


async def test_a_visit_more_than_a_day_old_is_refused_and_nothing_is_written(
    shifts: Shifts, ports: Ports, morning: Shift
) -> None:
    shifts.set_clock(2, 7, 1)

    with pytest.raises(ValidationFailed) as refused:
        await visits.check_in(
            ports,
            shifts.world.caregiver_on_team.principal(),
            morning.id,
            location=AT_HOME,
            device_at=shifts.local(1, 7),
        )

    assert refused.value.field == "deviceTime"
    assert (await ports.store.shifts.get(morning.id)) == morning


async def test_a_phone_clock_five_minutes_off_the_gps_fix_is_marked_as_skewed(
    shifts: Shifts, ports: Ports, morning: Shift
) -> None:
    shifts.set_clock(1, 7, 0)

    started = await visits.check_in(
        ports,
        shifts.world.caregiver_on_team.principal(),
        morning.id,
        location=AT_HOME,
        device_at=shifts.local(1, 6, 50),  # the phone runs ten minutes slow
        fix_at=shifts.local(1, 7, 0),
    )

    assert started.check_in is not None and started.check_in.timing is not None
    assert started.check_in.timing.clock_skew and started.check_in.timing.late_submission
    events = await ports.store.events.since(shifts.local(0, 0), kinds=["shift.visit_time_exception"])
    assert [e.data["clock_skew"] for e in events] == [True]
    alerts = await ports.store.alert_requests.for_subject(morning.id)
    assert [a.audiences for a in alerts if a.kind is AlertKind.VISIT_CLOCK_SKEW] == [(Audience.COORDINATORS_ON_DUTY,)]


async def test_a_phone_clock_ahead_of_the_servers_never_dates_a_visit_in_the_future(
    shifts: Shifts, ports: Ports, morning: Shift
) -> None:
    shifts.set_clock(1, 7, 0)

    started = await visits.check_in(
        ports, shifts.world.caregiver_on_team.principal(), morning.id, location=AT_HOME, device_at=shifts.local(1, 8)
    )

    assert started.check_in is not None and started.check_in.at == shifts.local(1, 7)
    assert started.check_in.timing is not None and started.check_in.timing.clock_skew


async def test_a_check_in_and_out_seconds_apart_before_the_start_does_not_complete_the_shift(
    shifts: Shifts, ports: Ports, morning: Shift
) -> None:
    me = shifts.world.caregiver_on_team.principal()
    shifts.set_clock(1, 6, 50)
    await visits.check_in(ports, me, morning.id, location=AT_HOME)
    shifts.clock.advance(timedelta(seconds=5))

    with pytest.raises(StateConflict):
        await visits.check_out(ports, me, morning.id, location=AT_HOME, reason="nothing to do")
    with pytest.raises(StateConflict):  # nor by a phone that claims it was earlier still
        await visits.check_out(ports, me, morning.id, location=AT_HOME, reason="x", device_at=shifts.local(1, 6, 51))

    stored = await ports.store.shifts.get(morning.id)
    assert stored is not None and stored.status is ShiftStatus.IN_PROGRESS and stored.check_out is None


def skewed_check(shifts: Shifts) -> VisitCheck:
    """A check-in at home from a phone ten minutes behind its GPS fix, as `visits.check_in` records it."""
    now = shifts.clock.now()
    timing = device_timing(shifts.local(1, 6, 50), shifts.local(1, 7), now)
    assert timing is not None and timing.clock_skew
    return VisitCheck(now, AT_HOME, 0.0, False, timing)


async def skew_alerts(ports: Ports, shift: Shift) -> list[str]:
    return [
        a.id for a in await ports.store.alert_requests.for_subject(shift.id) if a.kind is AlertKind.VISIT_CLOCK_SKEW
    ]


async def test_a_skewed_check_in_whose_request_died_after_its_write_is_told_once_by_the_shift_jobs(
    shifts: Shifts, ports: Ports, morning: Shift
) -> None:
    """The record names its exception in its own write; two racing instances tell it once, and a rerun
    tells nothing more (the app's retry is refused: it checked in already)."""
    shifts.set_clock(1, 7)
    me = shifts.world.caregiver_on_team
    check = skewed_check(shifts)
    await ports.store.shifts.check_in(morning.id, me.id, check, None, shifts.clock.now(), flag="check_in")

    await asyncio.gather(run_due_jobs(ports, owner="instance-a"), run_due_jobs(ports, owner="instance-b"))
    await run_due_jobs(ports, owner="instance-a")

    assert len(await skew_alerts(ports, morning)) == 1
    events = await ports.store.events.since(shifts.local(0, 0), kinds=["shift.visit_time_exception"])
    assert [e.data["which"] for e in events] == ["check_in"]


async def test_an_entry_named_while_a_job_holds_the_shift_is_told_by_the_next_pass(
    shifts: Shifts, ports: Ports, morning: Shift
) -> None:
    """A job finishing what it claimed clears only that: a record named meanwhile stays due."""
    shifts.set_clock(1, 7)
    me = shifts.world.caregiver_on_team
    now, plan_id = shifts.clock.now(), shifts.world.minji.active_care_plan_id
    await ports.store.shifts.check_in(morning.id, me.id, skewed_check(shifts), plan_id, now, flag="check_in")
    claimed = await ports.store.shifts.claim_visit_flags(now=now, owner="slow", lease=timedelta(minutes=1))
    assert claimed is not None and claimed[1] == ("check_in",)

    # The entry's own request cannot tell it (the slow job holds the shift); the job then finishes.
    started, at, fix = claimed[0], shifts.local(1, 6, 50), shifts.local(1, 7)  # ten minutes slow
    task = await plan_task(ports, started)
    done = TaskOutcome.DONE
    await visits.log_task(ports, me.principal(), morning.id, task_id=task, outcome=done, device_at=at, fix_at=fix)
    assert await skew_alerts(ports, morning) == []
    await ports.store.shifts.finish_visit_flags(morning.id, claimed[1], owner="slow", now=now)

    await run_due_jobs(ports, owner="instance-a")

    logged = await ports.store.shifts.get(morning.id)
    assert logged is not None
    which = f"task:{logged.task_log[0].id}"
    assert await skew_alerts(ports, morning) == [
        id_for_key("alert", AlertKind.VISIT_CLOCK_SKEW.value, morning.id, which)
    ]
