"""I7: no event is deleted before every consumer of its kind has handled it; one left too long is parked."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from carecore.events.cleanup import delete_old_events, parked_events
from carecore.events.consumers import CONSUMERS, EventConsumer, consumer
from carecore.events.models import DomainEvent
from carecore.events.service import publish
from carecore.ids import new_id
from carecore.incidents.models import IncidentType
from carecore.incidents.worker import IncidentWorker
from carecore.ports import Ports
from tests.conftest import World, build_world
from tests.crashes import CrashPoints, recover
from tests.support import FakeClock

ROOT = Path(__file__).resolve().parents[2]


async def published(ports: Ports, world: World, kind: str, *, days_ago: float) -> DomainEvent:
    event = DomainEvent(
        id=new_id(),
        agency_id=world.agency.id,
        kind=kind,
        subject_type="Shift" if kind.startswith("shift.") else "Incident",
        subject_id=new_id(),
        at=ports.clock.now() - timedelta(days=days_ago),
        person_id=world.minji.id,
    )
    await publish(ports, event)
    return event


async def stored_ids(ports: Ports) -> set[str]:
    return {d["_id"] async for d in ports.store.db["events"].find({}, {"_id": 1})}


async def test_a_week_old_missed_visit_nobody_handled_is_parked_not_deleted_and_its_incident_still_opens(
    ports: Ports, world: World, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    unhandled = await published(ports, world, "shift.missed", days_ago=8)
    handled = await published(ports, world, "incident.updated", days_ago=8)
    await ports.store.events.claim(handled.id, "alerts")
    nobody_consumes = await published(ports, world, "incident.created", days_ago=8)

    with caplog.at_level(logging.WARNING, logger="carecore.events.cleanup"):
        await delete_old_events(ports)

    assert await stored_ids(ports) == {unhandled.id}
    [(parked, owed)] = await parked_events(ports.store)
    assert parked.event.id == unhandled.id and parked.parked_at == clock.now() and owed == ["incidents"]
    assert unhandled.id in caplog.text and "incidents" in caplog.text
    assert nobody_consumes.id not in await stored_ids(ports)

    await IncidentWorker(ports).run_once()  # the consumer is back: a parked event still reaches it
    await delete_old_events(ports)

    [incident] = await ports.store.db["incidents"].find().to_list()
    assert incident["type"] == IncidentType.MISSED_VISIT.value and incident["related_shift_id"] == unhandled.subject_id
    assert unhandled.id not in await stored_ids(ports)


async def test_an_event_goes_only_once_every_consumer_of_its_kind_handled_it(ports: Ports, world: World) -> None:
    # A second consumer of the same kind, as when another module starts reacting to missed visits.
    both = (*CONSUMERS, EventConsumer("tasks", ("shift.missed",)))
    event = await published(ports, world, "shift.missed", days_ago=8)

    await ports.store.events.claim(event.id, "incidents")
    await delete_old_events(ports, both)
    assert event.id in await stored_ids(ports)

    await ports.store.events.claim(event.id, "tasks")
    await delete_old_events(ports, both)
    assert event.id not in await stored_ids(ports)


async def test_an_event_unhandled_for_an_hour_is_parked_once_and_a_handled_recent_one_is_kept(
    ports: Ports, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    fresh = await published(ports, world, "shift.missed", days_ago=0)
    stuck = await published(ports, world, "incident.updated", days_ago=1 / 12)  # two hours

    with caplog.at_level(logging.WARNING, logger="carecore.events.cleanup"):
        assert await delete_old_events(ports) == 1
        assert await delete_old_events(ports) == 0  # parked once, warned once

    assert [p.event.id for p, _ in await parked_events(ports.store)] == [stuck.id]
    assert caplog.text.count(stuck.id) == 1
    assert await stored_ids(ports) == {fresh.id, stuck.id}


def test_a_consumer_must_be_declared_for_the_kinds_it_handles() -> None:
    assert consumer("incidents", "shift.missed").kinds == ("shift.missed",)
    with pytest.raises(LookupError):
        consumer("incidents", "shift.missed", "shift.late")
    with pytest.raises(LookupError):
        consumer("nobody", "shift.missed")


def test_every_module_that_claims_events_declares_itself_in_the_registry() -> None:
    for path in (ROOT / "carecore").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if "events.claim(" in text or "events.unclaimed(" in text:
            assert "from carecore.events.consumers import consumer" in text, (
                f"{path.relative_to(ROOT)} consumes events: declare it in carecore/events/consumers.py"
            )


async def test_consuming_and_cleaning_up_killed_at_any_write_loses_no_missed_visit(crash_points: CrashPoints) -> None:
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        event = await published(run.ports, world, "shift.missed", days_ago=8)
        async with run.armed():
            await delete_old_events(run.ports)  # the clean-up may run first: it must wait for the consumer
            await IncidentWorker(run.ports).run_once()
            await delete_old_events(run.ports)
        await recover(run)

        incidents = await run.store.db["incidents"].find({"related_shift_id": event.subject_id}).to_list()
        assert len(incidents) == 1, (run.position, run.writes)
        assert event.id not in await stored_ids(run.ports), (run.position, run.writes)  # handled, then gone
