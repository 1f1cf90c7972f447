"""Nested connections cost the same number of database round-trips for 10 and for 100 people on a page.

`Person.shifts`, `Person.carePlanVersions` and `Shift.previousHandover` resolve through the request's
DataLoaders (schema/context.py): one read and one audit write per field for the whole page. A PyMongo
command listener on a dedicated client counts every command a request sends.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import strawberry

from carecore.ids import new_id
from carecore.ports import Ports
from carecore.shifts.models import Shift, ShiftStatus, VisitCheck
from schema.context import Context
from tests.commands import CommandLog, counted
from tests.conftest import World
from tests.support import FakeClock, person, put_active_plan

PAGE = """query ($first: Int, $from: DateTime!, $to: DateTime!) {
  people(first: $first) {
    edges { node {
      id
      carePlanVersions(first: 5) { edges { node { id version } } }
      shifts(from: $from, to: $to, first: 10) { edges { node { id previousHandover { note } } } }
    } }
  }
}"""


@pytest.fixture
async def counted_ports(mongo_uri: str, database_name: str, ports: Ports) -> AsyncIterator[tuple[Ports, CommandLog]]:
    async with counted(mongo_uri, database_name, ports) as pair:
        yield pair


async def visit(ports: Ports, world: World, person_id: str, start: datetime, *, handover: str | None = None) -> None:
    """A scheduled visit; with a handover, checked in and out (the store's own writes) leaving it."""
    shift = Shift(
        id=new_id(),
        agency_id=world.agency.id,
        person_id=person_id,
        caregiver_id=world.caregiver_on_team.id,
        status=ShiftStatus.SCHEDULED,
        start=start,
        end=start + timedelta(hours=2),
        required_qualifications=(),
        notes="",
        revision=1,
        created_by=world.coordinator.id,
        created_at=start,
        updated_at=start,
    )
    await ports.store.shifts.insert(shift)
    if handover is None:
        return
    caregiver, end = world.caregiver_on_team.id, shift.end
    assert await ports.store.shifts.check_in(shift.id, caregiver, VisitCheck(start, None, None, True), None, start)
    done = await ports.store.shifts.check_out(
        shift.id,
        caregiver,
        VisitCheck(end, None, None, True),
        handover_note=handover,
        unlogged_critical_reason=None,
        task_log_size=0,
        now=end,
    )
    assert done is not None


async def seed(ports: Ports, world: World, clock: FakeClock, n: int) -> None:
    """n people, each with two plan versions, a visit to come and a completed one that left a handover:
    yesterday for even people, 40 days ago (before the handover read's first window) for odd ones."""
    now = clock.now()
    for i in range(n):
        p = person(world.agency.id, f"가나다 {i:03d}", now=now)
        await ports.store.people.insert(p)
        first = await put_active_plan(ports.store, p, world.coordinator, now)
        p = dataclasses.replace(p, active_care_plan_id=first.id)
        await put_active_plan(ports.store, p, world.coordinator, now)
        earlier = now - (timedelta(days=1) if i % 2 == 0 else timedelta(days=40))
        await visit(ports, world, p.id, earlier, handover=f"note {i}")
        await visit(ports, world, p.id, now + timedelta(hours=1))


async def run_page(schema: strawberry.Schema, ports: Ports, world: World, clock: FakeClock, first: int) -> Any:
    now = clock.now()
    variables = {
        "first": first,
        "from": (now - timedelta(days=2)).isoformat(),
        "to": (now + timedelta(days=2)).isoformat(),
    }
    context = Context(ports=ports, principal_or_none=world.coordinator.principal())
    result = await schema.execute(PAGE, variable_values=variables, context_value=context)
    assert result.errors is None and result.data is not None, result.errors
    return result.data["people"]["edges"]


async def test_round_trips_are_the_same_for_10_and_100_people(
    schema: strawberry.Schema, counted_ports: tuple[Ports, CommandLog], world: World, clock: FakeClock
) -> None:
    ports, log = counted_ports
    await seed(ports, world, clock, 100)
    await run_page(schema, ports, world, clock, 1)  # connections opened before counting

    commands: dict[int, Counter[str]] = {}
    for first in (10, 100):
        log.clear()
        edges = await run_page(schema, ports, world, clock, first)
        commands[first] = Counter(log.names)

        assert len(edges) == first
        for edge in edges:
            node = edge["node"]
            assert [v["node"]["version"] for v in node["carePlanVersions"]["edges"]] == [2, 1]
            shown = node["shifts"]["edges"]
            upcoming = shown[-1]["node"]
            assert upcoming["previousHandover"] is not None, (node, shown)
            assert upcoming["previousHandover"]["note"].startswith("note ")

    assert commands[10] == commands[100], commands
    assert sum(commands[100].values()) <= 12, commands[100]


async def test_a_bad_period_fails_only_the_fields_that_asked_with_it(
    schema: strawberry.Schema, ports: Ports, world: World, clock: FakeClock
) -> None:
    await seed(ports, world, clock, 2)
    now = clock.now()
    document = """query ($from: DateTime!, $to: DateTime!, $bad: DateTime!) {
      people(first: 2) { edges { node {
        good: shifts(from: $from, to: $to) { edges { node { id } } }
        bad: shifts(from: $from, to: $bad) { edges { node { id } } }
      } } }
    }"""
    variables = {
        "from": (now - timedelta(days=2)).isoformat(),
        "to": (now + timedelta(days=2)).isoformat(),
        "bad": (now - timedelta(days=3)).isoformat(),  # before `from`
    }
    context = Context(ports=ports, principal_or_none=world.coordinator.principal())
    result = await schema.execute(document, variable_values=variables, context_value=context)

    assert result.errors is not None and {e.path[-1] for e in result.errors if e.path} == {"bad"}
    assert all(e.extensions is not None and e.extensions["code"] == "BAD_USER_INPUT" for e in result.errors)
