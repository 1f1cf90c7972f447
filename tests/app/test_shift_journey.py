"""Over HTTP with real tokens: a coordinator schedules a caregiver who is on no care team; from then on
that caregiver sees the person, finds the shift in their own list and checks in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from carecore.access.principal import Role
from carecore.agencies.models import Agency
from carecore.ids import new_id
from carecore.storage.store import Store
from tests.app.conftest import Gql, MakeAccount
from tests.support import person

SCHEDULE = """
mutation ($input: ScheduleShiftInput!) {
  scheduleShift(input: $input) {
    __typename
    ... on ShiftPayload { shift { id status } }
    ... on UserError { message field }
  }
}"""

MINE = """
query ($from: DateTime!, $to: DateTime!, $person: ID!) {
  person(id: $person) { name }
  myShifts(from: $from, to: $to) { edges { node { id status person { name } } } }
}"""

CHECK_IN = """
mutation ($id: ID!) {
  checkIn(input: {shiftId: $id, location: {latitude: 37.2664, longitude: 127.0443, accuracyM: 8}}) {
    __typename
    ... on ShiftPayload { shift { status checkIn { outsideGeofence } } }
    ... on UserError { message }
  }
}"""


async def test_a_scheduled_caregiver_sees_the_person_and_checks_in(
    gql: Gql, make_account: MakeAccount, store: Store
) -> None:
    agency = Agency(id=new_id(), name="수원 돌봄 센터")
    await store.agencies.upsert(agency)
    _, coordinator = await make_account(Role.COORDINATOR, agency.id, "김지현")
    caregiver, caregiver_token = await make_account(Role.CAREGIVER, agency.id, "이도윤")
    now = datetime.now(UTC)
    minji = person(agency.id, "최민지", now=now)
    await store.people.insert(minji)
    window = {"from": (now - timedelta(hours=1)).isoformat(), "to": (now + timedelta(days=1)).isoformat()}
    before = await gql(MINE, {**window, "person": minji.id}, token=caregiver_token)
    assert before["data"]["person"] is None

    scheduled = await gql(
        SCHEDULE,
        {
            "input": {
                "personId": minji.id,
                "caregiverId": caregiver.id,
                "start": (now + timedelta(minutes=5)).isoformat(),
                "end": (now + timedelta(hours=3)).isoformat(),
                "idempotencyKey": "journey-1",
            }
        },
        token=coordinator,
    )
    shift = scheduled["data"]["scheduleShift"]
    assert shift["__typename"] == "ShiftPayload", shift

    after = await gql(MINE, {**window, "person": minji.id}, token=caregiver_token)
    assert after["data"]["person"] == {"name": "최민지"}
    assert after["data"]["myShifts"]["edges"] == [
        {"node": {"id": shift["shift"]["id"], "status": "SCHEDULED", "person": {"name": "최민지"}}}
    ]
    checked_in = await gql(CHECK_IN, {"id": shift["shift"]["id"]}, token=caregiver_token)
    assert checked_in["data"]["checkIn"] == {
        "__typename": "ShiftPayload",
        "shift": {"status": "IN_PROGRESS", "checkIn": {"outsideGeofence": False}},
    }
