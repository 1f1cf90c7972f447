"""Scheduling and (re)assigning shifts: overlap, qualifications, weekly hours and rest, atomically."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from carecore.errors import StateConflict, ValidationFailed
from carecore.ports import Ports
from carecore.shifts import scheduling
from carecore.shifts.errors import MissingQualifications, RestTooShort, ShiftOverlap, WeeklyHoursExceeded
from carecore.shifts.models import (
    CaregiverProfile,
    HistoryAction,
    HistoryEntry,
    Limits,
    Qualification,
    Shift,
    ShiftStatus,
)
from carecore.shifts.placement import HOLD_LAPSE, Placement, book, new_hold
from carecore.shifts.scheduling import ShiftPlan, WeeklyRecurrence
from tests.shifts.conftest import SEOUL, Shifts
from tests.support import FakeClock


async def test_of_fifty_concurrent_overlapping_assignments_exactly_one_wins(shifts: Shifts, ports: Ports) -> None:
    caregiver = shifts.world.caregiver_on_team
    open_shifts = [await shifts.schedule(None, shifts.local(1, 9, i), shifts.local(1, 12, i)) for i in range(50)]

    results = await asyncio.gather(
        *(scheduling.assign_shift(ports, shifts.coordinator, s.id, caregiver_id=caregiver.id) for s in open_shifts),
        return_exceptions=True,
    )

    won = [r for r in results if isinstance(r, Shift)]
    assert len(won) == 1
    lost = [r for r in results if not isinstance(r, Shift)]
    assert all(isinstance(r, ShiftOverlap) and r.conflicting_shift_id == won[0].id for r in lost), lost
    stored = await ports.store.shifts.get_many(s.id for s in open_shifts)
    assert [s.id for s in stored.values() if s.caregiver_id == caregiver.id] == [won[0].id]
    schedule = await ports.store.caregiver_schedules.get(caregiver.id)
    assert [b.shift_id for b in schedule.bookings] == [won[0].id]


async def test_fifty_concurrent_creates_for_one_caregiver_leave_one_shift_and_no_debris(
    shifts: Shifts, ports: Ports
) -> None:
    caregiver = shifts.world.caregiver_on_team

    results = await asyncio.gather(
        *(shifts.schedule(caregiver, shifts.local(2, 8, i), shifts.local(2, 10, i)) for i in range(50)),
        return_exceptions=True,
    )

    won = [r for r in results if isinstance(r, Shift)]
    assert len(won) == 1 and won[0].caregiver_id == caregiver.id and won[0].status is ShiftStatus.SCHEDULED
    assert all(isinstance(r, ShiftOverlap) and r.conflicting_shift_id == won[0].id for r in results if r not in won)
    assert await ports.store.shifts.served_person_ids(caregiver.id, shifts.local(0, 0), shifts.local(9, 0)) == {
        shifts.world.minji.id
    }
    assert await ports.store.db["shifts"].count_documents({}) == 1


async def test_an_overlap_names_the_shift_already_held(shifts: Shifts) -> None:
    caregiver = shifts.world.caregiver_on_team
    first = await shifts.schedule(caregiver, shifts.local(1, 9), shifts.local(1, 13))

    with pytest.raises(ShiftOverlap) as refused:
        await shifts.schedule(caregiver, shifts.local(1, 12), shifts.local(1, 16), person_id=shifts.world.jiho.id)

    assert refused.value.conflicting_shift_id == first.id


async def test_the_weekly_limit_refuses_with_the_hours_in_the_error(shifts: Shifts) -> None:
    caregiver = shifts.world.caregiver_on_team
    # Monday 30 November to Friday: five ten-hour days, 50 h of the agency's 52.
    monday = date(2026, 11, 30)
    days = (monday - shifts.local(0, 0).date()).days
    for d in range(5):
        await shifts.schedule(caregiver, shifts.local(days + d, 8), shifts.local(days + d, 18))

    with pytest.raises(WeeklyHoursExceeded) as refused:
        await shifts.schedule(caregiver, shifts.local(days + 5, 9), shifts.local(days + 5, 13))

    e = refused.value
    assert (e.week_start, e.scheduled_hours, e.shift_hours, e.limit_hours) == (monday, 50, 4, 52)
    assert "54 h" in e.message
    await shifts.schedule(caregiver, shifts.local(days + 5, 9), shifts.local(days + 5, 11))  # 52 h fits


async def test_a_caregivers_own_stricter_limit_applies(shifts: Shifts) -> None:
    caregiver = shifts.world.caregiver_on_team
    await shifts.qualify(caregiver, max_weekly_hours=20)
    await shifts.schedule(caregiver, shifts.local(5, 8), shifts.local(5, 23))

    with pytest.raises(WeeklyHoursExceeded) as refused:
        await shifts.schedule(caregiver, shifts.local(6, 9), shifts.local(6, 15))

    assert refused.value.limit_hours == 20


async def test_too_little_rest_between_shifts_is_refused_with_the_figures(shifts: Shifts) -> None:
    caregiver = shifts.world.caregiver_on_team
    evening = await shifts.schedule(caregiver, shifts.local(1, 14), shifts.local(1, 22))

    with pytest.raises(RestTooShort) as refused:
        await shifts.schedule(caregiver, shifts.local(2, 2), shifts.local(2, 10), person_id=shifts.world.jiho.id)

    e = refused.value
    assert (e.rest_hours, e.minimum_rest_hours, e.neighbouring_shift_id) == (4, 8, evening.id)
    # Split visits on one day are fine, and so is the next day after eight hours off.
    await shifts.schedule(caregiver, shifts.local(1, 9), shifts.local(1, 12), person_id=shifts.world.jiho.id)
    await shifts.schedule(caregiver, shifts.local(2, 6), shifts.local(2, 10), person_id=shifts.world.jiho.id)


async def test_missing_qualifications_refuse_unless_a_coordinator_overrides_with_a_reason(shifts: Shifts) -> None:
    caregiver = shifts.world.caregiver_on_team
    await shifts.qualify(caregiver, "요양보호사")
    required = ("요양보호사", "간호조무사")

    with pytest.raises(MissingQualifications) as refused:
        await shifts.schedule(caregiver, shifts.local(1, 9), shifts.local(1, 13), required_qualifications=required)
    assert refused.value.missing == ("간호조무사",)

    placed = await shifts.schedule(
        caregiver,
        shifts.local(1, 9),
        shifts.local(1, 13),
        required_qualifications=required,
        override_reason="간호사 동행 방문",
    )
    override = placed.qualification_override
    assert override is not None and override.missing == ("간호조무사",) and override.reason == "간호사 동행 방문"
    assert override.by == shifts.world.coordinator.id


async def test_an_expired_qualification_does_not_count(shifts: Shifts, ports: Ports) -> None:
    caregiver = shifts.world.caregiver_on_team
    await ports.store.caregiver_profiles.put(
        CaregiverProfile(caregiver.id, caregiver.agency_id, (Qualification("행동지원", date(2026, 11, 25)),)),
        expected_revision=0,
        now=shifts.clock.now(),
    )

    with pytest.raises(MissingQualifications):
        await shifts.schedule(caregiver, shifts.local(1, 9), shifts.local(1, 13), required_qualifications=("행동지원",))


async def test_a_reassignment_keeps_who_why_and_frees_the_first_caregivers_time(shifts: Shifts, ports: Ports) -> None:
    first, second = shifts.world.caregiver_on_team, shifts.world.caregiver_off_team
    shift = await shifts.schedule(first, shifts.local(1, 9), shifts.local(1, 13))

    with pytest.raises(ValidationFailed):
        await scheduling.assign_shift(ports, shifts.coordinator, shift.id, caregiver_id=second.id)
    moved = await scheduling.assign_shift(
        ports, shifts.coordinator, shift.id, caregiver_id=second.id, reason="박서준 님 병가"
    )

    assert moved.caregiver_id == second.id
    last = moved.history[-1]
    assert (last.action, last.from_caregiver_id, last.to_caregiver_id, last.by, last.reason) == (
        HistoryAction.REASSIGNED,
        first.id,
        second.id,
        shifts.world.coordinator.id,
        "박서준 님 병가",
    )
    assert (await ports.store.caregiver_schedules.get(first.id)).bookings == ()
    await shifts.schedule(first, shifts.local(1, 9), shifts.local(1, 13), person_id=shifts.world.jiho.id)


async def test_two_coordinators_reassigning_one_shift_at_once_leave_one_owner(shifts: Shifts, ports: Ports) -> None:
    shift = await shifts.schedule(None, shifts.local(1, 9), shifts.local(1, 13))
    a, b = shifts.world.caregiver_on_team, shifts.world.caregiver_off_team

    results = await asyncio.gather(
        scheduling.assign_shift(ports, shifts.coordinator, shift.id, caregiver_id=a.id),
        scheduling.assign_shift(ports, shifts.coordinator, shift.id, caregiver_id=b.id),
        return_exceptions=True,
    )

    assert sum(isinstance(r, Shift) for r in results) == 1
    assert all(isinstance(r, StateConflict) for r in results if not isinstance(r, Shift))
    stored = await ports.store.shifts.get(shift.id)
    assert stored is not None and stored.caregiver_id in (a.id, b.id)
    booked = [c for c in (a, b) if (await ports.store.caregiver_schedules.get(c.id)).bookings]
    assert [c.id for c in booked] == [stored.caregiver_id]


async def test_a_placement_that_crashed_midway_never_blocks_the_caregiver_for_good(
    shifts: Shifts, ports: Ports, clock: FakeClock
) -> None:
    caregiver = shifts.world.caregiver_on_team
    stuck = await shifts.schedule(None, shifts.local(1, 9), shifts.local(1, 13))
    # Steps 1 and 2 of a placement, then the process dies before the commit.
    placement = Placement(
        caregiver.id,
        stuck.start,
        stuck.end,
        Limits(52, 8),
        SEOUL,
        HistoryEntry(HistoryAction.ASSIGNED, clock.now(), shifts.world.coordinator.id),
    )
    hold = new_hold(placement, clock.now())
    held = await ports.store.shifts.take_hold(
        stuck.id, hold, statuses=(ShiftStatus.OPEN,), lapsed_before=clock.now() - HOLD_LAPSE
    )
    assert held is not None
    await book(ports, held, hold, placement)

    with pytest.raises(ShiftOverlap):  # while the hold is fresh, the booking counts
        await shifts.schedule(caregiver, shifts.local(1, 10), shifts.local(1, 12), person_id=shifts.world.jiho.id)
    clock.advance(HOLD_LAPSE + timedelta(seconds=1))
    other = await shifts.schedule(caregiver, shifts.local(1, 10), shifts.local(1, 12), person_id=shifts.world.jiho.id)

    assert other.caregiver_id == caregiver.id
    assert (
        await ports.store.shifts.commit_hold(stuck.id, hold.token, history=placement.history, now=clock.now()) is None
    )
    schedule = await ports.store.caregiver_schedules.get(caregiver.id)
    assert [b.shift_id for b in schedule.bookings] == [other.id]


async def test_cancelling_a_shift_frees_the_caregivers_time(shifts: Shifts, ports: Ports) -> None:
    caregiver = shifts.world.caregiver_on_team
    shift = await shifts.schedule(caregiver, shifts.local(1, 9), shifts.local(1, 13))

    cancelled = await scheduling.cancel_shift(ports, shifts.coordinator, shift.id, reason="이용자 입원")

    assert cancelled.status is ShiftStatus.CANCELLED and cancelled.cancel_reason == "이용자 입원"
    await shifts.schedule(caregiver, shifts.local(1, 9), shifts.local(1, 13), person_id=shifts.world.jiho.id)


async def test_moving_a_shift_rechecks_its_caregivers_schedule(shifts: Shifts, ports: Ports) -> None:
    caregiver = shifts.world.caregiver_on_team
    morning = await shifts.schedule(caregiver, shifts.local(1, 9), shifts.local(1, 12))
    other = await shifts.schedule(caregiver, shifts.local(1, 14), shifts.local(1, 17), person_id=shifts.world.jiho.id)

    with pytest.raises(ShiftOverlap) as refused:
        await scheduling.update_shift(
            ports,
            shifts.coordinator,
            morning.id,
            expected_revision=morning.revision,
            start=shifts.local(1, 13),
            end=shifts.local(1, 16),
            required_qualifications=(),
            notes="",
        )
    assert refused.value.conflicting_shift_id == other.id

    moved = await scheduling.update_shift(
        ports,
        shifts.coordinator,
        morning.id,
        expected_revision=morning.revision,
        start=shifts.local(1, 8),
        end=shifts.local(1, 11),
        required_qualifications=(),
        notes="아침 일찍",
    )
    assert (moved.start, moved.notes, moved.caregiver_id) == (shifts.local(1, 8), "아침 일찍", caregiver.id)
    schedule = await ports.store.caregiver_schedules.get(caregiver.id)
    assert sorted((b.shift_id, b.start) for b in schedule.bookings) == sorted(
        [(morning.id, shifts.local(1, 8)), (other.id, shifts.local(1, 14))]
    )


async def test_a_weekly_series_repeats_the_local_hours_and_a_retry_creates_nothing_more(
    shifts: Shifts, ports: Ports
) -> None:
    caregiver = shifts.world.caregiver_on_team
    plan = ShiftPlan(shifts.world.minji.id, shifts.local(5, 9), shifts.local(5, 13), caregiver_id=caregiver.id)
    recurrence = WeeklyRecurrence(weekdays=(0, 2, 4), until=shifts.local(18, 0).date())

    series = await scheduling.schedule_weekly_shifts(
        ports, shifts.coordinator, plan, recurrence, idempotency_key="weekly-1"
    )
    again = await scheduling.schedule_weekly_shifts(
        ports, shifts.coordinator, plan, recurrence, idempotency_key="weekly-1"
    )

    assert [s.id for s in again] == [s.id for s in series]
    assert all(s.start.astimezone(SEOUL).hour == 9 and s.start.weekday() in (0, 2, 4) for s in series)
    assert all(s.caregiver_id == caregiver.id and s.series_id == series[0].series_id for s in series)
    assert len(series) == len({s.start for s in series}) == await ports.store.db["shifts"].count_documents({})


async def test_a_series_the_caregiver_cannot_take_is_refused_whole(shifts: Shifts, ports: Ports) -> None:
    caregiver = shifts.world.caregiver_on_team
    blocker = await shifts.schedule(
        caregiver, shifts.local(12, 10), shifts.local(12, 11), person_id=shifts.world.jiho.id
    )
    plan = ShiftPlan(shifts.world.minji.id, shifts.local(5, 9), shifts.local(5, 13), caregiver_id=caregiver.id)

    with pytest.raises(ShiftOverlap) as refused:
        await scheduling.schedule_weekly_shifts(
            ports, shifts.coordinator, plan, WeeklyRecurrence(tuple(range(7)), shifts.local(20, 0).date())
        )

    assert refused.value.conflicting_shift_id == blocker.id
    assert await ports.store.db["shifts"].count_documents({}) == 1
