"""Each reachability transition that asks for people reaches the right ones through the alerts pipeline:
caregivers and guardians with `alerts` when their person becomes unreachable, the coordinators on duty
for the human call, the care team (else the coordinators) for the visit, the person for the check."""

from __future__ import annotations

from datetime import timedelta

from carecore.alerts.models import AlertKind
from carecore.alerts.router import route_due
from carecore.background import JOBS
from carecore.incidents.models import AiService
from carecore.ports import Ports
from carecore.reachability.models import CallOutcome, SignKind
from carecore.reachability.service import run_reachability, set_call_schedule
from tests.carecore.reachability.conftest import JIHO_REF, call, sign
from tests.carecore.reachability.test_ladder import TEN, state, to_step
from tests.conftest import World
from tests.support import FakeClock


async def pipeline(ports: Ports) -> None:
    """Every core job until idle: the consumer asks for alerts, the router writes notifications."""
    for _ in range(10):
        done = 0
        for job in JOBS:
            done += await job.run(ports, "instance")
        if done == 0:
            return


async def told(ports: Ports, person_id: str) -> dict[AlertKind, set[str]]:
    docs = await ports.store.db["notifications"].find({"subject_id": person_id}).to_list()
    found: dict[AlertKind, set[str]] = {}
    for d in docs:
        found.setdefault(AlertKind(d["kind"]), set()).add(d["user_id"])
    return found


async def test_each_step_of_the_ladder_tells_the_people_it_should_once(
    ports: Ports, world: World, clock: FakeClock, calls: AiService
) -> None:
    await to_step(ports, world, clock, calls, 2)
    await pipeline(ports)
    assert await told(ports, world.minji.id) == {
        AlertKind.UNREACHABLE: {world.caregiver_on_team.id, world.guardian.id},  # not the visits-only guardian
    }
    for attempt in (2, 3):
        clock.advance(timedelta(minutes=5))
        await call(ports, world, calls, CallOutcome.NOT_ANSWERED, attempt=attempt)
    await pipeline(ports)
    clock.advance(timedelta(hours=4))
    await pipeline(ports)
    await pipeline(ports)
    assert await told(ports, world.minji.id) == {
        AlertKind.UNREACHABLE: {world.caregiver_on_team.id, world.guardian.id},
        AlertKind.HUMAN_CALL_TASK: {world.coordinator.id},
        AlertKind.VISIT_REQUEST: {world.caregiver_on_team.id},
    }
    assert await ports.store.db["notifications"].count_documents({"subject_id": world.minji.id}) == 4


async def test_a_visit_for_a_person_without_caregivers_is_asked_of_the_coordinators(
    ports: Ports, world: World, clock: FakeClock, calls: AiService
) -> None:
    await set_call_schedule(ports, world.coordinator.principal(), world.jiho.id, [TEN])
    clock.advance(timedelta(hours=1))
    await run_reachability(ports, "worker")
    for attempt in (1, 2, 3):
        await call(ports, world, calls, CallOutcome.NOT_ANSWERED, attempt=attempt, ref=JIHO_REF)
    clock.advance(timedelta(hours=4))
    await pipeline(ports)
    assert (await told(ports, world.jiho.id))[AlertKind.VISIT_REQUEST] == {world.coordinator.id}
    assert (await told(ports, world.jiho.id))[AlertKind.UNREACHABLE] == {world.other_guardian.id}


async def test_a_long_silence_asks_the_persons_own_app_first(
    ports: Ports, world: World, clock: FakeClock, calls: AiService
) -> None:
    own_app = world.guardian_visits_only  # stands for the person's own account: any active user of the agency
    await set_call_schedule(ports, world.coordinator.principal(), world.minji.id, [], check_in_user_id=own_app.id)
    await sign(ports, world, calls, SignKind.APP_OPENED, clock.now(), "opened")
    clock.advance(timedelta(hours=24))
    await pipeline(ports)
    assert await told(ports, world.minji.id) == {AlertKind.WELLNESS_CHECK: {own_app.id}}
    await route_due(ports, owner="router")
    assert (await state(ports, world)).state.value == "DUE"
