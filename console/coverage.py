"""The Coverage screen: one week of the agency, per person, shifts against the gaps in support hours.

Two core reads (the week's shifts and its coverage gaps, each paged by its own cursor) and the people
and caregivers' names; grouping them by person and sorting by time is all that happens here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from carecore.access.principal import Principal
from carecore.agencies.service import get_agency
from carecore.pagination import MAX_PAGE_SIZE, Page, PageRequest
from carecore.people.models import Person
from carecore.people.service import load_people
from carecore.ports import Ports
from carecore.shifts.models import CoverageGap, Shift, SwapStatus
from carecore.shifts.queries import coverage_gaps, list_shifts
from carecore.shifts.support import zone


@dataclass(frozen=True, slots=True)
class Week:
    monday: date
    shifts: Page[Shift]
    gaps: Page[CoverageGap]
    people: Mapping[str, Person]

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
    return Week(monday, shifts, gaps, await load_people(ports, actor, person_ids))
