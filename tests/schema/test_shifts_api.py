"""Shifts through GraphQL: refusals a client can act on, local times, and what family may see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from carecore.access.principal import Role
from carecore.people.models import GuardianPermission
from carecore.ports import Ports
from carecore.shifts import visits
from carecore.shifts.scheduling import ShiftPlan, schedule_shift
from tests.conftest import World
from tests.schema.conftest import Execute
from tests.support import link, user

SCHEDULE = """
mutation ($input: ScheduleShiftInput!) {
  scheduleShift(input: $input) {
    __typename
    ... on ShiftPayload { shift { id start end status caregiver { displayName } } }
    ... on ShiftConflictError { message field conflictingShiftId conflictingShift { id start } }
    ... on WeeklyHoursExceededError { weekStart scheduledHours shiftHours limitHours }
  }
}
"""


def schedule_input(world: World, start: str, end: str, **more: Any) -> dict[str, Any]:
    return {"input": {"personId": world.minji.id, "start": start, "end": end, **more}}


async def test_an_overlap_answers_with_the_conflicting_shift_in_seoul_time(world: World, execute: Execute) -> None:
    caregiver = world.caregiver_on_team.id
    first = await execute(
        SCHEDULE,
        schedule_input(world, "2026-11-26T09:00:00+09:00", "2026-11-26T13:00:00+09:00", caregiverId=caregiver),
        as_user=world.coordinator,
    )
    created = first.data["scheduleShift"]
    assert created["__typename"] == "ShiftPayload"
    assert created["shift"]["start"] == "2026-11-26T09:00:00+09:00"
    assert created["shift"]["caregiver"]["displayName"] == "박서준"

    second = await execute(
        SCHEDULE,
        schedule_input(world, "2026-11-26T03:00:00Z", "2026-11-26T05:00:00Z", caregiverId=caregiver),
        as_user=world.coordinator,
    )

    refused = second.data["scheduleShift"]
    assert refused["__typename"] == "ShiftConflictError" and refused["field"] == "caregiverId"
    assert refused["conflictingShiftId"] == created["shift"]["id"]
    assert refused["conflictingShift"] == {"id": created["shift"]["id"], "start": "2026-11-26T09:00:00+09:00"}


async def test_a_family_member_sees_the_visit_but_not_its_record(world: World, execute: Execute, ports: Ports) -> None:
    now = ports.clock.now()
    plan = ShiftPlan(world.minji.id, now + timedelta(minutes=5), now + timedelta(hours=2), world.caregiver_on_team.id)
    shift = await schedule_shift(ports, world.coordinator.principal(), plan)
    await visits.check_in(ports, world.caregiver_on_team.principal(), shift.id, location=None)
    await visits.add_progress_note(ports, world.caregiver_on_team.principal(), shift.id, text="점심 잘 드심")
    document = """query ($id: ID!) {
      shift(id: $id) { status checkIn { at outsideGeofence } progressNotes { text } caregiver { displayName } }
    }"""

    as_family = await execute(document, {"id": shift.id}, as_user=world.guardian_visits_only)
    as_caregiver = await execute(document, {"id": shift.id}, as_user=world.caregiver_on_team)

    family_view = as_family.data["shift"]
    assert family_view["status"] == "IN_PROGRESS" and family_view["checkIn"]["at"].endswith("+09:00")
    assert family_view["progressNotes"] == [] and family_view["caregiver"] == {"displayName": "박서준"}
    assert as_caregiver.data["shift"]["progressNotes"] == [{"text": "점심 잘 드심"}]


async def test_a_guardian_without_visits_gets_null_for_the_shift_and_no_visits_of_the_person(
    world: World, execute: Execute, ports: Ports
) -> None:
    now = ports.clock.now()
    plan = ShiftPlan(world.minji.id, now + timedelta(hours=1), now + timedelta(hours=3), world.caregiver_on_team.id)
    shift = await schedule_shift(ports, world.coordinator.principal(), plan)
    relative = user(world.agency.id, Role.FAMILY, "최민호", now=now)
    await ports.store.users.insert(relative)
    await link(ports.store, world.minji, relative, frozenset({GuardianPermission.PLAN}), now)
    period = {"from": now.isoformat(), "to": (now + timedelta(days=1)).isoformat()}
    document = """query ($id: ID!, $person: ID!, $from: DateTime!, $to: DateTime!) {
      shift(id: $id) { id }
      person(id: $person) { name shifts(from: $from, to: $to) { edges { node { id } } } }
    }"""

    result = await execute(document, {"id": shift.id, "person": world.minji.id, **period}, as_user=relative)

    assert result.errors is None
    assert result.data == {"shift": None, "person": {"name": "최민지", "shifts": {"edges": []}}}
