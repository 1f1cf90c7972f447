"""The Coverage screen: one week of the agency as a day grid per person, shifts against support hours.

Two core reads (the week's shifts and its coverage gaps, each paged by its own cursor) and the people
and caregivers' names; grouping them by person and day (in the agency's time zone), sorting by time
and adding up hours is all that happens here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from carecore.access.principal import Principal
from carecore.agencies.service import get_agency
from carecore.pagination import MAX_PAGE_SIZE, Page, PageRequest
from carecore.people.models import Person, SupportWindow
from carecore.people.service import load_people
from carecore.ports import Ports
from carecore.shifts.models import CoverageGap, GapKind, Shift, ShiftStatus, SwapStatus
from carecore.shifts.queries import coverage_gaps, list_shifts
from carecore.shifts.support import zone

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Day:
    """One cell of the grid: the support hours the person needs that day, and what covers them or not."""

    day: date
    support: list[str]  # e.g. "09:00-18:00"; "00:00-24:00" for a whole day
    items: list[Shift | CoverageGap]

    @property
    def has_gap(self) -> bool:
        return any(isinstance(i, CoverageGap) for i in self.items)


@dataclass(frozen=True, slots=True)
class Row:
    person_id: str
    days: list[Day]
    support_hours: float  # what the person's support hours ask for in the week
    shift_hours: float  # scheduled (not cancelled) shifts on this page
    uncovered_hours: float  # support hours with no shift at all, on this page

    @property
    def has_gap(self) -> bool:
        return any(d.has_gap for d in self.days)


@dataclass(frozen=True, slots=True)
class Week:
    monday: date
    shifts: Page[Shift]
    gaps: Page[CoverageGap]
    people: Mapping[str, Person]
    tz: ZoneInfo

    @property
    def days(self) -> list[date]:
        return [self.monday + timedelta(days=n) for n in range(7)]

    @property
    def grid(self) -> list[Row]:
        """Per person (by name), a cell per day with the day's support hours, shifts and gaps."""
        rows = []
        for person_id, items in self.rows:
            windows = self.people[person_id].profile.support_hours if person_id in self.people else ()
            cells = [
                Day(day, [_window_text(w) for w in windows if day.weekday() in w.weekdays], []) for day in self.days
            ]
            for item in items:
                if isinstance(item, CoverageGap):
                    for index, piece in self._by_day(item):
                        cells[index].items.append(piece)
                    continue
                index = (item.start.astimezone(self.tz).date() - self.monday).days
                cells[min(max(index, 0), 6)].items.append(item)  # one that began last Sunday shows on Monday
            shifts = [i for i in items if isinstance(i, Shift) and i.status is not ShiftStatus.CANCELLED]
            uncovered = [i for i in items if isinstance(i, CoverageGap) and i.kind is GapKind.UNCOVERED]
            rows.append(
                Row(
                    person_id,
                    cells,
                    sum(_window_hours(w) * len(set(w.weekdays)) for w in windows),
                    sum((s.end - s.start) / HOUR for s in shifts),
                    sum((g.end - g.start) / HOUR for g in uncovered),
                )
            )
        return rows

    def _by_day(self, gap: CoverageGap) -> list[tuple[int, CoverageGap]]:
        """A gap in each day of the week it covers, cut at the agency's midnights: a day without
        anyone shows as uncovered on that day, not only on the day the gap began."""
        pieces = []
        for index, day in enumerate(self.days):
            start = datetime.combine(day, time(0), self.tz)
            end = datetime.combine(day + timedelta(days=1), time(0), self.tz)
            if gap.start < end and gap.end > start:
                pieces.append((index, replace(gap, start=max(gap.start, start), end=min(gap.end, end))))
        return pieces

    @property
    def rows(self) -> list[tuple[str, list[Shift | CoverageGap]]]:
        """Per person (by name), their shifts and gaps in time order."""
        found: dict[str, list[Shift | CoverageGap]] = defaultdict(list)
        for shift in self.shifts.items:
            found[shift.person_id].append(shift)
        for gap in self.gaps.items:
            if gap.shift is None:  # an open, late or missed gap is its shift, already listed
                found[gap.person_id].append(gap)
        ordered = sorted(found.items(), key=lambda kv: self.people[kv[0]].name if kv[0] in self.people else kv[0])
        return [(person_id, sorted(items, key=lambda i: i.start)) for person_id, items in ordered]

    @property
    def swaps(self) -> list[Shift]:
        """Swaps both caregivers agreed on, waiting for a coordinator."""
        return [
            s for s in self.shifts.items if s.current_swap and s.current_swap.status is SwapStatus.AWAITING_APPROVAL
        ]


def _window_text(window: SupportWindow) -> str:
    if window.is_all_day:
        return "00:00-24:00"
    return f"{window.start:%H:%M}-{window.end:%H:%M}"


def _window_hours(window: SupportWindow) -> float:
    """A window's length; one whose end is not after its start runs past midnight (24 h when equal)."""
    start = window.start.hour + window.start.minute / 60
    end = window.end.hour + window.end.minute / 60
    return end - start if end > start else end - start + 24


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


async def coverage_week(ports: Ports, actor: Principal, monday: date | None, cursors: Mapping[str, str]) -> Week:
    tz = zone(await get_agency(ports, actor.agency_id))
    monday = week_of(monday or ports.clock.now().astimezone(tz).date())
    start = datetime.combine(monday, time(0), tz)
    end = datetime.combine(monday + timedelta(days=7), time(0), tz)
    shifts = await list_shifts(ports, actor, start, end, PageRequest(MAX_PAGE_SIZE, cursors.get("shifts") or None))
    gaps = await coverage_gaps(ports, actor, start, end, PageRequest(MAX_PAGE_SIZE, cursors.get("gaps") or None))
    person_ids = {s.person_id for s in shifts.items} | {g.person_id for g in gaps.items}
    return Week(monday, shifts, gaps, await load_people(ports, actor, person_ids), tz)
