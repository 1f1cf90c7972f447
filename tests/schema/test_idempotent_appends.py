"""Appending mutations take an idempotency key: a retry gets the first result, another request under the
same key a coded error and nothing written (issue 13)."""

from __future__ import annotations

from datetime import timedelta

from carecore.incidents import ingestion
from carecore.incidents.models import HumanReport, IncidentType
from carecore.ports import Ports
from carecore.shifts import visits
from carecore.shifts.scheduling import ShiftPlan, schedule_shift
from tests.conftest import World
from tests.schema.conftest import Execute
from tests.support import FakeClock

NOTE = """mutation ($input: AddIncidentNoteInput!) {
  addIncidentNote(input: $input) {
    __typename ... on IncidentPayload { incident { id timeline { action note } } }
  }
}"""


async def _incident(world: World, ports: Ports) -> str:
    report = HumanReport(world.minji.id, IncidentType.FALL, "Slipped in the bathroom")
    return (await ingestion.report_incident(ports, world.coordinator.principal(), report)).id


def _notes(timeline: list[dict[str, str]]) -> list[str]:
    return [t["note"] for t in timeline if t["action"] == "NOTE"]


async def test_an_incident_note_retried_with_its_key_is_written_once(
    world: World, execute: Execute, ports: Ports, clock: FakeClock
) -> None:
    incident_id = await _incident(world, ports)
    note = {"id": incident_id, "note": "보호자에게 연락함", "idempotencyKey": "note-1"}

    first = await execute(NOTE, {"input": note}, as_user=world.caregiver_on_team)
    clock.advance(timedelta(seconds=30))  # the phone lost the answer and sends it again
    again = await execute(NOTE, {"input": note}, as_user=world.caregiver_on_team)

    assert first.errors is None and again.errors is None, (first.errors, again.errors)
    assert again.data == first.data
    assert _notes(again.data["addIncidentNote"]["incident"]["timeline"]) == ["보호자에게 연락함"]


async def test_an_incident_note_key_reused_for_another_note_is_refused_and_writes_nothing(
    world: World, execute: Execute, ports: Ports
) -> None:
    incident_id = await _incident(world, ports)
    other_incident = await _incident(world, ports)
    await execute(
        NOTE, {"input": {"id": incident_id, "note": "첫 메모", "idempotencyKey": "k"}}, as_user=world.coordinator
    )
    before = await ports.store.incidents.get_many([incident_id, other_incident])

    for changed in ({"id": incident_id, "note": "다른 메모"}, {"id": other_incident, "note": "첫 메모"}):
        result = await execute(NOTE, {"input": {**changed, "idempotencyKey": "k"}}, as_user=world.coordinator)
        assert result.errors is not None, result.data
        assert result.errors[0].extensions == {"code": "IDEMPOTENCY_KEY_REUSED", "field": "idempotencyKey"}

    assert await ports.store.incidents.get_many([incident_id, other_incident]) == before
    # Another user's key is theirs alone.
    theirs = await execute(
        NOTE,
        {"input": {"id": incident_id, "note": "다른 메모", "idempotencyKey": "k"}},
        as_user=world.caregiver_on_team,
    )
    assert theirs.errors is None and theirs.data["addIncidentNote"]["__typename"] == "IncidentPayload"


LOG_TASK = """mutation ($input: LogTaskInput!) {
  logTask(input: $input) { __typename ... on ShiftPayload { shift { status taskLog { id outcome note } } } }
}"""
PROGRESS_NOTE = """mutation ($input: AddProgressNoteInput!) {
  addProgressNote(input: $input) { __typename ... on ShiftPayload { shift { progressNotes { text } } } }
}"""


async def test_a_task_log_retried_after_check_out_answers_with_the_first_entry_and_another_payload_is_refused(
    world: World, execute: Execute, ports: Ports, clock: FakeClock
) -> None:
    me = world.caregiver_on_team
    now = clock.now()
    shift = await schedule_shift(
        ports, world.coordinator.principal(), ShiftPlan(world.minji.id, now, now + timedelta(hours=3), me.id)
    )
    started = await visits.check_in(ports, me.principal(), shift.id, location=None)
    plan = await ports.store.care_plans.get(started.plan_id or "")
    assert plan is not None
    task = {"shiftId": shift.id, "taskId": plan.content.tasks[0].id, "outcome": "DONE", "idempotencyKey": "t-1"}

    first = await execute(LOG_TASK, {"input": task}, as_user=me)
    assert first.errors is None and first.data["logTask"]["__typename"] == "ShiftPayload", first
    clock.advance(timedelta(hours=3))
    await visits.check_out(ports, me.principal(), shift.id, location=None, reason="복용 완료 후 귀가")

    retried = await execute(LOG_TASK, {"input": task}, as_user=me)
    changed = await execute(LOG_TASK, {"input": {**task, "note": "다른 기록"}}, as_user=me)

    assert retried.errors is None, retried.errors
    [entry] = retried.data["logTask"]["shift"]["taskLog"]
    assert entry == first.data["logTask"]["shift"]["taskLog"][0]
    assert changed.errors is not None and changed.errors[0].extensions["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_a_progress_note_key_reused_for_another_text_is_refused(
    world: World, execute: Execute, ports: Ports, clock: FakeClock
) -> None:
    me = world.caregiver_on_team
    now = clock.now()
    plan = ShiftPlan(world.minji.id, now, now + timedelta(hours=3), me.id)
    shift = await schedule_shift(ports, world.coordinator.principal(), plan)
    await visits.check_in(ports, me.principal(), shift.id, location=None)
    note = {"shiftId": shift.id, "text": "점심 잘 드심", "idempotencyKey": "n-1"}

    first = await execute(PROGRESS_NOTE, {"input": note}, as_user=me)
    again = await execute(PROGRESS_NOTE, {"input": note}, as_user=me)
    other = await execute(PROGRESS_NOTE, {"input": {**note, "text": "낮잠"}}, as_user=me)

    assert again.data == first.data and again.data["addProgressNote"]["shift"]["progressNotes"] == [
        {"text": "점심 잘 드심"}
    ]
    assert other.errors is not None and other.errors[0].extensions["code"] == "IDEMPOTENCY_KEY_REUSED"
    stored = await ports.store.shifts.get(shift.id)
    assert stored is not None and [n.text for n in stored.progress_notes] == ["점심 잘 드심"]
