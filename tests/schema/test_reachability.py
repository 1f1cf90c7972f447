"""Reachability through GraphQL: coordinators set the call schedule (audited, no night calls), record the
human call of their task, and see who is unreachable longest first with the last human contact."""

from __future__ import annotations

from datetime import timedelta

from carecore.incidents.models import AiService
from carecore.ports import Ports
from carecore.reachability.models import CallOutcome
from tests.carecore.reachability.conftest import JIHO_REF, call, calls  # noqa: F401 - the `calls` fixture
from tests.carecore.reachability.test_ladder import race
from tests.conftest import World
from tests.schema.conftest import Execute
from tests.support import FakeClock

SET = """mutation ($input: SetCallScheduleInput!) { setCallSchedule(input: $input) {
  __typename ... on UserError { message field }
  ... on SetCallSchedulePayload { reachability { state nextCallAt schedule { weekday time } } } } }"""
HUMAN = """mutation ($input: RecordHumanContactInput!) { recordHumanContact(input: $input) {
  __typename ... on RecordHumanContactPayload { duplicate reachability { state unanswered lastHumanContactAt } } } }"""
UNREACHABLE = """{ unreachablePeople { person { name } reachability { state unanswered unreachableSince }
  lastHumanContact { kind outcome recordedById } } }"""


async def test_a_coordinator_sets_the_weekly_calls_in_the_agency_zone_and_it_is_audited(
    execute: Execute, world: World, ports: Ports
) -> None:
    slots = [{"weekday": 2, "time": "10:00"}, {"weekday": 5, "time": "14:30"}]
    result = await execute(SET, {"input": {"personId": world.minji.id, "slots": slots}}, as_user=world.coordinator)

    payload = result.data["setCallSchedule"]
    assert payload["reachability"]["schedule"] == slots
    assert payload["reachability"]["nextCallAt"] == "2026-11-25T01:00:00+00:00"  # Wednesday 10:00 in Seoul
    audit = await ports.store.db["audit"].find({"action": "reachability.schedule"}).to_list()
    assert [(a["object_id"], a["outcome"]) for a in audit] == [(world.minji.id, "done")]


async def test_no_ai_call_may_be_scheduled_at_night(execute: Execute, world: World) -> None:
    night = {"personId": world.minji.id, "slots": [{"weekday": 0, "time": "21:30"}]}
    result = await execute(SET, {"input": night}, as_user=world.coordinator)
    assert result.data["setCallSchedule"]["__typename"] == "ValidationError"


async def test_unreachable_people_come_longest_first_and_a_human_call_resolves_one(
    execute: Execute,
    world: World,
    ports: Ports,
    clock: FakeClock,
    calls: AiService,  # noqa: F811
) -> None:
    for attempt in (1, 2, 3):
        await call(ports, world, calls, CallOutcome.NOT_ANSWERED, attempt=attempt)
        clock.advance(timedelta(minutes=5))
    await call(ports, world, calls, CallOutcome.NOT_ANSWERED, attempt=1, ref=JIHO_REF)
    await race(ports)
    minji_reached = {"personId": world.minji.id, "kind": "HUMAN_CALL", "outcome": "NOT_REACHED", "idempotencyKey": "a"}
    await execute(HUMAN, {"input": minji_reached}, as_user=world.coordinator)

    listed = (await execute(UNREACHABLE, as_user=world.coordinator)).data["unreachablePeople"]
    assert [(p["person"]["name"], p["reachability"]["state"]) for p in listed] == [
        ("최민지", "VISIT_REQUESTED"),
        ("정지호", "UNANSWERED"),
    ]
    assert listed[0]["lastHumanContact"] == {
        "kind": "HUMAN_CALL",
        "outcome": "NOT_REACHED",
        "recordedById": world.coordinator.id,
    }
    assert listed[1]["lastHumanContact"] is None

    visit = {"personId": world.minji.id, "kind": "VISIT", "outcome": "REACHED", "idempotencyKey": "v"}
    first = (await execute(HUMAN, {"input": visit}, as_user=world.caregiver_on_team)).data["recordHumanContact"]
    again = (await execute(HUMAN, {"input": visit}, as_user=world.caregiver_on_team)).data["recordHumanContact"]

    assert first["reachability"]["state"] == "RESOLVED" and first["duplicate"] is False
    assert again["duplicate"] is True
    listed = (await execute(UNREACHABLE, as_user=world.coordinator)).data["unreachablePeople"]
    assert [p["person"]["name"] for p in listed] == ["정지호"]


async def test_a_human_who_finds_the_person_in_need_opens_an_incident(
    execute: Execute,
    world: World,
    ports: Ports,
    calls: AiService,  # noqa: F811
) -> None:
    needs = {"personId": world.minji.id, "kind": "VISIT", "outcome": "NEEDS_HELP", "idempotencyKey": "n"}
    result = (await execute(HUMAN, {"input": needs}, as_user=world.caregiver_on_team)).data["recordHumanContact"]
    assert result["reachability"]["state"] == "OK"
    query = {"person_id": world.minji.id, "summary": "Reached by a human, who found the person needs help."}
    assert await ports.store.db["incidents"].count_documents(query) == 1


LADDER = "{ reachabilityLadder { isDefault unansweredCalls retryAfterMinutes noCallsFrom riskWords } }"
SET_LADDER = """mutation ($input: SetReachabilityLadderInput!) { setReachabilityLadder(input: $input) {
  __typename ... on UserError { message field } ... on SetReachabilityLadderPayload { ladder { isDefault } } } }"""


def ladder_input(**changes: object) -> dict[str, object]:
    given: dict[str, object] = {
        "unansweredCalls": 2,
        "retryAfterMinutes": 90,
        "outcomeGraceMinutes": 30,
        "checkAnswerWithinMinutes": 30,
        "humanCallWithinMinutes": 180,
        "visitWithinMinutes": 240,
        "noCallsFrom": "22:00",
        "noCallsUntil": "07:00",
        "riskWords": [" 아프다 ", "살려", "아프다"],
    }
    return {"input": {**given, **changes}}


async def test_a_coordinator_sets_the_agency_ladder_and_the_next_step_follows_it(
    execute: Execute,
    world: World,
    ports: Ports,
    calls: AiService,  # noqa: F811
) -> None:
    before = (await execute(LADDER, as_user=world.coordinator)).data["reachabilityLadder"]
    result = await execute(SET_LADDER, ladder_input(), as_user=world.coordinator)
    after = (await execute(LADDER, as_user=world.coordinator)).data["reachabilityLadder"]

    assert before["isDefault"] and before["unansweredCalls"] == 3
    assert result.data["setReachabilityLadder"] == {
        "__typename": "SetReachabilityLadderPayload",
        "ladder": {"isDefault": False},
    }
    assert after == {
        "isDefault": False,
        "unansweredCalls": 2,
        "retryAfterMinutes": 90,
        "noCallsFrom": "22:00",
        "riskWords": ["아프다", "살려"],
    }
    audit = await ports.store.db["audit"].find({"action": "reachability.ladder"}).to_list()
    assert [(a["object_id"], a["actor_id"]) for a in audit] == [(world.agency.id, world.coordinator.id)]

    for attempt in (1, 2):  # two unanswered calls now bring a human, not three
        await call(ports, world, calls, CallOutcome.NOT_ANSWERED, attempt=attempt)
    await race(ports)
    state = await ports.store.reachability.get(world.minji.id)
    assert state is not None and state.state.value == "HUMAN_CALLING"


async def test_a_ladder_that_could_leave_someone_unreached_for_a_day_is_refused_and_nothing_changes(
    execute: Execute, world: World, ports: Ports
) -> None:
    slow = ladder_input(unansweredCalls=10, retryAfterMinutes=180)
    result = await execute(SET_LADDER, slow, as_user=world.coordinator)
    empty = await execute(SET_LADDER, ladder_input(riskWords=[" "]), as_user=world.coordinator)

    assert result.data["setReachabilityLadder"]["__typename"] == "ValidationError"
    assert result.data["setReachabilityLadder"]["field"] == "unansweredCalls"
    assert empty.data["setReachabilityLadder"]["field"] == "riskWords"
    assert (await execute(LADDER, as_user=world.coordinator)).data["reachabilityLadder"]["isDefault"]
    assert await ports.store.db["audit"].count_documents({"action": "reachability.ladder"}) == 0
