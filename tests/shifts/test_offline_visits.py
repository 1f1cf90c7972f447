"""Offline visits: a phone's own times for check-in, check-out and task logs, up to a day late (issue 13)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from carecore.alerts.models import AlertKind, Audience
from carecore.errors import StateConflict, ValidationFailed
from carecore.ports import Ports
from carecore.shifts import visits
from carecore.shifts.models import Shift, ShiftStatus, TaskOutcome
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
