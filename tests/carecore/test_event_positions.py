"""Event consumers poll from a per-consumer position (issue 13): the same cost whatever the handled
history, and never an event skipped (docs/safety.md, I7)."""

from __future__ import annotations

from datetime import timedelta

from carecore.events.models import DomainEvent
from carecore.events.service import publish
from carecore.ids import new_id
from carecore.incidents.worker import IncidentWorker
from carecore.ports import Ports
from carecore.storage.events import OVERLAP, RESCAN_EVERY
from tests.commands import CommandLog, counted
from tests.conftest import World, build_world
from tests.crashes import CrashPoints, recover
from tests.support import FakeClock

CONSUMER, KIND = "incidents", "shift.missed"


def event(world: World, clock: FakeClock, *, ago: timedelta = timedelta(0)) -> DomainEvent:
    return DomainEvent(
        id=new_id(),
        agency_id=world.agency.id,
        kind=KIND,
        subject_type="Shift",
        subject_id=new_id(),
        at=clock.now() - ago,
        person_id=world.minji.id,
    )


async def poll_and_handle(ports: Ports) -> list[str]:
    """One poll of the consumer, claiming what it returns (the effect is beside the point here)."""
    found = await ports.store.events.unclaimed(CONSUMER, [KIND], now=ports.clock.now())
    for e in found:
        await ports.store.events.claim(e.id, CONSUMER)
    return [e.id for e in found]


async def position(ports: Ports) -> str | None:
    doc = await ports.store.db["event_positions"].find_one({"_id": CONSUMER})
    return None if doc is None else str(doc["event_id"])


async def test_an_event_inserted_behind_the_position_is_still_handled(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    first, second = event(world, clock, ago=timedelta(seconds=2)), event(world, clock, ago=timedelta(seconds=1))
    for e in (first, second):
        await publish(ports, e)
    assert await poll_and_handle(ports) == [first.id, second.id]
    assert await poll_and_handle(ports) == []
    assert await position(ports) == second.id  # the position moved over what it saw handled

    clock.advance(timedelta(seconds=30))
    late = event(world, clock, ago=timedelta(minutes=1))  # stamped before the position, inserted after
    very_late = event(world, clock, ago=OVERLAP + timedelta(minutes=1))
    for e in (late, very_late):
        await publish(ports, e)

    assert await poll_and_handle(ports) == [late.id]  # within the overlap: the next poll
    assert await poll_and_handle(ports) == []
    clock.advance(RESCAN_EVERY)
    assert await poll_and_handle(ports) == [very_late.id]  # beyond it: the periodic full read
    assert await ports.store.db["events"].count_documents({"kind": KIND, "handled_by": {"$ne": CONSUMER}}) == 0


async def test_consumers_killed_between_handling_and_moving_the_position_lose_no_event(
    crash_points: CrashPoints,
) -> None:
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        events = [event(world, run.clock, ago=timedelta(seconds=3 - i)) for i in range(3)]
        await publish(run.ports, events[0])
        async with run.armed():
            await IncidentWorker(run.ports).run_once()  # handles the first event
            for e in events[1:]:
                await publish(run.ports, e)
            await IncidentWorker(run.ports).run_once()  # moves the position, handles the others
            await IncidentWorker(run.ports).run_once()  # moves the position over them
        await recover(run)

        stored = {d["_id"] async for d in run.store.db["events"].find({}, {"_id": 1})}
        assert events[0].id in stored
        for e in (e for e in events if e.id in stored):  # a publish the crash stopped is no consumer's loss
            opened = await run.store.db["incidents"].count_documents({"related_shift_id": e.subject_id})
            assert opened == 1, (run.position, run.writes, e.id)
        unhandled = await run.store.db["events"].count_documents({"kind": KIND, "handled_by": {"$ne": CONSUMER}})
        assert unhandled == 0, (run.position, run.writes)


async def examined(ports: Ports, log: CommandLog) -> int:
    """The events the logged finds walk through the (kind, at, _id) index: what their index bounds
    cover, before the `handled_by` condition drops handled ones (the local server cannot `explain`)."""
    walked = 0
    for collection, query in log.finds:
        if collection == "events":
            walked += await ports.store.db["events"].count_documents(
                {k: v for k, v in query.items() if k != "handled_by"}
            )
    return walked


async def test_a_poll_reads_the_same_with_1000_and_10000_handled_events(
    mongo_uri: str, database_name: str, ports: Ports, world: World, clock: FakeClock
) -> None:
    async with counted(mongo_uri, database_name, ports) as (counted_ports, log):
        measured: dict[int, tuple[dict[str, int], int, int, dict[str, int], int, int]] = {}
        present = 0
        for handled in (1_000, 10_000):
            start = clock.now() - timedelta(days=6)
            docs = [
                {
                    "_id": new_id(),
                    "agency_id": world.agency.id,
                    "kind": KIND,
                    "subject_type": "Shift",
                    "subject_id": new_id(),
                    "person_id": world.minji.id,
                    "data": {},
                    "at": start + timedelta(seconds=i),
                    "handled_by": [CONSUMER],
                }
                for i in range(present, handled)
            ]
            await ports.store.db["events"].insert_many(docs)
            present = handled
            await ports.store.db["event_positions"].delete_many({})  # as on the first deploy: no position
            for _ in range(handled // 100 + 2):  # catching up: each poll moves over up to `limit` handled
                await poll_and_handle(counted_ports)
            clock.advance(2 * OVERLAP)  # a quiet spell, then business as usual: one event handled
            await publish(ports, event(world, clock))
            for _ in range(2):
                await poll_and_handle(counted_ports)

            log.clear()
            await poll_and_handle(counted_ports)  # nothing new
            idle = (dict(log.names), log.returned, await examined(ports, log))
            clock.advance(timedelta(seconds=1))
            fresh = event(world, clock)
            await publish(ports, fresh)
            log.clear()
            assert await poll_and_handle(counted_ports) == [fresh.id]  # one new event
            busy = (dict(log.names), log.returned, await examined(ports, log))
            measured[handled] = (*idle, *busy)
            clock.advance(timedelta(seconds=1))

        assert measured[1_000] == measured[10_000], measured
        # The position's event twice (overlap and forward), and the new one: no handled history again.
        assert measured[1_000][2] <= 2 and measured[1_000][5] <= 3, measured


async def test_the_position_gets_past_more_events_at_one_instant_than_a_poll_reads(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    same = [event(world, clock) for _ in range(250)]  # e.g. a bulk publish stamped once
    for e in same:
        await publish(ports, e)
        await ports.store.events.claim(e.id, CONSUMER)

    for _ in range(3):  # 100 a poll
        assert await poll_and_handle(ports) == []

    assert await position(ports) == max(e.id for e in same)
