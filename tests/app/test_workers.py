"""The background loop runs the due checks, survives a failing round, and stops when cancelled."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from app import workers
from carecore.ports import Ports
from carecore.shifts.scheduling import ShiftPlan, schedule_shift
from tests.conftest import World
from tests.support import FakeClock


async def test_the_loop_keeps_running_after_a_failing_round(ports: Ports) -> None:
    rounds: list[str] = []
    third = asyncio.Event()

    async def flaky(_: Ports, owner: str) -> int:
        rounds.append(owner)
        if len(rounds) == 1:
            raise RuntimeError("database hiccup")
        if len(rounds) == 3:
            third.set()
        return 0

    task = asyncio.create_task(workers.poll(ports, "test-owner", interval=0.01, jobs=(flaky,)))
    await asyncio.wait_for(third.wait(), timeout=5)
    task.cancel()

    assert rounds[:3] == ["test-owner"] * 3


async def test_the_running_loop_marks_a_late_visit_and_stops_at_shutdown(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    start = clock.now() + timedelta(minutes=5)
    plan = ShiftPlan(world.minji.id, start, start + timedelta(hours=2), caregiver_id=world.caregiver_on_team.id)
    shift = await schedule_shift(ports, world.coordinator.principal(), plan)
    clock.advance(timedelta(minutes=16))

    async with workers.running(ports, interval=0.01) as task:
        for _ in range(500):
            found = await ports.store.shifts.get(shift.id)
            if found is not None and found.late_at is not None:
                break
            await asyncio.sleep(0.01)
    assert found is not None and found.late_at == clock.now()
    assert task.cancelled()
