"""Delta sync for mobile caches: `updatedSince` on my shifts, incidents and notifications (issue 13)."""

from __future__ import annotations

from datetime import timedelta

from carecore.incidents import ingestion
from carecore.incidents import service as incidents
from carecore.incidents.models import HumanReport, IncidentType
from carecore.ports import Ports
from carecore.shifts.scheduling import ShiftPlan, assign_shift, cancel_shift, schedule_shift
from tests.conftest import World
from tests.schema.conftest import Execute
from tests.schema.test_authorization_matrix import guardians_notification
from tests.support import FakeClock

MY_SHIFTS = """query ($from: DateTime!, $to: DateTime!, $since: DateTime!, $after: String) {
  myShifts(from: $from, to: $to, updatedSince: $since, first: 1, after: $after) {
    edges { node { id status updatedAt } } pageInfo { hasNextPage endCursor }
  }
  former: myFormerShiftIds(from: $from, to: $to, updatedSince: $since)
}"""


async def test_a_delta_of_my_shifts_shows_a_cancelled_one_with_its_status_and_names_the_one_taken_away(
    world: World, execute: Execute, ports: Ports, clock: FakeClock
) -> None:
    coordinator, mine = world.coordinator.principal(), world.caregiver_on_team.id
    now = clock.now()
    days = [timedelta(days=d) for d in (1, 2, 3)]
    plans = [ShiftPlan(world.minji.id, now + d, now + d + timedelta(hours=3), mine) for d in days]
    shifts = [await schedule_shift(ports, coordinator, plan) for plan in plans]
    period = {"from": now.isoformat(), "to": (now + timedelta(days=7)).isoformat()}
    clock.advance(timedelta(minutes=1))
    synced = clock.now()
    clock.advance(timedelta(minutes=1))
    await cancel_shift(ports, coordinator, shifts[0].id, reason="가족 여행")
    await assign_shift(ports, coordinator, shifts[2].id, caregiver_id=world.caregiver_off_team.id, reason="병가")

    first = await execute(MY_SHIFTS, {**period, "since": synced.isoformat()}, as_user=world.caregiver_on_team)
    assert first.errors is None, first.errors
    page = first.data["myShifts"]
    assert [e["node"]["id"] for e in page["edges"]] == [shifts[0].id]
    assert page["edges"][0]["node"]["status"] == "CANCELLED" and page["pageInfo"]["hasNextPage"] is False
    # The untouched shift is not sent again; the one given to someone else is named, not shown.
    assert first.data["former"] == [shifts[2].id]

    newest = page["edges"][0]["node"]["updatedAt"]
    later = await execute(MY_SHIFTS, {**period, "since": newest}, as_user=world.caregiver_on_team)
    assert later.data["myShifts"]["edges"] == [] and later.data["former"] == []


async def test_a_delta_of_my_shifts_pages_in_the_order_of_change(
    world: World, execute: Execute, ports: Ports, clock: FakeClock
) -> None:
    coordinator, mine = world.coordinator.principal(), world.caregiver_on_team.id
    now = clock.now()
    period = {"from": now.isoformat(), "to": (now + timedelta(days=7)).isoformat()}
    ids = []
    for d in (3, 1):  # the later shift changes first
        clock.advance(timedelta(seconds=1))
        plan = ShiftPlan(world.minji.id, now + timedelta(days=d), now + timedelta(days=d, hours=3), mine)
        ids.append((await schedule_shift(ports, coordinator, plan)).id)

    seen, after = [], None
    while True:
        result = await execute(
            MY_SHIFTS, {**period, "since": now.isoformat(), "after": after}, as_user=world.caregiver_on_team
        )
        page = result.data["myShifts"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ids


INCIDENTS = """query ($since: DateTime) {
  incidents(updatedSince: $since) { edges { node { id status updatedAt } } }
}"""


async def test_a_delta_of_incidents_holds_only_those_that_changed(
    world: World, execute: Execute, ports: Ports, clock: FakeClock
) -> None:
    coordinator = world.coordinator.principal()
    report = HumanReport(world.minji.id, IncidentType.FALL, "Slipped in the bathroom")
    quiet = await ingestion.report_incident(ports, coordinator, report)
    changed = await ingestion.report_incident(ports, coordinator, report)
    clock.advance(timedelta(minutes=1))
    synced = clock.now()
    clock.advance(timedelta(minutes=1))
    await incidents.resolve_incident(ports, coordinator, changed.id, outcome="No injury")

    result = await execute(INCIDENTS, {"since": synced.isoformat()}, as_user=world.caregiver_on_team)

    assert result.errors is None, result.errors
    nodes = [e["node"] for e in result.data["incidents"]["edges"]]
    assert [(n["id"], n["status"]) for n in nodes] == [(changed.id, "RESOLVED")]
    assert quiet.id not in {n["id"] for n in nodes}


NOTIFICATIONS = """query ($since: DateTime) {
  notifications(updatedSince: $since) { edges { node { id readAt updatedAt } } }
}"""
MARK_READ = """mutation ($input: NotificationInput!) {
  markRead(input: $input) { __typename }
}"""


async def test_a_delta_of_the_inbox_shows_a_notification_read_on_another_phone(
    world: World, execute: Execute, ports: Ports, clock: FakeClock
) -> None:
    notification_id = await guardians_notification(world, ports.store)
    clock.advance(timedelta(minutes=1))
    synced = clock.now()
    before = await execute(NOTIFICATIONS, {"since": synced.isoformat()}, as_user=world.guardian)
    assert before.data["notifications"]["edges"] == []

    clock.advance(timedelta(minutes=1))
    read = await execute(MARK_READ, {"input": {"id": notification_id}}, as_user=world.guardian)
    assert read.errors is None, read.errors

    after = await execute(NOTIFICATIONS, {"since": synced.isoformat()}, as_user=world.guardian)
    [node] = [e["node"] for e in after.data["notifications"]["edges"]]
    assert node["id"] == notification_id and node["readAt"] is not None
    assert node["updatedAt"] == node["readAt"]


async def test_updated_since_needs_an_offset(world: World, execute: Execute) -> None:
    result = await execute(INCIDENTS, {"since": "2026-11-25T00:00:00"}, as_user=world.coordinator)
    assert result.errors and result.errors[0].extensions["code"] == "BAD_USER_INPUT"
