"""FHIR read and search for the agency's coordinators, on the same services (scope, audit) as GraphQL.

Every function requires the coordinator role first (Forbidden: 403 for caregivers, families and AI
services), then finds objects through the core's scoped reads, so another agency's objects are NotFound
(404), exactly like ids that do not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from carecore.access.policy import can_see_person, require_role
from carecore.access.principal import Principal, Role
from carecore.audit.service import record
from carecore.care_plans.service import list_versions
from carecore.errors import NotFound, ValidationFailed
from carecore.fhir import codes, mapping
from carecore.fhir.mapping import Json
from carecore.health.models import Metric, ObservationStatus
from carecore.health.service import list_observations
from carecore.incidents.models import IncidentFilter, IncidentStatus
from carecore.incidents.reads import list_incidents
from carecore.pagination import MAX_PAGE_SIZE, PageRequest
from carecore.people.models import ExternalRef, Person
from carecore.people.service import get_person_or_raise, person_in_scope
from carecore.ports import Ports


@dataclass(frozen=True, slots=True)
class Found:
    """One page of a search: the resources, and the cursor of the next page when there is one."""

    resources: list[Json]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class DateRange:
    """[start, end) from FHIR `date` parameters (ge, gt, le, lt, eq on a date or a dateTime)."""

    start: datetime | None = None
    end: datetime | None = None

    def holds(self, at: datetime) -> bool:
        return (self.start is None or at >= self.start) and (self.end is None or at < self.end)


def _bounds(value: str) -> tuple[datetime, datetime]:
    """The interval a date or dateTime value covers: a day, a month, a year, or one second."""
    try:
        if len(value) == 4:
            year = int(value)
            return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
        if len(value) == 7:
            first = date.fromisoformat(f"{value}-01")
            following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return datetime.combine(first, time(), UTC), datetime.combine(following, time(), UTC)
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day, time(), UTC), datetime.combine(day + timedelta(days=1), time(), UTC)
        at = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"date: {value!r} is not a FHIR date or dateTime.", field="date") from None
    if at.tzinfo is None:
        raise ValidationFailed("date: a dateTime needs its time zone.", field="date")
    return at, at + timedelta(seconds=1)


def date_range(values: list[str]) -> DateRange:
    start: datetime | None = None
    end: datetime | None = None
    for raw in values:
        prefix, value = (raw[:2], raw[2:]) if raw[:2].isalpha() else ("eq", raw)
        low, high = _bounds(value)
        lo: datetime | None
        hi: datetime | None
        match prefix:
            case "eq":
                lo, hi = low, high
            case "ge":
                lo, hi = low, None
            case "gt":
                lo, hi = high, None
            case "le":
                lo, hi = None, high
            case "lt":
                lo, hi = None, low
            case _:
                raise ValidationFailed(f"date: the prefix {prefix!r} is not supported.", field="date")
        start = lo if start is None or (lo is not None and lo > start) else start
        end = hi if end is None or (hi is not None and hi < end) else end
    return DateRange(start, end)


def page_request(count: int | None, cursor: str | None) -> PageRequest:
    return PageRequest(first=min(count or 20, MAX_PAGE_SIZE), after=cursor or None)


async def read_patient(ports: Ports, actor: Principal, person_id: str) -> Json:
    """Patient/{id}: one person of the agency, audited as a read."""
    require_role(actor, Role.COORDINATOR)
    return mapping.patient(await get_person_or_raise(ports, actor, person_id))


async def search_patients(ports: Ports, actor: Principal, identifier: str) -> Found:
    """Patient?identifier=system|value: by carecore's id, or by a reference the agency gave an AI service.

    A system naming another agency's references is NotFound: nobody learns whom another agency serves.
    """
    require_role(actor, Role.COORDINATOR)
    system, sep, value = identifier.rpartition("|")
    if not sep or not system or not value:
        raise ValidationFailed("identifier must be system|value.", field="identifier")
    person: Person | None
    if system == codes.PERSON_ID_SYSTEM:
        try:
            person = await person_in_scope(ports, actor, value, field="identifier")
        except NotFound:
            person = None
    else:
        namespace = codes.parse_external_ref_system(system)
        if namespace is None:
            raise ValidationFailed(f"Unknown identifier system {system}.", field="identifier")
        agency_id, service = namespace
        if agency_id != actor.agency_id:
            raise NotFound("Patient", identifier, field="identifier")
        person = await ports.store.people.by_external_ref(agency_id, ExternalRef(service, value))
        if person is not None and not can_see_person(actor, person):
            person = None
    if person is None:
        return Found([])
    await record(ports, actor, "person.read", "Person", [person.id])
    return Found([mapping.patient(person)])


def metric_param(code: str) -> Metric:
    system, sep, value = code.rpartition("|")
    by_code = next((m for m in Metric if m.value == value), None)
    metric = codes.metric_of(system, value) if sep and system else by_code
    if metric is None:
        raise ValidationFailed(f"code: carecore takes no readings of {code!r}.", field="code")
    return metric


async def search_observations(
    ports: Ports,
    actor: Principal,
    patient_id: str,
    *,
    code: str | None,
    dates: list[str],
    page: PageRequest,
) -> Found:
    """Observation?patient=&code=&date=: a person's accepted readings, newest first."""
    require_role(actor, Role.COORDINATOR)
    metric = metric_param(code) if code else None
    within = date_range(dates)
    person = await person_in_scope(ports, actor, patient_id, field="patient")
    found: list[Json] = []
    after = page.after
    while True:
        # Pages of the health core's own list (scoped and audited there), filtered to the date range:
        # the list runs newest first, so once past the range's start nothing later can match.
        chunk = await list_observations(ports, actor, person.id, PageRequest(MAX_PAGE_SIZE, after), metric=metric)
        for cursor, o in chunk.edges:
            at = o.reading.effective_at
            if within.start is not None and at < within.start:
                return Found(found)
            if o.status is ObservationStatus.ACCEPTED and within.holds(at):
                found.append(mapping.observation(o))
                if len(found) == page.first:
                    return Found(found, cursor)
            after = cursor
        if not chunk.has_next_page:
            return Found(found)


async def search_care_plans(
    ports: Ports, actor: Principal, patient_id: str, *, status: str | None, page: PageRequest
) -> Found:
    """CarePlan?patient=&status=: a person's plan versions, newest first, with their goals' references."""
    require_role(actor, Role.COORDINATOR)
    if status is not None and status not in mapping.PLAN_STATUS_CODES:
        raise ValidationFailed(f"status must be one of {', '.join(mapping.PLAN_STATUS_CODES)}.", field="status")
    person = await person_in_scope(ports, actor, patient_id, field="patient")
    found: list[Json] = []
    after = page.after
    while True:
        chunk = await list_versions(ports, actor, person, PageRequest(page.first, after))
        for cursor, plan in chunk.edges:
            resource = mapping.care_plan(plan, person.active_care_plan_id)
            if status is None or resource["status"] == status:
                found.append(resource)
                if len(found) == page.first:
                    return Found(found, cursor)
            after = cursor
        if not chunk.has_next_page:
            return Found(found)


async def search_tasks(
    ports: Ports, actor: Principal, patient_id: str, *, status: str | None, page: PageRequest
) -> Found:
    """Task?patient=&status=: a person's incidents as Tasks, newest first, safeguarding rules applied."""
    require_role(actor, Role.COORDINATOR)
    statuses: tuple[IncidentStatus, ...] = ()
    if status is not None:
        statuses = mapping.incident_statuses(status)
        if not statuses:
            raise ValidationFailed(f"status must be one of {', '.join(mapping.TASK_STATUS_CODES)}.", field="status")
    person = await person_in_scope(ports, actor, patient_id, field="patient")
    result = await list_incidents(ports, actor, IncidentFilter(person_id=person.id, statuses=statuses), page)
    return Found([mapping.task(i) for i in result.items], result.end_cursor if result.has_next_page else None)
