"""The shift flows killed before each of their writes, recovered as production recovers (the background
jobs of carecore/background.py, then the client's documented retry where a request died), and the
invariants checked: I2 (every missed booking opens exactly one incident, every late booking alerts
once), I3 (every critical task occurrence missed, refused or not done raises exactly one incident),
and a shift left by a dead create, open, cancel or assign is offered, placed and announced once."""

from __future__ import annotations

from carecore.alerts.models import AlertKind, AlertRequest
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
