"""I3: every critical task occurrence missed, refused or not done raises exactly one incident, with the
plan's risk protocol, and it escalates. Followed from the visit through `shift.critical_task_missed`
to the incident module's worker and the incident's first ladder step."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC

import pytest

from carecore.care_plans.models import RiskProtocol, SupportTask, TaskCategory, TaskSchedule
from carecore.incidents.models import Incident, IncidentSource, IncidentType, Severity
from carecore.incidents.worker import IncidentWorker
from carecore.ports import Ports
from carecore.shifts import visits
from carecore.shifts.errors import CriticalTasksUnlogged
from carecore.shifts.jobs import run_due_jobs
from carecore.shifts.models import Shift, ShiftStatus, TaskOutcome
from carecore.storage.store import Store
from carecore.users.models import User
from tests.conftest import World
from tests.shifts.conftest import Shifts
from tests.support import plan_content

SEIZURE_MEDICINE_PROTOCOL = "복용 누락 시 보호자와 주치의에게 즉시 연락, 발작 관찰"
TURNING_PROTOCOL = "체위 변경 누락 시 피부 상태 확인 후 간호사에게 보고"


async def put_plan_with_protocols(store: Store, world: World) -> tuple[str, str]:
    """Minji's active plan: the critical anticonvulsant at 08:00 and 20:00, a critical turn every hour,
    and risk protocols for both types. Returns (medicine task id, turning task id)."""
    minji = await store.people.get(world.minji.id)
    assert minji is not None and minji.active_care_plan_id is not None
    plan = await store.care_plans.get(minji.active_care_plan_id)
    assert plan is not None
    medicine = plan.content.tasks[0]
    turning = SupportTask(
        "turning", TaskCategory.MOBILITY, "체위 변경", "매시간", TaskSchedule(every_hours=1), critical=True
    )
    content = replace(
        plan_content(),
        tasks=(medicine, turning),
        risk_protocols=(
            RiskProtocol(IncidentType.MEDICATION, SEIZURE_MEDICINE_PROTOCOL),
            RiskProtocol(IncidentType.OTHER, TURNING_PROTOCOL),
        ),
    )
    await store.db["care_plans"].delete_one({"_id": plan.id})  # rewritten in place, as fixtures do
    await store.care_plans.insert(replace(plan, content=content))
    return medicine.id, turning.id


async def incidents_of(ports: Ports, shift: Shift) -> list[Incident]:
    docs = await ports.store.db["incidents"].find({"related_shift_id": shift.id}).to_list()
    found = [await ports.store.incidents.get(d["_id"]) for d in docs]
    return sorted((i for i in found if i is not None), key=lambda i: i.created_at)


async def medication_incidents(ports: Ports, shift: Shift) -> list[Incident]:
    return [i for i in await incidents_of(ports, shift) if i.type is IncidentType.MEDICATION]


async def handle_events(ports: Ports) -> None:
    await asyncio.gather(IncidentWorker(ports).run_once(), IncidentWorker(ports).run_once())


@pytest.fixture
async def tasks(shifts: Shifts, ports: Ports) -> tuple[str, str]:
    return await put_plan_with_protocols(ports.store, shifts.world)


@pytest.fixture
def me(shifts: Shifts) -> User:
    return shifts.world.caregiver_on_team


async def started_visit(shifts: Shifts, ports: Ports, me: User) -> Shift:
    """Minji tomorrow 07:00-10:00 (the anticonvulsant is due at 08:00, turns at 07, 08 and 09), checked
    in at 06:55."""
    shift = await shifts.schedule(me, shifts.local(1, 7), shifts.local(1, 10))
    shifts.set_clock(1, 6, 55)
    return await visits.check_in(ports, me.principal(), shift.id, location=None)


async def test_a_critical_medicine_checked_out_without_opens_one_medication_incident_with_the_protocol(
    shifts: Shifts, ports: Ports, tasks: tuple[str, str], me: User
) -> None:
    medicine, turning = tasks
    shift = await started_visit(shifts, ports, me)
    for hour in (7, 8, 9):  # every turn is logged: only the medicine is left
        shifts.set_clock(1, hour, 5)
        await visits.log_task(ports, me.principal(), shift.id, task_id=turning, outcome=TaskOutcome.DONE)

    await visits.check_out(ports, me.principal(), shift.id, location=None, reason="약이 떨어져 보호자에게 연락함")
    await handle_events(ports)
    await handle_events(ports)

    [incident] = await incidents_of(ports, shift)
    assert (incident.type, incident.source, incident.severity) == (
        IncidentType.MEDICATION,
        IncidentSource.SYSTEM,
        Severity.HIGH,
    )
    assert SEIZURE_MEDICINE_PROTOCOL in incident.summary and "항경련제 복용" in incident.summary
    assert incident.evidence is not None and incident.evidence.summary == SEIZURE_MEDICINE_PROTOCOL
    signals = {s.name: s.value for s in incident.evidence.signals}
    due = shifts.local(1, 8).astimezone(UTC).isoformat()
    assert signals == {"task_id": medicine, "due_at": due, "outcome": "MISSED"}
    # It escalates: the ladder's first step ran and asked for alerts; the next step is due.
    assert len(await ports.store.alert_requests.for_subject(incident.id)) == 1
    assert incident.escalation.due_at is not None
    assert (
        await ports.store.events.unclaimed("critical-tasks", ["shift.critical_task_missed"], now=ports.clock.now())
        == []
    )


async def test_a_critical_task_refused_raises_its_incident_at_once_and_only_once(
    shifts: Shifts, ports: Ports, tasks: tuple[str, str], me: User
) -> None:
    medicine, _ = tasks
    shift = await started_visit(shifts, ports, me)
    shifts.set_clock(1, 8, 2)

    for key in ("a", "b"):  # refused twice (a second try), then given after all
        await visits.log_task(
            ports,
            me.principal(),
            shift.id,
            task_id=medicine,
            outcome=TaskOutcome.REFUSED,
            reason="삼키기를 거부",
            idempotency_key=key,
        )
    await handle_events(ports)
    [incident] = await medication_incidents(ports, shift)  # the 07:00 turn is overdue too: its own incident
    assert "was refused" in incident.summary

    await visits.log_task(ports, me.principal(), shift.id, task_id=medicine, outcome=TaskOutcome.DONE)
    shifts.set_clock(1, 9)
    await run_due_jobs(ports, owner="jobs")
    await visits.check_out(ports, me.principal(), shift.id, location=None, reason="턴 과제 누락")
    await handle_events(ports)

    assert [i.id for i in await medication_incidents(ports, shift)] == [incident.id]


async def test_a_task_not_done_raises_an_other_incident_with_its_protocol(
    shifts: Shifts, ports: Ports, tasks: tuple[str, str], me: User
) -> None:
    _, turning = tasks
    shift = await started_visit(shifts, ports, me)
    shifts.set_clock(1, 7, 5)

    await visits.log_task(
        ports, me.principal(), shift.id, task_id=turning, outcome=TaskOutcome.NOT_DONE, reason="통증 호소"
    )
    await handle_events(ports)

    [incident] = await incidents_of(ports, shift)
    assert incident.type is IncidentType.OTHER and TURNING_PROTOCOL in incident.summary
    assert "was not done" in incident.summary


async def test_an_occurrence_overdue_during_the_visit_raises_one_incident_thirty_minutes_after_its_time(
    shifts: Shifts, ports: Ports, tasks: tuple[str, str], me: User
) -> None:
    medicine, turning = tasks
    shift = await started_visit(shifts, ports, me)
    await run_due_jobs(ports, owner="jobs")
    for hour in (7, 8):
        shifts.set_clock(1, hour)
        await visits.log_task(ports, me.principal(), shift.id, task_id=turning, outcome=TaskOutcome.DONE)

    shifts.set_clock(1, 8, 29)
    await asyncio.gather(run_due_jobs(ports, owner="a"), run_due_jobs(ports, owner="b"))
    await handle_events(ports)
    assert await incidents_of(ports, shift) == []

    shifts.set_clock(1, 8, 30)
    await asyncio.gather(run_due_jobs(ports, owner="a"), run_due_jobs(ports, owner="b"))
    await handle_events(ports)
    [incident] = await incidents_of(ports, shift)
    assert incident.type is IncidentType.MEDICATION and "was not logged" in incident.summary

    # Logged late, then checked out: still the one incident for the 08:00 dose.
    shifts.set_clock(1, 8, 40)
    await visits.log_task(
        ports, me.principal(), shift.id, task_id=medicine, outcome=TaskOutcome.NOT_DONE, reason="늦게 발견"
    )
    shifts.set_clock(1, 9, 55)
    await visits.log_task(ports, me.principal(), shift.id, task_id=turning, outcome=TaskOutcome.DONE)
    await visits.check_out(ports, me.principal(), shift.id, location=None)
    await run_due_jobs(ports, owner="a")
    await handle_events(ports)

    assert [i.id for i in await incidents_of(ports, shift)] == [incident.id]
    done = await ports.store.db["shifts"].find_one({"_id": shift.id})
    assert done is not None and done["task_check_at"] is None and done["status"] == ShiftStatus.COMPLETED.value


async def test_critical_tasks_done_on_time_raise_nothing(
    shifts: Shifts, ports: Ports, tasks: tuple[str, str], me: User
) -> None:
    medicine, turning = tasks
    shift = await started_visit(shifts, ports, me)
    shifts.set_clock(1, 7, 40)  # a little early, and still the 08:00 dose
    await visits.log_task(ports, me.principal(), shift.id, task_id=medicine, outcome=TaskOutcome.DONE)
    for hour, minute in ((7, 5), (8, 10), (9, 20)):
        shifts.set_clock(1, hour, minute)
        await visits.log_task(ports, me.principal(), shift.id, task_id=turning, outcome=TaskOutcome.DONE)
        await run_due_jobs(ports, owner="jobs")

    shifts.set_clock(1, 10)
    await visits.check_out(ports, me.principal(), shift.id, location=None)
    await run_due_jobs(ports, owner="jobs")
    await handle_events(ports)

    assert await incidents_of(ports, shift) == []
    assert await ports.store.events.since(shifts.local(0, 0), kinds=["shift.critical_task_missed"]) == []


async def test_check_out_needs_an_entry_near_each_occurrence_not_just_as_many_entries(
    shifts: Shifts, ports: Ports, tasks: tuple[str, str], me: User
) -> None:
    """Three entries at 08:05 cover the 08:00 turn, not those of 07:00 and 09:00: counting entries
    against occurrences let check-out through with two turns that nobody reported."""
    _, turning = tasks
    shift = await started_visit(shifts, ports, me)
    shifts.set_clock(1, 8, 5)
    for key in ("x", "y", "z"):
        await visits.log_task(
            ports, me.principal(), shift.id, task_id=turning, outcome=TaskOutcome.DONE, idempotency_key=key
        )
    await visits.log_task(ports, me.principal(), shift.id, task_id=tasks[0], outcome=TaskOutcome.DONE)

    shifts.set_clock(1, 9, 35)
    with pytest.raises(CriticalTasksUnlogged) as refused:
        await visits.check_out(ports, me.principal(), shift.id, location=None)
    assert refused.value.task_ids == (turning,)
