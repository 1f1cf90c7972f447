"""GET /console/now asks the database as many times for 1,000 open items as for 100 (issue 11).

The whole app with a coordinator's real session; a PyMongo command listener on a dedicated client
counts every command one page sends (tests/commands.py). Each section of the board is one paged read,
so a longer backlog makes no page ask more. (The documents do grow: the coverage gaps of the next 24
hours are computed from every shift of that day, read as summaries; see carecore.shifts.queries.)
"""

from __future__ import annotations

import re
from datetime import timedelta

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from app.server import CareGraphQL
from carecore.access.principal import Role
from carecore.ids import new_id
from carecore.incidents.models import (
    Escalation,
    Incident,
    IncidentSource,
    IncidentStatus,
    IncidentType,
    Severity,
    TimelineAction,
    TimelineEntry,
)
from carecore.shifts.models import HistoryAction, HistoryEntry, Shift, ShiftStatus
from carecore.storage.store import Store
from tests.commands import counted
from tests.conftest import World
from tests.console.conftest import SignedIn
from tests.support import FakeClock

SIZES = (100, 1_000)
SEVERITIES = list(Severity)


def _runtime_of(app: Starlette) -> CareGraphQL:
    for route in app.routes:
        if isinstance(route, WebSocketRoute) and isinstance(route.endpoint, CareGraphQL):
            return route.endpoint
    raise AssertionError("the app has no GraphQL endpoint holding its runtime")


async def _open_items(store: Store, world: World, clock: FakeClock, first: int, last: int) -> None:
    """Items first..last-1: unacknowledged incidents of every severity (half due to the authority), and
    every fifth one an open shift in the next day instead."""
    now = clock.now()
    people = [world.minji.id, world.jiho.id]
    for i in range(first, last):
        person_id = people[i % 2]
        if i % 5 == 4:
            start = now + timedelta(hours=1 + i % 20)
            await store.shifts.insert(
                Shift(
                    id=new_id(),
                    agency_id=world.agency.id,
                    person_id=person_id,
                    caregiver_id=None,
                    status=ShiftStatus.OPEN,
                    start=start,
                    end=start + timedelta(hours=2),
                    required_qualifications=(),
                    notes="",
                    revision=1,
                    created_by=world.coordinator.id,
                    created_at=now,
                    updated_at=now,
                    history=(HistoryEntry(HistoryAction.CREATED, now, world.coordinator.id),),
                )
            )
            continue
        created = now - timedelta(minutes=i)
        await store.incidents.insert(
            Incident(
                id=new_id(),
                agency_id=world.agency.id,
                person_id=person_id,
                type=IncidentType.FALL,
                severity=SEVERITIES[i % 4],
                status=IncidentStatus.OPEN,
                source=IncidentSource.CAREGIVER,
                summary=f"넘어짐 {i:04d}",
                created_at=created,
                updated_at=created,
                report_due_at=created + timedelta(hours=24) if i % 2 else None,
                escalation=Escalation(round=1, step=1, started_at=created, due_at=now + timedelta(minutes=2)),
                timeline=(TimelineEntry(created, TimelineAction.CREATED, None, IncidentStatus.OPEN),),
            )
        )


async def test_now_sends_as_many_commands_for_1000_open_items_as_for_100(
    browser: SignedIn,
    world: World,
    store: Store,
    clock: FakeClock,
    console_app: Starlette,
    mongo_uri: str,
    database_name: str,
) -> None:
    client, _ = await browser(Role.COORDINATOR, world.agency.id)
    runtime = _runtime_of(console_app).runtime
    started = runtime.ports
    assert started is not None
    measured = {}
    async with counted(mongo_uri, database_name, started) as (ports, log):
        runtime.ports = ports
        try:
            seeded = 0
            for n in SIZES:
                await _open_items(store, world, clock, seeded, n)
                seeded = n
                log.clear()
                page = await client.get("/console/now")
                assert page.status_code == 200
                shown = len(re.findall(r'<tr[^>]*data-incident="', page.text))
                measured[n] = (dict(log.names), shown)
        finally:
            runtime.ports = started
    small, large = measured[SIZES[0]], measured[SIZES[-1]]
    assert small[1] == large[1] >= 40, "every severity shows a full page at both sizes"
    assert large[0] == small[0], f"commands per page grew with the backlog: {measured}"
