"""Every change has its audit entry (issue 9, failure 13; invariant I6), written before the change:
pending while it runs or if the process dies, done after it, refused when a domain error stops it."""

from __future__ import annotations

import pytest

from carecore.audit.models import AuditEntry, AuditOutcome
from carecore.audit.service import audited
from carecore.errors import VersionConflict
from carecore.events.service import publish
from carecore.ids import new_id
from carecore.incidents.worker import IncidentWorker
from carecore.people import service as people
from carecore.people.models import PersonProfile
from carecore.ports import Ports
from carecore.storage.database import Document
from carecore.storage.store import Store
from tests.carecore.incidents.test_missed_visits import missed
from tests.conftest import World, build_world
from tests.crashes import CrashPoints, recover
from tests.support import FakeClock


async def _entries(ports: Ports, object_id: str, action: str) -> list[AuditEntry]:
    return [e for e in await ports.store.audit.for_object(object_id) if e.action == action]


async def _everything_but_audit(store: Store) -> dict[str, list[Document]]:
    names = [n for n in await store.db.list_collection_names() if n != "audit"]
    return {n: await store.db[n].find().sort("_id", 1).to_list() for n in sorted(names)}


async def test_a_change_killed_after_its_write_still_has_its_audit_entry(crash_points: CrashPoints) -> None:
    outcomes: list[AuditOutcome | None] = []
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        async with run.armed():
            await people.update_person(
                run.ports,
                world.coordinator.principal(),
                world.minji.id,
                expected_revision=world.minji.revision,
                profile=PersonProfile("최민지 (개명)"),
            )
        person = await run.store.people.get(world.minji.id)
        assert person is not None
        entries = await _entries(run.ports, world.minji.id, "person.update")
        if person.revision != world.minji.revision:  # the change landed: its entry is there, whatever followed
            assert len(entries) == 1, run.writes
        outcomes.append(entries[0].outcome if entries else None)
    # Killed before the entry (nothing changed), after it (pending: outcome unknown), and completed.
    assert outcomes[0] is None
    assert AuditOutcome.PENDING in outcomes[1:-1]
    assert outcomes[-1] is AuditOutcome.DONE


async def test_a_refused_change_is_audited_refused_and_changes_nothing_else(
    ports: Ports, world: World, store: Store
) -> None:
    coordinator = world.coordinator.principal()
    before = await _everything_but_audit(store)

    with pytest.raises(VersionConflict):
        await people.update_person(
            ports, coordinator, world.minji.id, expected_revision=world.minji.revision + 5, profile=PersonProfile("x")
        )

    assert await _everything_but_audit(store) == before
    [entry] = await _entries(ports, world.minji.id, "person.update")
    assert (entry.outcome, entry.error, entry.actor_id) == (
        AuditOutcome.REFUSED,
        "VersionConflict",
        coordinator.user_id,
    )
    raw = await store.db["audit"].find_one({"_id": entry.id})
    assert raw is not None and set(raw) >= {"outcome", "error"} and "x" not in raw.values()  # never the data


async def test_an_unexpected_failure_leaves_the_entry_pending(ports: Ports, world: World) -> None:
    with pytest.raises(RuntimeError):
        async with audited(ports, world.coordinator.principal(), "person.update", "Person", [world.minji.id]):
            raise RuntimeError("the database went away mid-change")

    [entry] = await _entries(ports, world.minji.id, "person.update")
    assert entry.outcome is AuditOutcome.PENDING  # attempted, outcome unknown: honest, and present


async def test_changes_of_one_call_are_one_write_each_way(ports: Ports, world: World) -> None:
    ids = [new_id() for _ in range(3)]
    async with audited(ports, world.coordinator.principal(), "shift.create", "Shift", ids):
        pending = await ports.store.db["audit"].count_documents({"outcome": "pending"})
    assert pending == 3
    assert await ports.store.db["audit"].count_documents({"outcome": "done", "object_id": {"$in": ids}}) == 3


async def test_the_systems_own_changes_are_audited_as_the_system(ports: Ports, world: World, clock: FakeClock) -> None:
    await publish(ports, missed(world, clock, new_id()))

    await IncidentWorker(ports).run_once()

    [doc] = await ports.store.db["incidents"].find().to_list()
    [entry] = await _entries(ports, doc["_id"], "incident.open")
    assert (entry.actor_id, entry.actor_role, entry.agency_id, entry.outcome) == (
        "system",
        "system",
        world.agency.id,
        AuditOutcome.DONE,
    )


async def test_a_system_change_killed_after_its_write_has_its_entry(crash_points: CrashPoints) -> None:
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        await publish(run.ports, missed(world, run.clock, new_id()))
        async with run.armed():
            await IncidentWorker(run.ports).run_once()
        for doc in await run.store.db["incidents"].find().to_list():
            assert await _entries(run.ports, doc["_id"], "incident.open"), run.writes
        await recover(run)
        for doc in await run.store.db["incidents"].find().to_list():
            assert await _entries(run.ports, doc["_id"], "incident.open"), run.writes
