"""When a plan's tasks fall due, computed with dateutil's recurrence rules in the agency's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, HOURLY, rrule, rruleset

from carecore.care_plans.models import TaskSchedule


def occurrences(schedule: TaskSchedule, start: datetime, end: datetime, tz: ZoneInfo) -> list[datetime]:
    """Due times (UTC) of a task in [start, end)."""
    local_start = start.astimezone(tz)
    day0 = local_start.replace(hour=0, minute=0, second=0, microsecond=0)
    rules = rruleset()
    for at in schedule.times_of_day:
        rules.rrule(rrule(DAILY, dtstart=day0.replace(hour=at.hour, minute=at.minute), byweekday=schedule.weekdays))
    if schedule.every_hours:
        rules.rrule(rrule(HOURLY, interval=schedule.every_hours, dtstart=day0, byweekday=schedule.weekdays))
    local_end = end.astimezone(tz)
    due = rules.between(local_start - timedelta(microseconds=1), local_end, inc=False)
    return [d.astimezone(UTC) for d in due if d < local_end]
