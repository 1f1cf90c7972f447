"""Leases, event claims and alert requests: the primitives every background job relies on."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from carecore.alerts.models import AlertKind, AlertRequest, Audience
from carecore.alerts.service import request_alert
from carecore.events.cleanup import delete_old_events
from carecore.events.models import DomainEvent
from carecore.events.service import publish
from carecore.ids import new_id
from carecore.incidents.models import Severity
from carecore.ports import Ports
from carecore.storage.leases import claim_due, release
from tests.support import FakeClock


async def test_of_twenty_racing_workers_exactly_one_claims_a_due_job(ports: Ports, clock: FakeClock) -> None:
    jobs = ports.store.db["scratch_jobs"]
    await jobs.insert_one({"_id": "job-1", "due_at": clock.now()})

    claims = await asyncio.gather(
        *(
            claim_due(jobs, due_field="due_at", now=clock.now(), owner=f"w{i}", lease=timedelta(seconds=30))
            for i in range(20)
        )
    )

    assert sum(c is not None for c in claims) == 1


async def test_a_lapsed_lease_is_taken_over_and_the_old_owner_cannot_finish(ports: Ports, clock: FakeClock) -> None:
    jobs = ports.store.db["scratch_jobs"]
    await jobs.insert_one({"_id": "job-1", "due_at": clock.now()})
    first = await claim_due(jobs, due_field="due_at", now=clock.now(), owner="crashed", lease=timedelta(seconds=30))
    assert first is not None
    assert await claim_due(jobs, due_field="due_at", now=clock.now(), owner="b", lease=timedelta(seconds=30)) is None

    clock.advance(timedelta(seconds=31))
    second = await claim_due(jobs, due_field="due_at", now=clock.now(), owner="b", lease=timedelta(seconds=30))

    assert second is not None
    assert not await release(jobs, "job-1", owner="crashed", changes={"due_at": None})
    assert await release(jobs, "job-1", owner="b", changes={"due_at": None})


async def test_an_event_is_published_once_and_claimed_once_per_consumer(ports: Ports, clock: FakeClock) -> None:
    event = DomainEvent(
        id=new_id(), agency_id="a", kind="shift.missed", subject_type="Shift", subject_id="s", at=clock.now()
    )
    assert await publish(ports, event)
    assert not await publish(ports, event)

    wins = await asyncio.gather(*(ports.store.events.claim(event.id, "incidents") for _ in range(10)))

    assert wins.count(True) == 1
    assert await ports.store.events.claim(event.id, "notifications")
    assert await ports.store.events.unclaimed("incidents", ["shift.missed"], now=ports.clock.now()) == []


async def test_an_alert_request_asked_twice_is_stored_once(ports: Ports, clock: FakeClock) -> None:
    request = AlertRequest(
        id=new_id(),
        agency_id="a",
        kind=AlertKind.LATE_VISIT,
        severity=Severity.HIGH,
        subject_type="Shift",
        subject_id="s",
        audiences=(Audience.COORDINATORS_ON_DUTY,),
        created_at=clock.now(),
    )
    assert await request_alert(ports, request)
    assert not await request_alert(ports, request)
    assert await ports.store.alert_requests.for_subject("s") == [request]


async def test_the_clean_up_job_deletes_week_old_events_and_keeps_recent_ones(ports: Ports, clock: FakeClock) -> None:
    def event(at_days_ago: int) -> DomainEvent:
        return DomainEvent(
            id=new_id(),
            agency_id="a",
            kind="incident.updated",
            subject_type="Incident",
            subject_id="i",
            at=clock.now() - timedelta(days=at_days_ago),
        )

    old, recent = event(8), event(1)
    for e in (old, recent):
        await publish(ports, e)
        await ports.store.events.claim(e.id, "alerts")  # the consumer of incident.updated (I7)

    assert await delete_old_events(ports) == 1
    assert [e.id for e in await ports.store.events.since(clock.now() - timedelta(days=30))] == [recent.id]
