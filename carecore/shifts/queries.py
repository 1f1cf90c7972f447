"""Reading shifts within the caller's scope, and the coverage gaps of a period."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from carecore.access.policy import can_see_part, require_role
from carecore.access.principal import Principal, Role
from carecore.agencies.service import get_agency
from carecore.audit.service import record
from carecore.errors import ValidationFailed
from carecore.ids import is_valid_id
from carecore.pagination import Page, PageRequest
from carecore.people.models import Person
from carecore.people.service import person_in_scope
from carecore.ports import Ports
from carecore.shifts.coverage import coverage_gaps as compute_gaps
from carecore.shifts.models import CoverageGap, Shift, ShiftFilter, ShiftStatus
from carecore.shifts.support import audited, shift_in_scope, zone
from carecore.vocabulary import GuardianPermission

MAX_LIST_PERIOD = timedelta(days=62)
MAX_COVERAGE_PERIOD = timedelta(days=31)
# A caregiver holds at most a few shifts a day: 62 days of them fit, and a longer answer is no delta.
MAX_FORMER_SHIFTS = 500
EMPTY: Page[Shift] = Page(edges=[], has_next_page=False)


def checked_period(start: datetime, end: datetime, longest: timedelta) -> tuple[datetime, datetime]:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationFailed("from and to need a time zone offset.", field="from")
    if not start < end <= start + longest:
        raise ValidationFailed(f"to must follow from by at most {longest.days} days.", field="to")
    return start, end


async def get_shift(ports: Ports, actor: Principal, shift_id: str) -> Shift:
    """A shift the caller may see (audited: a visit record is health data), else NotFound."""
    return await audited(ports, actor, "shift.read", await shift_in_scope(ports, actor, shift_id, field="id"))


async def my_shifts(
    ports: Ports,
    actor: Principal,
    start: datetime,
    end: datetime,
    page: PageRequest,
    *,
    updated_since: datetime | None = None,
) -> Page[Shift]:
    """A caregiver's own shifts overlapping the period, soonest first; with `updated_since`, only those
    changed after it (cancelled, completed, moved...), oldest change first: a mobile app's delta."""
    require_role(actor, Role.CAREGIVER)
    start, end = checked_period(start, end, MAX_LIST_PERIOD)
    f = ShiftFilter(agency_id=actor.agency_id, start=start, end=end, caregiver_id=actor.user_id)
    if updated_since is None:
        return await _audited_page(ports, actor, await ports.store.shifts.search(f, page))
    since = checked_since(updated_since)
    return await _audited_page(ports, actor, await ports.store.shifts.changed_for_caregiver(f, since, page))


async def my_former_shift_ids(
    ports: Ports, actor: Principal, start: datetime, end: datetime, updated_since: datetime
) -> list[str]:
    """Ids of the period's shifts the caregiver held and lost after `updated_since` (reassigned, swapped,
    opened): what a delta cannot show as a shift, since the caller may no longer see it."""
    require_role(actor, Role.CAREGIVER)
    start, end = checked_period(start, end, MAX_LIST_PERIOD)
    f = ShiftFilter(agency_id=actor.agency_id, start=start, end=end, caregiver_id=actor.user_id)
    return await ports.store.shifts.left_caregiver(f, checked_since(updated_since), MAX_FORMER_SHIFTS)


def checked_since(updated_since: datetime) -> datetime:
    if updated_since.tzinfo is None:
        raise ValidationFailed("updatedSince needs a time zone offset.", field="updatedSince")
    return updated_since


async def list_shifts(
    ports: Ports,
    actor: Principal,
    start: datetime,
    end: datetime,
    page: PageRequest,
    *,
    person_id: str | None = None,
    caregiver_id: str | None = None,
    statuses: tuple[ShiftStatus, ...] | None = None,
) -> Page[Shift]:
    """Coordinators: the agency's shifts overlapping the period, filtered, soonest first."""
    require_role(actor, Role.COORDINATOR)
    start, end = checked_period(start, end, MAX_LIST_PERIOD)
    if any(v is not None and not is_valid_id(v) for v in (person_id, caregiver_id)):
        return EMPTY
    f = ShiftFilter(actor.agency_id, start, end, person_id, caregiver_id, statuses or None)
    return await _audited_page(ports, actor, await ports.store.shifts.search(f, page))


async def person_shifts(
    ports: Ports, actor: Principal, person: Person, start: datetime, end: datetime, page: PageRequest
) -> Page[Shift]:
    """A person's visits: all for coordinators and guardians allowed `visits`, a caregiver's own."""
    return (await people_shifts(ports, actor, [person], start, end, page)).get(person.id, EMPTY)


async def people_shifts(
    ports: Ports, actor: Principal, people: Sequence[Person], start: datetime, end: datetime, page: PageRequest
) -> dict[str, Page[Shift]]:
    """`person_shifts` for many people (a DataLoader batch): one read and one audit write, keyed by person id."""
    start, end = checked_period(start, end, MAX_LIST_PERIOD)
    caregiver_id: str | None = None
    match actor.role:
        case Role.COORDINATOR:
            shown = list(people)
        case Role.CAREGIVER:
            shown, caregiver_id = list(people), actor.user_id
        case Role.FAMILY:
            shown = [p for p in people if can_see_part(actor, p, GuardianPermission.VISITS)]
        case _:
            shown = []
    f = ShiftFilter(actor.agency_id, start, end, caregiver_id=caregiver_id)
    pages = await ports.store.shifts.search_per_person(f, [p.id for p in shown], page)
    await record(ports, actor, "shift.read", "Shift", (s.id for p in pages.values() for s in p.items))
    return pages


async def _audited_page(ports: Ports, actor: Principal, page: Page[Shift]) -> Page[Shift]:
    await record(ports, actor, "shift.read", "Shift", (s.id for s in page.items))
    return page


async def coverage_gaps(
    ports: Ports,
    actor: Principal,
    start: datetime,
    end: datetime,
    page: PageRequest,
    *,
    person_id: str | None = None,
) -> Page[CoverageGap]:
    """Coordinators: support hours with no shift, and open, late and missed shifts, soonest first.

    Three queries whatever the size of the agency (people's support hours, the period's shifts in
    summary, then the whole of the shifts on the page); the rest is computed in memory in the
    agency's time zone (carecore.shifts.coverage).
    """
    require_role(actor, Role.COORDINATOR)
    start, end = checked_period(start, end, MAX_COVERAGE_PERIOD)
    if person_id is not None:
        await person_in_scope(ports, actor, person_id, field="personId")
    agency = await get_agency(ports, actor.agency_id)
    hours = await ports.store.people.support_hours(actor.agency_id, person_id)
    summaries = await ports.store.shifts.in_period(actor.agency_id, start, end, person_id)
    gaps = compute_gaps(hours, summaries, start, end, zone(agency), ports.clock.now())
    after = [g for g in gaps if page.after is None or g.cursor > page.after]
    shown = after[: page.first]
    shift_ids = [g.shift_id for g in shown if g.shift_id]
    full = await ports.store.shifts.get_many(shift_ids) if shift_ids else {}
    edges = [(g.cursor, replace(g, shift=full.get(g.shift_id)) if g.shift_id else g) for g in shown]
    await record(ports, actor, "coverage.read", "Agency", [actor.agency_id])
    return Page(edges=edges, has_next_page=len(after) > page.first)
