"""The visit: check-in window, geofence, task log, check-out with critical tasks, notes and handover."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from carecore.alerts.models import AlertKind
from carecore.errors import NotFound, StateConflict, ValidationFailed
from carecore.people.models import HomeLocation
from carecore.ports import Ports
from carecore.shifts import visits
from carecore.shifts.errors import CheckInNotOpen, CriticalTasksUnlogged
from carecore.shifts.models import Location, Shift, ShiftStatus, TaskOutcome
from tests.shifts.conftest import Shifts

HOME = HomeLocation("경기도 수원시 영통구 매탄로 120", 37.2664, 127.0443, 150)
AT_HOME = Location(37.2665, 127.0444, 10)
ACROSS_TOWN = Location(37.2900, 127.0100, 10)  # about 4 km away


@pytest.fixture
async def morning(shifts: Shifts, ports: Ports) -> Shift:
    """Minji (at home in Suwon) tomorrow 07:00-10:00 with the caregiver on her team; her plan has a
    critical anticonvulsant at 08:00."""
    minji = shifts.world.minji
    await ports.store.people.update_profile(
        minji, replace(minji.profile, home=HOME), expected_revision=minji.revision, now=shifts.clock.now()
    )
    return await shifts.schedule(shifts.world.caregiver_on_team, shifts.local(1, 7), shifts.local(1, 10))


async def plan_task(ports: Ports, shift: Shift) -> str:
    assert shift.plan_id is not None
    plan = await ports.store.care_plans.get(shift.plan_id)
    assert plan is not None
    return next(t.id for t in plan.content.tasks if t.critical)


async def test_check_in_opens_fifteen_minutes_before_the_start(shifts: Shifts, ports: Ports, morning: Shift) -> None:
    me = shifts.world.caregiver_on_team.principal()
    shifts.set_clock(1, 6, 44)

    with pytest.raises(CheckInNotOpen) as refused:
        await visits.check_in(ports, me, morning.id, location=AT_HOME)
    assert refused.value.opens_at == shifts.local(1, 6, 45)

    shifts.set_clock(1, 6, 45)
    started = await visits.check_in(ports, me, morning.id, location=AT_HOME)
    assert started.status is ShiftStatus.IN_PROGRESS and started.check_in is not None
    assert started.check_in.outside_geofence is False and started.plan_id == shifts.world.minji.active_care_plan_id


async def test_another_caregiver_cannot_check_in_and_nobody_checks_in_twice(
    shifts: Shifts, ports: Ports, morning: Shift
) -> None:
    shifts.set_clock(1, 6, 55)
    with pytest.raises(NotFound):
        await visits.check_in(ports, shifts.world.caregiver_off_team.principal(), morning.id, location=AT_HOME)
    me = shifts.world.caregiver_on_team.principal()
    await visits.check_in(ports, me, morning.id, location=AT_HOME)

    with pytest.raises(StateConflict):
        await visits.check_in(ports, me, morning.id, location=AT_HOME)


async def test_a_check_in_outside_the_geofence_is_accepted_and_flagged_to_coordinators(
    shifts: Shifts, ports: Ports, morning: Shift
) -> None:
    shifts.set_clock(1, 6, 55)

    started = await visits.check_in(ports, shifts.world.caregiver_on_team.principal(), morning.id, location=ACROSS_TOWN)

    assert started.status is ShiftStatus.IN_PROGRESS
    assert started.check_in is not None and started.check_in.outside_geofence
    assert started.check_in.distance_m is not None and started.check_in.distance_m > 3000
    alerts = await ports.store.alert_requests.for_subject(morning.id)
    assert [a.kind for a in alerts if a.kind is AlertKind.GEOFENCE_EXCEPTION] == [AlertKind.GEOFENCE_EXCEPTION]
    events = await ports.store.events.since(shifts.local(0, 0), kinds=["shift.geofence_exception"])
    assert [e.subject_id for e in events] == [morning.id]


async def test_check_out_is_refused_while_a_critical_task_has_no_log_entry(
    shifts: Shifts, ports: Ports, morning: Shift
) -> None:
    me = shifts.world.caregiver_on_team.principal()
    shifts.set_clock(1, 6, 55)
    started = await visits.check_in(ports, me, morning.id, location=AT_HOME)
    task_id = await plan_task(ports, started)
    shifts.set_clock(1, 10)

    with pytest.raises(CriticalTasksUnlogged) as refused:
        await visits.check_out(ports, me, morning.id, location=AT_HOME)
    assert refused.value.task_ids == (task_id,) and refused.value.titles == ("항경련제 복용",)

    await visits.log_task(ports, me, morning.id, task_id=task_id, outcome=TaskOutcome.DONE, note="08:05 복용")
    done = await visits.check_out(ports, me, morning.id, location=AT_HOME, handover_note="오후에 미열 확인 필요")
    assert done.status is ShiftStatus.COMPLETED and done.unlogged_critical_reason is None


async def test_check_out_with_a_reason_records_the_missed_critical_task(
    shifts: Shifts, ports: Ports, morning: Shift
) -> None:
    me = shifts.world.caregiver_on_team.principal()
    shifts.set_clock(1, 6, 55)
    await visits.check_in(ports, me, morning.id, location=AT_HOME)
    shifts.set_clock(1, 10)

    done = await visits.check_out(ports, me, morning.id, location=AT_HOME, reason="약이 떨어져 보호자에게 연락함")

    assert done.unlogged_critical_reason == "약이 떨어져 보호자에게 연락함"
    events = await ports.store.events.since(shifts.local(0, 0), kinds=["shift.critical_task_missed"])
    assert [e.subject_id for e in events] == [morning.id]


async def test_task_log_entries_follow_the_plan_and_a_retry_logs_once(
    shifts: Shifts, ports: Ports, morning: Shift
) -> None:
    me = shifts.world.caregiver_on_team.principal()
    shifts.set_clock(1, 6, 55)
    started = await visits.check_in(ports, me, morning.id, location=AT_HOME)
    task_id = await plan_task(ports, started)

    with pytest.raises(ValidationFailed) as no_reason:
        await visits.log_task(ports, me, morning.id, task_id=task_id, outcome=TaskOutcome.REFUSED)
    assert no_reason.value.field == "reason"
    with pytest.raises(ValidationFailed):
        await visits.log_task(ports, me, morning.id, task_id="not-a-task", outcome=TaskOutcome.DONE)
    for _ in range(2):
        logged = await visits.log_task(
            ports,
            me,
            morning.id,
            task_id=task_id,
            outcome=TaskOutcome.REFUSED,
            reason="삼키기를 거부",
            idempotency_key="k1",
        )

    assert [(e.task_id, e.outcome, e.reason) for e in logged.task_log] == [
        (task_id, TaskOutcome.REFUSED, "삼키기를 거부")
    ]


async def test_the_next_caregiver_sees_the_handover_note_at_check_in(
    shifts: Shifts, ports: Ports, morning: Shift
) -> None:
    me = shifts.world.caregiver_on_team.principal()
    shifts.set_clock(1, 6, 55)
    started = await visits.check_in(ports, me, morning.id, location=AT_HOME)
    await visits.log_task(ports, me, morning.id, task_id=await plan_task(ports, started), outcome=TaskOutcome.DONE)
    shifts.set_clock(1, 10)
    await visits.check_out(ports, me, morning.id, location=AT_HOME, handover_note="점심 전 물 200ml 더 드리기")
    next_caregiver = shifts.world.caregiver_off_team
    afternoon = await shifts.schedule(next_caregiver, shifts.local(1, 12), shifts.local(1, 16))
    shifts.set_clock(1, 11, 50)

    started = await visits.check_in(ports, next_caregiver.principal(), afternoon.id, location=AT_HOME)
    handover = await visits.handover_for(ports, next_caregiver.principal(), started)

    assert handover is not None and handover.handover_note == "점심 전 물 200ml 더 드리기"
    assert await visits.handover_for(ports, shifts.world.guardian.principal(), started) is None


async def test_notes_are_written_during_the_visit_or_within_a_day_after(
    shifts: Shifts, ports: Ports, morning: Shift
) -> None:
    me = shifts.world.caregiver_on_team.principal()
    with pytest.raises(StateConflict):
        await visits.add_progress_note(ports, me, morning.id, text="아직 방문 전")
    shifts.set_clock(1, 6, 55)
    await visits.check_in(ports, me, morning.id, location=AT_HOME)
    await visits.add_progress_note(ports, me, morning.id, text="기분 좋음, 산책 20분")
    shifts.set_clock(1, 10)
    await visits.check_out(ports, me, morning.id, location=AT_HOME, reason="복용 기록 누락")
    await visits.add_progress_note(ports, me, morning.id, text="귀가 후 보호자와 통화함")
    shifts.clock.advance(timedelta(hours=25))

    with pytest.raises(StateConflict):
        await visits.add_progress_note(ports, me, morning.id, text="너무 늦은 기록")
    stored = await ports.store.shifts.get(morning.id)
    assert stored is not None
    assert [n.text for n in stored.progress_notes] == ["기분 좋음, 산책 20분", "귀가 후 보호자와 통화함"]
