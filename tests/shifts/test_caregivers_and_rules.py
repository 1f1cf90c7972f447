"""Caregiver profiles (limits never looser than the agency's, availability) and the pure schedule rules."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from carecore.alerts.models import AlertKind
from carecore.errors import ValidationFailed, VersionConflict
from carecore.ports import Ports
from carecore.shifts import caregivers, open_shifts
from carecore.shifts.errors import RestTooShort, WeeklyHoursExceeded
from carecore.shifts.models import AvailabilityWindow, Booking, CaregiverProfile, Limits, Qualification
from carecore.shifts.rules import check_placement
from tests.shifts.conftest import SEOUL, Shifts


def booking(name: str, start: datetime, hours: float) -> Booking:
    return Booking(name, name, start, start + timedelta(hours=hours))


async def test_a_profile_may_be_stricter_than_the_agency_never_looser_and_edits_need_the_revision(
    shifts: Shifts, ports: Ports
) -> None:
    caregiver = shifts.world.caregiver_on_team
    profile = CaregiverProfile(caregiver.id, caregiver.agency_id, (Qualification("요양보호사"),), max_weekly_hours=40)

    stored = await caregivers.set_caregiver_profile(ports, shifts.coordinator, profile, expected_revision=0)
    assert stored.revision == 1 and stored.max_weekly_hours == 40

    with pytest.raises(ValidationFailed) as looser:
        await caregivers.set_caregiver_profile(
            ports, shifts.coordinator, CaregiverProfile(caregiver.id, "", max_weekly_hours=60), expected_revision=1
        )
    assert looser.value.field == "maxWeeklyHours"
    with pytest.raises(VersionConflict):
        await caregivers.set_caregiver_profile(ports, shifts.coordinator, profile, expected_revision=0)
    own = await caregivers.get_caregiver_profile(ports, caregiver.principal(), caregiver.id)
    assert own.qualifications == (Qualification("요양보호사"),)


async def test_an_open_shift_is_not_offered_to_a_caregiver_unavailable_then(shifts: Shifts, ports: Ports) -> None:
    mornings = await shifts.caregiver("오전 근무자", "요양보호사")
    evenings = await shifts.caregiver("저녁 근무자", "요양보호사")
    await ports.store.caregiver_profiles.put(
        CaregiverProfile(
            evenings.id,
            evenings.agency_id,
            (Qualification("요양보호사"),),
            availability=(AvailabilityWindow((0, 1, 2, 3, 4, 5, 6), time(17), time(23)),),
        ),
        expected_revision=1,
        now=shifts.clock.now(),
    )
    shift = await shifts.schedule(
        None, shifts.local(1, 9), shifts.local(1, 13), required_qualifications=("요양보호사",)
    )

    await open_shifts.offer_now(ports, shift.id)

    offers = [r for r in await ports.store.alert_requests.for_subject(shift.id) if r.kind is AlertKind.OPEN_SHIFT_OFFER]
    assert [r.user_ids for r in offers] == [(mornings.id,)]


def test_a_shift_across_sunday_midnight_counts_in_both_weeks() -> None:
    sunday_night = datetime(2026, 11, 29, 20, tzinfo=SEOUL)
    monday = datetime(2026, 11, 30, 8, tzinfo=SEOUL)
    week = [booking(f"d{d}", monday + timedelta(days=d), 10) for d in range(5)]  # 50 h

    # 4 h of Sunday belong to the week before; 4 h of Monday's early hours bring this week to 54 h.
    with pytest.raises(WeeklyHoursExceeded) as refused:
        check_placement(week, booking("night", sunday_night, 8), Limits(52, 0), SEOUL)

    assert (refused.value.week_start.isoformat(), refused.value.shift_hours) == ("2026-11-30", 4)


def test_rest_is_counted_across_a_working_day_of_split_visits() -> None:
    day = [
        booking("am", datetime(2026, 12, 1, 7, tzinfo=SEOUL), 3),
        booking("pm", datetime(2026, 12, 1, 14, tzinfo=SEOUL), 4),
    ]

    check_placement(day, booking("noon", datetime(2026, 12, 1, 11, tzinfo=SEOUL), 2), Limits(52, 8), SEOUL)
    with pytest.raises(RestTooShort) as refused:
        check_placement(day, booking("late", datetime(2026, 12, 1, 22, tzinfo=SEOUL), 4), Limits(52, 8), SEOUL)

    # 07:00 to 02:00 would be a 19-hour working day: 4 h after the afternoon visit is not enough rest.
    assert (refused.value.rest_hours, refused.value.neighbouring_shift_id) == (4, "pm")
