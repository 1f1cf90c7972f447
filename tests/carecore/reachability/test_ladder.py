"""The reachability ladder: three unanswered AI calls, a human call task, a visit request, a NO_RESPONSE
incident; each step once however many workers race, and an answer at any step resets it."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import time, timedelta

import pytest

from carecore.audit.models import AuditOutcome
from carecore.incidents.models import AiService, IncidentType
from carecore.ports import Ports
from carecore.reachability.models import GYEONGGI, CallOutcome, CallSlot, Reach, ReachState
from carecore.reachability.service import EVENT_KIND, run_reachability
from tests.carecore.reachability.conftest import call, schedule_minji
from tests.conftest import World
from tests.support import FakeClock

TEN = CallSlot(2, time(10, 0))  # Wednesday 10:00 in Seoul: an hour after the test clock starts


async def race(ports: Ports) -> None:
    """Two instances run the job at the same moment, twice, as production does."""
    for _ in range(2):
        await asyncio.gather(run_reachability(ports, "worker-a"), run_reachability(ports, "worker-b"))


async def state(ports: Ports, world: World) -> Reach:
    reach = await ports.store.reachability.get(world.minji.id)
    assert reach is not None
    return reach


async def transitions(ports: Ports) -> list[tuple[str, int, str | None]]:
    """(state, unanswered, incident) of every published transition, in order."""
    docs = await ports.store.db["events"].find({"kind": EVENT_KIND}).sort([("data.version", 1)]).to_list()
    return [(d["data"]["state"], d["data"]["unanswered"], d["data"]["incident"]) for d in docs]


async def no_response_incidents(ports: Ports, world: World) -> list[str]:
    query = {"person_id": world.minji.id, "type": IncidentType.NO_RESPONSE.value}
    return [d["_id"] for d in await ports.store.db["incidents"].find(query).to_list()]


async def to_step(ports: Ports, world: World, clock: FakeClock, calls: AiService, step: int) -> None:
    """Drives minji's ladder with explicit outcomes and worker races: 1 DUE, 2-3 UNANSWERED(1-2),
    4 HUMAN_CALLING, 5 VISIT_REQUESTED, 6 the NO_RESPONSE incident."""
    await schedule_minji(ports, world, TEN)
    clock.advance(timedelta(hours=1))
    await race(ports)
    for attempt in range(1, min(step, 4)):
        clock.advance(timedelta(minutes=5))
        await call(ports, world, calls, CallOutcome.NOT_ANSWERED, attempt=attempt)
        await race(ports)
    if step >= 5:
        clock.advance(timedelta(hours=4))
        await race(ports)
    if step >= 6:
        clock.advance(timedelta(hours=4))
        await race(ports)


async def test_three_unanswered_calls_lead_to_a_human_call_a_visit_and_one_no_response_incident(
    ports: Ports, world: World, clock: FakeClock, calls: AiService
) -> None:
    await to_step(ports, world, clock, calls, 4)
    assert (await state(ports, world)).state is ReachState.HUMAN_CALLING

    clock.advance(timedelta(hours=3, minutes=59))
    await race(ports)
    assert (await state(ports, world)).state is ReachState.HUMAN_CALLING  # the same day: 4 hours to call
    clock.advance(timedelta(minutes=1))
    await race(ports)
    assert (await state(ports, world)).state is ReachState.VISIT_REQUESTED
    clock.advance(timedelta(hours=4))
    await race(ports)
    clock.advance(timedelta(hours=4))
    await race(ports)

    assert await transitions(ports) == [
        ("DUE", 0, None),
        ("UNANSWERED", 1, None),
        ("UNANSWERED", 2, None),
        ("HUMAN_CALLING", 3, None),
        ("VISIT_REQUESTED", 3, None),
        ("VISIT_REQUESTED", 3, "NO_RESPONSE"),
    ]
    [incident_id] = await no_response_incidents(ports, world)
    reach = await state(ports, world)
    assert reach.incident_id == incident_id and reach.check_at is None and reach.pending == ()
    assert len(await ports.store.alert_requests.for_subject(incident_id)) == 1  # its ladder's first step, once
    audit = await ports.store.db["audit"].find({"action": "reachability.transition"}).to_list()
    assert [a["outcome"] for a in audit].count(AuditOutcome.DONE.value) == 6


async def test_a_dropped_callback_is_noticed_30_minutes_after_the_call_was_due(
    ports: Ports, world: World, clock: FakeClock, calls: AiService
) -> None:
    await schedule_minji(ports, world, TEN)
    clock.advance(timedelta(hours=1))
    await race(ports)
    assert (await state(ports, world)).state is ReachState.DUE
    clock.advance(timedelta(minutes=29))
    await race(ports)
    assert (await state(ports, world)).state is ReachState.DUE
    clock.advance(timedelta(minutes=1))
    await race(ports)
    reach = await state(ports, world)
    assert (reach.state, reach.unanswered) == (ReachState.UNANSWERED, 1)
    assert reach.unreachable_since == clock.now() - timedelta(minutes=30)  # unreachable since the call was due


async def test_silence_from_the_wellness_call_service_still_reaches_a_human_within_hours(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    await schedule_minji(ports, world, TEN)
    for _ in range(4 * 6):  # four hours in ten-minute steps, nothing heard at all
        clock.advance(timedelta(minutes=10))
        await race(ports)
    reach = await state(ports, world)
    assert reach.state is ReachState.HUMAN_CALLING
    assert reach.human_task_at is not None and reach.unreachable_since is not None
    assert reach.human_task_at - reach.unreachable_since <= timedelta(hours=3)


@pytest.mark.parametrize("step", [1, 2, 3, 4, 5, 6])
async def test_an_answer_at_any_step_resets_the_ladder(
    ports: Ports, world: World, clock: FakeClock, calls: AiService, step: int
) -> None:
    await to_step(ports, world, clock, calls, step)
    clock.advance(timedelta(minutes=1))
    reach = await call(ports, world, calls, CallOutcome.ANSWERED, session="s-2")
    assert (reach.state, reach.unanswered, reach.unreachable_since) == (ReachState.OK, 0, None)
    for _ in range(8):
        clock.advance(timedelta(hours=1))
        await race(ports)
    assert (await state(ports, world)).state is ReachState.OK
    assert len(await no_response_incidents(ports, world)) == (1 if step == 6 else 0)


async def test_an_outcome_sent_twice_counts_once(
    ports: Ports, world: World, clock: FakeClock, calls: AiService
) -> None:
    await schedule_minji(ports, world, TEN)
    clock.advance(timedelta(hours=1, minutes=5))
    for _ in range(3):
        await call(ports, world, calls, CallOutcome.NOT_ANSWERED, session="s-1", attempt=1)
    reach = await state(ports, world)
    assert (reach.state, reach.unanswered) == (ReachState.UNANSWERED, 1)
    assert await ports.store.db["reachability_contacts"].count_documents({}) == 1


async def test_a_failed_call_and_an_answering_machine_count_as_no_answer(
    ports: Ports, world: World, clock: FakeClock, calls: AiService
) -> None:
    await schedule_minji(ports, world, TEN)
    clock.advance(timedelta(hours=1))
    await call(ports, world, calls, CallOutcome.FAILED, attempt=1)
    clock.advance(timedelta(minutes=1))
    await call(ports, world, calls, CallOutcome.NOT_ANSWERED, attempt=2)
    assert (await state(ports, world)).unanswered == 2


async def test_risk_words_in_an_answered_call_open_an_incident_at_once(
    ports: Ports, world: World, clock: FakeClock, calls: AiService
) -> None:
    await schedule_minji(ports, world, TEN)
    clock.advance(timedelta(hours=1))
    reach = await call(ports, world, calls, CallOutcome.ANSWERED, transcript="요즘 허리가 너무 아프다")
    assert reach.state is ReachState.OK
    [incident] = await ports.store.db["incidents"].find({"person_id": world.minji.id}).to_list()
    assert incident["type"] == IncidentType.MEDICAL.value
    assert len(await ports.store.alert_requests.for_subject(incident["_id"])) == 1
    await call(ports, world, calls, CallOutcome.ANSWERED, transcript="요즘 허리가 너무 아프다")  # a resend
    assert await ports.store.db["incidents"].count_documents({}) == 1


async def test_the_ladder_is_the_agencys_data(ports: Ports, world: World, clock: FakeClock, calls: AiService) -> None:
    stricter = dataclasses.replace(GYEONGGI, unanswered_calls=2, human_call_within=timedelta(hours=1))
    await ports.store.reachability_settings.put_ladder(world.agency.id, stricter)
    await to_step(ports, world, clock, calls, 3)
    assert (await state(ports, world)).state is ReachState.HUMAN_CALLING  # after two, not three
    clock.advance(timedelta(hours=1))
    await race(ports)
    assert (await state(ports, world)).state is ReachState.VISIT_REQUESTED
