"""SYSTEM incidents from the shift module's `shift.missed` events, exactly once across instances."""

from __future__ import annotations

import asyncio

from carecore.events.models import DomainEvent
from carecore.events.service import publish
from carecore.ids import id_for_key, new_id
from carecore.incidents.models import IncidentSource, IncidentStatus, IncidentType, Severity
from carecore.incidents.worker import IncidentWorker
from carecore.ports import Ports
from tests.conftest import World
from tests.support import FakeClock


def missed(world: World, clock: FakeClock, shift_id: str) -> DomainEvent:
    return DomainEvent(
        id=id_for_key("shift.missed", shift_id),
        agency_id=world.agency.id,
        kind="shift.missed",
        subject_type="Shift",
        subject_id=shift_id,
        at=clock.now(),
        person_id=world.minji.id,
        data={"caregiver_id": world.caregiver_on_team.id, "start": clock.now().isoformat()},
    )


async def test_a_missed_visit_opens_one_system_incident_however_many_instances_race(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    shift_id = new_id()
    await publish(ports, missed(world, clock, shift_id))

    claimed = await asyncio.gather(*(IncidentWorker(ports).run_once() for _ in range(3)))

    [doc] = await ports.store.db["incidents"].find().to_list()
    incident = await ports.store.incidents.get(doc["_id"])
    assert incident is not None
    assert (incident.type, incident.source, incident.status) == (
        IncidentType.MISSED_VISIT,
        IncidentSource.SYSTEM,
        IncidentStatus.OPEN,
    )
    assert incident.severity is Severity.HIGH and incident.related_shift_id == shift_id
    assert sum(claimed) >= 1
    stored_event = await ports.store.db["events"].find_one({"kind": "shift.missed"})
    assert stored_event is not None and stored_event["handled_by"] == ["incidents"]
    assert await ports.store.events.unclaimed("incidents", ["shift.missed"], now=clock.now()) == []
    assert len(await ports.store.alert_requests.for_subject(incident.id)) == 1


async def test_an_event_left_unclaimed_by_a_crash_is_handled_once_on_the_next_pass(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    event = missed(world, clock, new_id())
    await publish(ports, event)
    worker = IncidentWorker(ports)
    await worker.run_once()
    await ports.store.db["events"].update_one({"_id": event.id}, {"$set": {"handled_by": []}})

    await worker.run_once()

    assert await ports.store.db["incidents"].count_documents({}) == 1
