"""The Now board: what needs a person, gathered from the core's own reads (no query of its own).

Each section is one core read, paged by its own cursor (a query parameter), so the page stays the same
size whatever the agency's backlog. Sections come in the order a coordinator should work them: the
unacknowledged incidents by severity, late and missed visits, people nobody has reached (longest first,
as the core sorts them), reports to the authority (overdue ones first), coverage gaps in the next 24
hours, then open shifts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from carecore.access.principal import Principal
from carecore.alerts.deliveries import Delivery, deliveries_of
from carecore.incidents.models import UNACKNOWLEDGED, Incident, IncidentFilter, Severity
from carecore.incidents.reads import list_incidents, reports_due
from carecore.pagination import Page, PageRequest
from carecore.people.models import Person
from carecore.people.service import load_people
from carecore.ports import Ports
from carecore.reachability.service import Unreachable, unreachable_people
from carecore.shifts.models import CoverageGap, GapKind, Shift
from carecore.shifts.open_shifts import list_open_shifts
from carecore.shifts.queries import coverage_gaps

PAGE_SIZE = 10
# Late and missed visits of the last half day are still for a person to follow up.
VISITS_LOOKBACK = timedelta(hours=12)
GAPS_AHEAD = timedelta(hours=24)
SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
VISITS_PAGE = 100  # late and missed visits come out of every gap of the half day: read them at once
CURSOR_PARAMS = ("gaps", "reports", "open", *(f"incidents_{s.value}" for s in SEVERITIES))


@dataclass(frozen=True, slots=True)
class NowBoard:
    now: datetime
    incidents: dict[Severity, Page[Incident]]
    recent: Page[CoverageGap]  # the last half day's gaps, late and missed visits among them
    coverage: Page[CoverageGap]  # the next 24 hours'
    reports: Page[Incident]
    open_shifts: Page[Shift]
    unreachable: list[Unreachable]  # the longest first; the core's read is bounded, so the board shows a page
    unreachable_total: int
    people: Mapping[str, Person]
    deliveries: Mapping[str, list[Delivery]]  # per unacknowledged incident: who was alerted, how, and what they did

    @property
    def visits(self) -> list[CoverageGap]:
        """Missed before late: nobody came at all."""
        found = [g for g in self.recent.items if g.kind in (GapKind.MISSED, GapKind.LATE)]
        return sorted(found, key=lambda g: (g.kind is not GapKind.MISSED, g.start))

    @property
    def gaps(self) -> list[CoverageGap]:
        return [g for g in self.coverage.items if g.kind is GapKind.UNCOVERED]


def _page(cursors: Mapping[str, str], name: str) -> PageRequest:
    return PageRequest(first=PAGE_SIZE, after=cursors.get(name) or None)


async def now_board(ports: Ports, actor: Principal, cursors: Mapping[str, str]) -> NowBoard:
    """Everything on the Now screen for a coordinator (the core refuses anyone else)."""
    now = ports.clock.now()
    incidents = {
        s: await list_incidents(
            ports, actor, IncidentFilter(statuses=UNACKNOWLEDGED, severities=(s,)), _page(cursors, f"incidents_{s}")
        )
        for s in SEVERITIES
    }
    recent = await coverage_gaps(ports, actor, now - VISITS_LOOKBACK, now, PageRequest(first=VISITS_PAGE))
    coverage = await coverage_gaps(ports, actor, now, now + GAPS_AHEAD, _page(cursors, "gaps"))
    unreachable = await unreachable_people(ports, actor)
    reports = await reports_due(ports, actor, _page(cursors, "reports"))
    open_shifts = await list_open_shifts(ports, actor, _page(cursors, "open"))
    person_ids = {i.person_id for page in (*incidents.values(), reports) for i in page.items}
    person_ids |= {g.person_id for g in (*recent.items, *coverage.items)} | {s.person_id for s in open_shifts.items}
    people = await load_people(ports, actor, person_ids)
    deliveries = await deliveries_of(ports, actor, [i.id for page in incidents.values() for i in page.items])
    return NowBoard(
        now,
        incidents,
        recent,
        coverage,
        reports,
        open_shifts,
        unreachable[:PAGE_SIZE],
        len(unreachable),
        people,
        deliveries,
    )
