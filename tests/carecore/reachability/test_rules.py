"""The pure rules of reachability: when calls fall due, when the service tries again, and how long a
person's usual silence is."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from carecore.errors import ValidationFailed
from carecore.reachability.models import GYEONGGI, CallSlot
from carecore.reachability.rules import check_schedule, learned_quiet, next_attempt_at, next_slot

SEOUL = ZoneInfo("Asia/Seoul")
WED_0900_SEOUL = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)


def test_the_next_call_is_the_first_weekly_slot_strictly_after_now_in_the_agencys_zone() -> None:
    schedule = (CallSlot(2, time(10, 0)), CallSlot(4, time(9, 30)))
    assert next_slot(schedule, WED_0900_SEOUL, SEOUL) == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    after_wednesday = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    assert next_slot(schedule, after_wednesday, SEOUL) == datetime(2026, 11, 27, 0, 30, tzinfo=UTC)
    assert next_slot((), WED_0900_SEOUL, SEOUL) is None


def test_a_weekly_slot_at_the_same_time_as_now_is_next_week() -> None:
    assert next_slot((CallSlot(2, time(9, 0)),), WED_0900_SEOUL, SEOUL) == WED_0900_SEOUL + timedelta(days=7)


@pytest.mark.parametrize("at", [time(21, 0), time(23, 30), time(3, 0), time(7, 59)])
def test_no_ai_call_is_scheduled_from_21_00_to_07_59_by_default(at: time) -> None:
    with pytest.raises(ValidationFailed):
        check_schedule(GYEONGGI, [CallSlot(0, at)])


def test_a_schedule_is_sorted_and_loses_repeats() -> None:
    slots = [CallSlot(4, time(8, 0)), CallSlot(0, time(20, 59)), CallSlot(4, time(8, 0))]
    assert check_schedule(GYEONGGI, slots) == (CallSlot(0, time(20, 59)), CallSlot(4, time(8, 0)))


def test_the_next_attempt_after_no_answer_waits_for_the_morning_when_it_would_fall_at_night() -> None:
    evening = datetime(2026, 11, 25, 20, 30, tzinfo=SEOUL)
    assert next_attempt_at(GYEONGGI, evening, SEOUL) == datetime(2026, 11, 26, 8, 0, tzinfo=SEOUL)
    small_hours = datetime(2026, 11, 26, 6, 0, tzinfo=SEOUL)
    assert next_attempt_at(GYEONGGI, small_hours, SEOUL) == datetime(2026, 11, 26, 8, 0, tzinfo=SEOUL)
    morning = datetime(2026, 11, 26, 10, 0, tzinfo=SEOUL)
    assert next_attempt_at(GYEONGGI, morning, SEOUL) == datetime(2026, 11, 26, 11, 0, tzinfo=SEOUL)


def _every(start: datetime, gap: timedelta, count: int) -> list[datetime]:
    return [start + gap * i for i in range(count)]


def test_the_usual_quiet_period_is_24_hours_until_there_is_data() -> None:
    assert learned_quiet([], WED_0900_SEOUL) == timedelta(hours=24)
    assert learned_quiet(_every(WED_0900_SEOUL - timedelta(hours=5), timedelta(hours=1), 5), WED_0900_SEOUL) == (
        timedelta(hours=24)
    )


def test_the_usual_quiet_period_is_the_95th_percentile_of_gaps_clamped_to_6_to_24_hours() -> None:
    now = WED_0900_SEOUL
    # Awake every 2 hours for 14 days, and one 10-hour night each day: p95 is a night.
    times: list[datetime] = []
    for day in range(14):
        start = now - timedelta(days=14 - day)
        times += _every(start, timedelta(hours=2), 8)
    assert learned_quiet(times, now) == timedelta(hours=10)
    hourly = _every(now - timedelta(days=3), timedelta(hours=1), 72)
    assert learned_quiet(hourly, now) == timedelta(hours=6)
    every_other_day = _every(now - timedelta(days=27), timedelta(days=2), 14)
    assert learned_quiet(every_other_day, now) == timedelta(hours=24)


def test_signs_older_than_28_days_are_forgotten() -> None:
    now = WED_0900_SEOUL
    old = _every(now - timedelta(days=60), timedelta(hours=1), 100)
    assert learned_quiet(old, now) == timedelta(hours=24)
