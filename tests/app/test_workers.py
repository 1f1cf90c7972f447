"""The background loops run the due checks, survive a failing round, and stop at shutdown."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from app import workers
from carecore.loops import repeat
from carecore.ports import Ports
from carecore.shifts.scheduling import ShiftPlan, schedule_shift
from tests.conftest import World
from tests.support import FakeClock


async def test_a_loop_keeps_running_after_a_failing_round() -> None:
    rounds: list[int] = []
    third = asyncio.Event()

    async def flaky() -> int:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("database hiccup")
        if len(rounds) == 3:
            third.set()
        return 0

    task = asyncio.create_task(repeat("flaky", flaky, 0.01))
    await asyncio.wait_for(third.wait(), timeout=5)
    task.cancel()

    assert rounds[:3] == [0, 1, 2]


async def test_the_running_loops_mark_a_late_visit_and_stop_at_shutdown(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    start = clock.now() + timedelta(minutes=5)
    plan = ShiftPlan(world.minji.id, start, start + timedelta(hours=2), caregiver_id=world.caregiver_on_team.id)
    shift = await schedule_shift(ports, world.coordinator.principal(), plan)
    clock.advance(timedelta(minutes=16))

    running = workers.start_workers(ports, push=None, second=None, instance="test", interval=0.01)
    try:
        for _ in range(500):
            found = await ports.store.shifts.get(shift.id)
            if found is not None and found.late_at is not None:
                break
            await asyncio.sleep(0.01)
    finally:
        await running.stop()
    assert found is not None and found.late_at == clock.now()
    assert all(task.cancelled() for task in running.tasks)


async def test_a_loop_stops_at_shutdown_even_when_a_library_swallows_its_cancellation() -> None:
    started = asyncio.Event()

    async def swallowing() -> int:
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            raise ConnectionError("connection closed while cancelled") from None  # as a driver may do
        return 0

    task = asyncio.create_task(repeat("swallowing", swallowing, 3600))
    await started.wait()
    task.cancel()
    await asyncio.wait([task], timeout=5)

    assert task.cancelled()  # not sleeping for an hour, holding up the shutdown
