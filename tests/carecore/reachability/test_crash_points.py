"""Reachability flows killed at each of their writes: after recovery (the `reachability` job) every step
of the ladder happened exactly once, its event was published once and its incident opened once."""

from __future__ import annotations

from datetime import timedelta

from carecore.incidents.models import IncidentType
from carecore.reachability.models import CallOutcome, Contact, ContactKind, HumanOutcome, ReachState
from carecore.reachability.service import record_human_contact, run_reachability
from tests.carecore.reachability.conftest import call, configure_calls, schedule_minji
from tests.carecore.reachability.test_ladder import TEN, transitions
from tests.conftest import build_world
from tests.crashes import CrashPoints, recover


async def test_the_third_unanswered_call_killed_at_any_write_leads_to_one_human_call_task(
    crash_points: CrashPoints,
) -> None:
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        service = await configure_calls(run.ports, world, run.clock)
        await schedule_minji(run.ports, world, TEN)
        run.clock.advance(timedelta(hours=1))
        await run_reachability(run.ports, "worker")
        for attempt in (1, 2):
            await call(run.ports, world, service, CallOutcome.NOT_ANSWERED, attempt=attempt)
        async with run.armed():
            await call(run.ports, world, service, CallOutcome.NOT_ANSWERED, attempt=3)
        await recover(run)
        resent = await call(run.ports, world, service, CallOutcome.NOT_ANSWERED, attempt=3)  # the service retries

        assert (resent.state, resent.unanswered) == (ReachState.HUMAN_CALLING, 3), run.writes
        assert resent.pending == (), run.writes
        assert await transitions(run.ports) == [
            ("DUE", 0, None),
            ("UNANSWERED", 1, None),
            ("UNANSWERED", 2, None),
            ("HUMAN_CALLING", 3, None),
        ], run.writes
        contacts = await run.store.db["reachability_contacts"].find().to_list()
        assert len(contacts) == 3 and all(c["applied"] for c in contacts), run.writes


async def test_the_last_step_killed_at_any_write_opens_one_no_response_incident_with_its_alert(
    crash_points: CrashPoints,
) -> None:
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        service = await configure_calls(run.ports, world, run.clock)
        await schedule_minji(run.ports, world, TEN)
        run.clock.advance(timedelta(hours=1))
        await run_reachability(run.ports, "worker")
        for attempt in (1, 2, 3):
            await call(run.ports, world, service, CallOutcome.NOT_ANSWERED, attempt=attempt)
        run.clock.advance(timedelta(hours=4))
        await run_reachability(run.ports, "worker")
        run.clock.advance(timedelta(hours=4))
        async with run.armed():
            await run_reachability(run.ports, "worker")
        await recover(run)

        query = {"person_id": world.minji.id, "type": IncidentType.NO_RESPONSE.value}
        [incident] = await run.store.db["incidents"].find(query).to_list()
        assert len(await run.store.alert_requests.for_subject(incident["_id"])) == 1, run.writes
        reach = await run.store.reachability.get(world.minji.id)
        assert reach is not None and reach.incident_id == incident["_id"] and reach.pending == (), run.writes
        steps = await transitions(run.ports)
        assert steps[-2:] == [("VISIT_REQUESTED", 3, None), ("VISIT_REQUESTED", 3, "NO_RESPONSE")], run.writes
        assert len(steps) == 6, run.writes


async def test_a_human_call_recorded_and_killed_at_any_write_takes_the_next_step_once(
    crash_points: CrashPoints,
) -> None:
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        service = await configure_calls(run.ports, world, run.clock)
        await schedule_minji(run.ports, world, TEN)
        run.clock.advance(timedelta(hours=1))
        await run_reachability(run.ports, "worker")
        for attempt in (1, 2, 3):
            await call(run.ports, world, service, CallOutcome.NOT_ANSWERED, attempt=attempt)
        coordinator = world.coordinator.principal()
        now = run.clock.now()
        tried = Contact(
            "", "", world.minji.id, ContactKind.HUMAN_CALL, now, now, "", human_outcome=HumanOutcome.NOT_REACHED
        )
        async with run.armed():
            await record_human_contact(run.ports, coordinator, world.minji.id, tried, idempotency_key="k")
        await recover(run)
        again = await record_human_contact(run.ports, coordinator, world.minji.id, tried, idempotency_key="k")

        assert again.reach.state is ReachState.VISIT_REQUESTED and again.reach.pending == (), run.writes
        steps = await transitions(run.ports)
        assert steps[-2:] == [("HUMAN_CALLING", 3, None), ("VISIT_REQUESTED", 3, None)], run.writes
        assert len(steps) == 5, run.writes
