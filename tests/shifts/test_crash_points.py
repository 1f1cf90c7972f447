"""The shift flows killed before each of their writes, recovered as production recovers (the background
jobs of carecore/background.py, then the client's documented retry where a request died), and the
invariants checked: I2 (every missed booking opens exactly one incident, every late booking alerts
once), I3 (every critical task occurrence missed, refused or not done raises exactly one incident),
a shift left by a dead create, open, cancel or assign is offered, placed and announced once, and I11
(every exception of a visit record, geofence or phone time, is told once: alert and event)."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import timedelta

from carecore.alerts.models import AlertKind, AlertRequest
from carecore.errors import StateConflict
from carecore.incidents.models import IncidentType
from carecore.ports import Ports
from carecore.shifts import visits
from carecore.shifts.jobs import run_due_jobs
from carecore.shifts.models import Shift, ShiftStatus, TaskOutcome
from carecore.shifts.open_shifts import open_shift
from carecore.shifts.scheduling import ShiftPlan, assign_shift, cancel_shift, schedule_shift
from carecore.users.models import User
from tests.conftest import World, build_world
from tests.crashes import CrashPoints, CrashRun, recover
from tests.shifts.conftest import Shifts
from tests.shifts.test_critical_tasks import put_plan_with_protocols
from tests.shifts.test_visits import ACROSS_TOWN, AT_HOME, HOME, plan_task


async def incidents(ports: Ports, shift_id: str, incident_type: IncidentType) -> list[str]:
    query = {"related_shift_id": shift_id, "type": incident_type.value}
    return [d["_id"] for d in await ports.store.db["incidents"].find(query).to_list()]


async def alerts(ports: Ports, shift_id: str, kind: AlertKind) -> list[AlertRequest]:
    return [a for a in await ports.store.alert_requests.for_subject(shift_id) if a.kind is kind]


async def confirmed_bookings(ports: Ports, caregiver: User, shift: Shift) -> int:
    """Bookings of the caregiver's schedule that the shift confirms (others are garbage, allowed)."""
    schedule = await ports.store.caregiver_schedules.get(caregiver.id)
    return sum(
        1
        for b in schedule.bookings
        if b.shift_id == shift.id and shift.caregiver_id == caregiver.id and shift.booking_token == b.token
    )


async def begin(run: CrashRun) -> tuple[World, Shifts]:
    world = await build_world(run.store, run.clock)
    return world, Shifts(run.ports, world, run.clock)


async def shift_of(ports: Ports, shift_id: str) -> Shift:
    found = await ports.store.shifts.get(shift_id)
    assert found is not None
    return found


# --- I2: late and missed checks ----------------------------------------------------------------------


async def test_the_late_and_missed_checks_killed_at_any_write_alert_once_and_open_one_incident(
    crash_points: CrashPoints,
) -> None:
    async for run in crash_points():
        world, shifts = await begin(run)
        shift = await shifts.schedule(world.caregiver_on_team, shifts.local(1, 9), shifts.local(1, 13))
        shifts.set_clock(1, 9, 30)
        async with run.armed():
            await run_due_jobs(run.ports, owner="dying")
        await recover(run)

        assert (await shift_of(run.ports, shift.id)).status is ShiftStatus.MISSED, run.writes
        assert len(await incidents(run.ports, shift.id, IncidentType.MISSED_VISIT)) == 1, run.writes
        assert len(await alerts(run.ports, shift.id, AlertKind.LATE_VISIT)) == 1, run.writes


# --- I3: critical tasks ------------------------------------------------------------------------------


async def visit_with_turns_logged(run: CrashRun) -> tuple[World, Shifts, Shift, str]:
    """Minji 07:00-10:00 checked in, every turn logged; the 08:00 anticonvulsant is not."""
    world, shifts = await begin(run)
    medicine, turning = await put_plan_with_protocols(run.store, world)
    me = world.caregiver_on_team.principal()
    shift = await shifts.schedule(world.caregiver_on_team, shifts.local(1, 7), shifts.local(1, 10))
    shifts.set_clock(1, 6, 55)
    await visits.check_in(run.ports, me, shift.id, location=None)
    for hour in (7, 8, 9):
        shifts.set_clock(1, hour, 5)
        await visits.log_task(run.ports, me, shift.id, task_id=turning, outcome=TaskOutcome.DONE)
    return world, shifts, shift, medicine


async def test_a_refusal_logged_when_the_process_dies_raises_one_incident(crash_points: CrashPoints) -> None:
    async for run in crash_points():
        world, shifts, shift, medicine = await visit_with_turns_logged(run)
        me = world.caregiver_on_team.principal()
        shifts.set_clock(1, 8, 10)

        refused, why = TaskOutcome.REFUSED, "삼키기를 거부"
        async with run.armed():
            await visits.log_task(
                run.ports, me, shift.id, task_id=medicine, outcome=refused, reason=why, idempotency_key="k"
            )
        await recover(run)
        # The app retries a request that got no answer.
        await visits.log_task(
            run.ports, me, shift.id, task_id=medicine, outcome=refused, reason=why, idempotency_key="k"
        )
        await recover(run)

        assert len(await incidents(run.ports, shift.id, IncidentType.MEDICATION)) == 1, run.writes


async def test_a_check_out_without_the_medicine_killed_at_any_write_raises_one_incident(
    crash_points: CrashPoints,
) -> None:
    async for run in crash_points():
        world, shifts, shift, _ = await visit_with_turns_logged(run)
        me = world.caregiver_on_team.principal()
        shifts.set_clock(1, 9, 50)

        async with run.armed():
            await visits.check_out(run.ports, me, shift.id, location=None, reason="약이 없음")
        await recover(run)
        if (await shift_of(run.ports, shift.id)).status is ShiftStatus.IN_PROGRESS:
            # The app retries a request that got no answer.
            await visits.check_out(run.ports, me, shift.id, location=None, reason="약이 없음")
            await recover(run)

        assert len(await incidents(run.ports, shift.id, IncidentType.MEDICATION)) == 1, run.writes
        assert await incidents(run.ports, shift.id, IncidentType.OTHER) == [], run.writes


async def test_the_overdue_check_killed_at_any_write_raises_one_incident(crash_points: CrashPoints) -> None:
    async for run in crash_points():
        _, shifts, shift, _ = await visit_with_turns_logged(run)
        shifts.set_clock(1, 9, 6)  # the 08:00 medicine ran out of grace at 08:30; no check has run since

        async with run.armed():
            await run_due_jobs(run.ports, owner="dying")
        await recover(run)

        assert len(await incidents(run.ports, shift.id, IncidentType.MEDICATION)) == 1, run.writes


# --- create, open, cancel, assign ----------------------------------------------------------------------
# The jobs alone must finish a change whose write went through; the console's retry then repeats nothing.


async def told(ports: Ports, shift_id: str) -> list[set[str]]:
    return [set(a.user_ids) for a in await alerts(ports, shift_id, AlertKind.SHIFT_CHANGE)]


async def test_a_shift_created_with_a_caregiver_is_offered_if_the_process_dies_and_placed_on_retry(
    crash_points: CrashPoints,
) -> None:
    """Failure 9: the dead create left an OPEN shift never offered, and the retry answered success."""
    async for run in crash_points():
        world, shifts = await begin(run)
        caregiver = world.caregiver_on_team
        plan = ShiftPlan(world.minji.id, shifts.local(1, 9), shifts.local(1, 13), caregiver.id)
        coordinator = world.coordinator.principal()
        async with run.armed():
            await schedule_shift(run.ports, coordinator, plan, idempotency_key="k")
        await recover(run)
        left = await run.store.db["shifts"].find_one({})
        if left is not None and left["status"] == ShiftStatus.OPEN.value:  # nobody left uncovered unseen
            assert len(await alerts(run.ports, left["_id"], AlertKind.OPEN_SHIFT_OFFER)) == 1, run.writes
        if left is not None and left["status"] == ShiftStatus.SCHEDULED.value:
            assert await told(run.ports, left["_id"]) == [{caregiver.id}], run.writes

        placed = await schedule_shift(run.ports, coordinator, plan, idempotency_key="k")  # the console retries
        await recover(run)

        placed = await shift_of(run.ports, placed.id)
        assert (placed.status, placed.caregiver_id, placed.hold) == (ShiftStatus.SCHEDULED, caregiver.id, None)
        assert await confirmed_bookings(run.ports, caregiver, placed) == 1, run.writes
        assert await told(run.ports, placed.id) == [{caregiver.id}], run.writes


async def test_an_open_shift_created_when_the_process_dies_is_offered(crash_points: CrashPoints) -> None:
    async for run in crash_points():
        _, shifts = await begin(run)
        async with run.armed():
            await shifts.schedule(None, shifts.local(1, 9), shifts.local(1, 13))
        await recover(run)

        left = await run.store.db["shifts"].find_one({})
        if left is not None:
            assert len(await alerts(run.ports, left["_id"], AlertKind.OPEN_SHIFT_OFFER)) == 1, run.writes


async def scheduled(run: CrashRun) -> tuple[World, Shift]:
    world, shifts = await begin(run)
    shift = await shifts.schedule(world.caregiver_on_team, shifts.local(1, 9), shifts.local(1, 13))
    return world, shift


async def check_opened(run: CrashRun, world: World, shift: Shift) -> None:
    """Offered once, its caregiver told once (after being told of the placement), their time freed."""
    assert len(await alerts(run.ports, shift.id, AlertKind.OPEN_SHIFT_OFFER)) == 1, run.writes
    assert await told(run.ports, shift.id) == [{world.caregiver_on_team.id}] * 2, run.writes
    schedule = await run.store.caregiver_schedules.get(world.caregiver_on_team.id)
    assert [b for b in schedule.bookings if b.shift_id == shift.id] == [], run.writes


async def test_opening_a_shift_killed_at_any_write_offers_it_and_tells_its_caregiver_once(
    crash_points: CrashPoints,
) -> None:
    async for run in crash_points():
        world, shift = await scheduled(run)
        coordinator = world.coordinator.principal()
        async with run.armed():
            await open_shift(run.ports, coordinator, shift.id, reason="병가")
        await recover(run)
        if (await shift_of(run.ports, shift.id)).status is ShiftStatus.OPEN:
            await check_opened(run, world, shift)
        await open_shift(run.ports, coordinator, shift.id, reason="병가")  # the console retries
        await recover(run)

        assert (await shift_of(run.ports, shift.id)).status is ShiftStatus.OPEN, run.writes
        await check_opened(run, world, shift)


async def check_cancelled(run: CrashRun, world: World, shift: Shift) -> None:
    assert await told(run.ports, shift.id) == [{world.caregiver_on_team.id}] * 2, run.writes
    schedule = await run.store.caregiver_schedules.get(world.caregiver_on_team.id)
    assert [b for b in schedule.bookings if b.shift_id == shift.id] == [], run.writes


async def test_cancelling_a_shift_killed_at_any_write_frees_and_tells_its_caregiver_once(
    crash_points: CrashPoints,
) -> None:
    async for run in crash_points():
        world, shift = await scheduled(run)
        coordinator = world.coordinator.principal()
        async with run.armed():
            await cancel_shift(run.ports, coordinator, shift.id, reason="입원")
        await recover(run)
        if (await shift_of(run.ports, shift.id)).status is ShiftStatus.CANCELLED:
            await check_cancelled(run, world, shift)
        await cancel_shift(run.ports, coordinator, shift.id, reason="입원")  # the console retries
        await recover(run)

        assert (await shift_of(run.ports, shift.id)).status is ShiftStatus.CANCELLED, run.writes
        await check_cancelled(run, world, shift)


async def check_reassigned(run: CrashRun, world: World, shift: Shift) -> None:
    new, old = world.caregiver_off_team, world.caregiver_on_team
    placed = await shift_of(run.ports, shift.id)
    assert await confirmed_bookings(run.ports, new, placed) == 1, run.writes
    assert await confirmed_bookings(run.ports, old, placed) == 0, run.writes
    assert await told(run.ports, shift.id) == [{old.id}, {old.id, new.id}], run.writes


async def test_reassigning_a_shift_killed_at_any_write_places_and_tells_once(crash_points: CrashPoints) -> None:
    async for run in crash_points():
        world, shift = await scheduled(run)
        coordinator = world.coordinator.principal()
        new = world.caregiver_off_team

        async with run.armed():
            await assign_shift(run.ports, coordinator, shift.id, caregiver_id=new.id, reason="교체")
        await recover(run)
        if (await shift_of(run.ports, shift.id)).caregiver_id == new.id:
            await check_reassigned(run, world, shift)
        await assign_shift(run.ports, coordinator, shift.id, caregiver_id=new.id, reason="교체")  # the console retries
        await recover(run)

        placed = await shift_of(run.ports, shift.id)
        assert (placed.status, placed.caregiver_id) == (ShiftStatus.SCHEDULED, new.id), run.writes
        await check_reassigned(run, world, shift)


# --- I11: a visit record's exceptions (geofence, clock skew) -------------------------------------------
# Found with offline visits: the alerts were sent after the record's write, a death between lost them, and
# the app's retry was refused as a duplicate (or answered from the stored entry), so nothing sent them.


async def at_minjis_home(run: CrashRun) -> tuple[World, Shifts, Shift]:
    """Minji at home in Suwon, 07:00-10:00 with the caregiver on her team (tests/shifts/test_visits.py)."""
    world, shifts = await begin(run)
    minji = world.minji
    await run.store.people.update_profile(
        minji, replace(minji.profile, home=HOME), expected_revision=minji.revision, now=run.clock.now()
    )
    shift = await shifts.schedule(world.caregiver_on_team, shifts.local(1, 7), shifts.local(1, 10))
    return world, shifts, shift


async def told_once(run: CrashRun, shift: Shift, *kinds: AlertKind, events: dict[str, int]) -> None:
    """Exactly one alert request of each kind, and the events counted, none lost and none doubled."""
    for kind in kinds:
        assert len(await alerts(run.ports, shift.id, kind)) == 1, (kind, run.writes)
    for kind_name, count in events.items():
        published = await run.store.events.since(run.clock.now() - timedelta(days=3), kinds=[kind_name])
        assert len([e for e in published if e.subject_id == shift.id]) == count, (kind_name, run.writes)


async def check_in_away_with_a_skewed_clock(run: CrashRun, world: World, shifts: Shifts, shift: Shift) -> None:
    with contextlib.suppress(StateConflict):  # the retry of a check-in that was stored is refused
        await visits.check_in(
            run.ports,
            world.caregiver_on_team.principal(),
            shift.id,
            location=ACROSS_TOWN,
            device_at=shifts.local(1, 6, 50),
            fix_at=shifts.local(1, 7),
        )


async def test_a_check_in_away_with_a_skewed_clock_killed_at_any_write_alerts_each_exception_once(
    crash_points: CrashPoints,
) -> None:
    async for run in crash_points():
        world, shifts, shift = await at_minjis_home(run)
        shifts.set_clock(1, 7)
        async with run.armed():
            await check_in_away_with_a_skewed_clock(run, world, shifts, shift)
        await recover(run)
        await check_in_away_with_a_skewed_clock(run, world, shifts, shift)  # the app retries, unanswered
        await recover(run)

        assert (await shift_of(run.ports, shift.id)).status is ShiftStatus.IN_PROGRESS, run.writes
        exceptions = {"shift.geofence_exception": 1, "shift.visit_time_exception": 1}
        await told_once(run, shift, AlertKind.GEOFENCE_EXCEPTION, AlertKind.VISIT_CLOCK_SKEW, events=exceptions)


async def check_out_away_with_a_skewed_clock(run: CrashRun, world: World, shifts: Shifts, shift: Shift) -> None:
    at, fix = shifts.local(1, 9, 40), shifts.local(1, 9, 50)
    me = world.caregiver_on_team.principal()
    await visits.check_out(run.ports, me, shift.id, location=ACROSS_TOWN, reason="약이 없음", device_at=at, fix_at=fix)


async def log_with_a_skewed_clock(run: CrashRun, world: World, shifts: Shifts, shift: Shift, task: str) -> None:
    at, fix = shifts.local(1, 7, 55), shifts.local(1, 8, 5)
    me = world.caregiver_on_team.principal()
    done = TaskOutcome.DONE
    await visits.log_task(
        run.ports, me, shift.id, task_id=task, outcome=done, idempotency_key="k", device_at=at, fix_at=fix
    )


async def test_a_check_out_away_with_a_skewed_clock_killed_at_any_write_alerts_each_exception_once(
    crash_points: CrashPoints,
) -> None:
    async for run in crash_points():
        world, shifts, shift = await at_minjis_home(run)
        me = world.caregiver_on_team.principal()
        shifts.set_clock(1, 6, 55)
        await visits.check_in(run.ports, me, shift.id, location=AT_HOME)  # on time, at home: nothing to tell
        shifts.set_clock(1, 9, 50)

        async with run.armed():
            await check_out_away_with_a_skewed_clock(run, world, shifts, shift)
        await recover(run)
        if (await shift_of(run.ports, shift.id)).status is ShiftStatus.IN_PROGRESS:
            await check_out_away_with_a_skewed_clock(run, world, shifts, shift)  # the app retries, unanswered
            await recover(run)

        exceptions = {"shift.geofence_exception": 1, "shift.visit_time_exception": 1}
        await told_once(run, shift, AlertKind.GEOFENCE_EXCEPTION, AlertKind.VISIT_CLOCK_SKEW, events=exceptions)
        assert len(await incidents(run.ports, shift.id, IncidentType.MEDICATION)) == 1, run.writes


async def test_a_task_logged_with_a_skewed_clock_killed_at_any_write_alerts_once(crash_points: CrashPoints) -> None:
    async for run in crash_points():
        world, shifts, shift = await at_minjis_home(run)
        me = world.caregiver_on_team.principal()
        shifts.set_clock(1, 6, 55)
        started = await visits.check_in(run.ports, me, shift.id, location=AT_HOME)
        task = await plan_task(run.ports, started)
        shifts.set_clock(1, 8, 5)

        async with run.armed():
            await log_with_a_skewed_clock(run, world, shifts, shift, task)
        await recover(run)
        # The app retries a request that got no answer: answered from the stored entry, nothing sends again.
        await log_with_a_skewed_clock(run, world, shifts, shift, task)
        await recover(run)

        assert len((await shift_of(run.ports, shift.id)).task_log) == 1, run.writes
        await told_once(run, shift, AlertKind.VISIT_CLOCK_SKEW, events={"shift.visit_time_exception": 1})
        assert await alerts(run.ports, shift.id, AlertKind.GEOFENCE_EXCEPTION) == [], run.writes
