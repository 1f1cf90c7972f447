"""Coverage gaps, computed in memory from people's support hours and the shifts of a period."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from carecore.shifts.models import CoverageGap, GapKind, Shift, ShiftStatus

Interval = tuple[datetime, datetime]


class WeeklyWindow(Protocol):
    """Local hours on weekdays (0 = Monday); start == end is all day, end < start runs past midnight."""

    @property
    def weekdays(self) -> tuple[int, ...]: ...

    @property
    def start(self) -> time: ...

    @property
    def end(self) -> time: ...


def window_intervals(windows: Iterable[WeeklyWindow], start: datetime, end: datetime, tz: ZoneInfo) -> list[Interval]:
    """The windows as merged UTC intervals within [start, end), walked day by day in local time."""
    found: list[Interval] = []
    first = start.astimezone(tz).date() - timedelta(days=1)  # yesterday's window may run into today
    last = end.astimezone(tz).date()
    for w in windows:
        day = first
        while day <= last:
            if day.weekday() in w.weekdays:
                w_start = datetime.combine(day, w.start, tzinfo=tz)
                end_day = day if w.end > w.start else day + timedelta(days=1)
                w_end = datetime.combine(end_day, w.end, tzinfo=tz)
                s, e = max(w_start, start), min(w_end, end)
                if s < e:
                    found.append((s.astimezone(UTC), e.astimezone(UTC)))
            day += timedelta(days=1)
    return merge(found)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for s, e in sorted(intervals):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def subtract(intervals: Sequence[Interval], covered: Sequence[Interval]) -> list[Interval]:
    """Parts of `intervals` outside every `covered` interval; both merged and sorted."""
    result: list[Interval] = []
    for s, e in intervals:
        cursor = s
        for cs, ce in covered:
            if ce <= cursor or cs >= e:
                continue
            if cs > cursor:
                result.append((cursor, cs))
            cursor = max(cursor, ce)
            if cursor >= e:
                break
        if cursor < e:
            result.append((cursor, e))
    return result


def shift_gap_kind(shift: Shift, now: datetime) -> GapKind | None:
    """Why a shift leaves its person without a caregiver, or None while it covers them."""
    if shift.status is ShiftStatus.MISSED:
        return GapKind.MISSED
    if shift.status is ShiftStatus.OPEN or (shift.status is ShiftStatus.SCHEDULED and shift.caregiver_id is None):
        return GapKind.OPEN
    if shift.is_late(now):
        return GapKind.LATE
    return None


def coverage_gaps(
    support_hours: Mapping[str, Sequence[WeeklyWindow]],
    shifts: Iterable[Shift],
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    now: datetime,
) -> list[CoverageGap]:
    """Support hours of each person with no shift, plus open, late and missed shifts, soonest first.

    A hole an open, late or missed shift is meant to fill is reported once, as that shift.
    """
    start, end = start.astimezone(UTC), end.astimezone(UTC)  # gap cursors compare UTC ISO strings
    planned: dict[str, list[Interval]] = defaultdict(list)
    gaps: list[CoverageGap] = []
    for shift in shifts:
        if shift.status is ShiftStatus.CANCELLED or shift.end <= start or shift.start >= end:
            continue
        planned[shift.person_id].append((shift.start, shift.end))
        kind = shift_gap_kind(shift, now)
        if kind is not None:
            gaps.append(CoverageGap(shift.person_id, kind, max(shift.start, start), min(shift.end, end), shift))
    for person_id, windows in support_hours.items():
        needed = window_intervals(windows, start, end, tz)
        for s, e in subtract(needed, merge(planned.get(person_id, ()))):
            gaps.append(CoverageGap(person_id, GapKind.UNCOVERED, s, e))
    gaps.sort(key=lambda g: g.cursor)
    return gaps
