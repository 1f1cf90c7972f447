"""Reading incidents within the caller's scope: one, a list, the review queue, reports due, detector figures."""

from __future__ import annotations

from datetime import datetime

from carecore.access.policy import can_see_part, person_scope, require_role
from carecore.access.principal import Principal, Role
from carecore.audit.service import record
from carecore.errors import NotFound, ValidationFailed
from carecore.events.models import DomainEvent
from carecore.ids import is_valid_id
from carecore.incidents.access import can_see_incident, incident_scope
from carecore.incidents.events import INCIDENT_EVENTS
from carecore.incidents.models import DetectorStats, Incident, IncidentFilter, IncidentScope
from carecore.pagination import Page, PageRequest
from carecore.people.models import Person
from carecore.ports import Ports
from carecore.vocabulary import GuardianPermission


async def incident_in_scope(ports: Ports, actor: Principal, incident_id: str, *, field: str = "id") -> Incident:
    """An incident the caller may see, else NotFound (also for the person an abuse report names)."""
    incident, _ = await incident_with_person(ports, actor, incident_id, field=field)
    return incident


async def incident_with_person(
    ports: Ports, actor: Principal, incident_id: str, *, field: str = "id"
) -> tuple[Incident, Person]:
    incident = await ports.store.incidents.get(incident_id) if is_valid_id(incident_id) else None
    person = await ports.store.people.get(incident.person_id) if incident else None
    if incident is None or person is None or not can_see_incident(actor, incident, person):
        raise NotFound("Incident", incident_id, field=field)
    return incident, person


async def get_incident_or_raise(ports: Ports, actor: Principal, incident_id: str) -> Incident:
    """One incident with its timeline; audited as a read of health data."""
    incident = await incident_in_scope(ports, actor, incident_id)
    await record(ports, actor, "incident.read", "Incident", [incident.id])
    return incident


async def _scope(ports: Ports, actor: Principal) -> IncidentScope | None:
    people = person_scope(actor)
    if people is None:
        return None
    if actor.role is Role.COORDINATOR:
        return incident_scope(actor, None)
    # Family see incidents only of relatives whose link allows them; caregivers those of everyone they serve.
    visible = [
        p for p in await ports.store.people.in_scope(people) if can_see_part(actor, p, GuardianPermission.INCIDENTS)
    ]
    return incident_scope(actor, tuple(p.id for p in visible))


async def list_incidents(
    ports: Ports, actor: Principal, f: IncidentFilter, page: PageRequest, *, updated_since: datetime | None = None
) -> Page[Incident]:
    """Incidents the caller may see, newest first; with `updated_since`, those changed after it (a status
    change, a note, a merged flag), oldest change first: a mobile app's delta."""
    scope = await _scope(ports, actor)
    if scope is None:
        return Page(edges=[], has_next_page=False)
    if updated_since is not None and updated_since.tzinfo is None:
        raise ValidationFailed("updatedSince needs a time zone offset.", field="updatedSince")
    result = await ports.store.incidents.list(scope, f, page, updated_since=updated_since)
    await record(ports, actor, "incident.read", "Incident", (i.id for i in result.items))
    return result


async def review_queue(ports: Ports, actor: Principal, page: PageRequest) -> Page[Incident]:
    """Coordinators: flags waiting for a confirmation or a dismissal, oldest first."""
    require_role(actor, Role.COORDINATOR)
    result = await ports.store.incidents.review_queue(incident_scope(actor, None), page)
    await record(ports, actor, "incident.read", "Incident", (i.id for i in result.items))
    return result


async def reports_due(ports: Ports, actor: Principal, page: PageRequest) -> Page[Incident]:
    """Coordinators: incidents still to be reported to the authority, the most pressing first."""
    require_role(actor, Role.COORDINATOR)
    result = await ports.store.incidents.reports_due(incident_scope(actor, None), page)
    await record(ports, actor, "incident.read", "Incident", (i.id for i in result.items))
    return result


async def detector_stats(ports: Ports, actor: Principal) -> list[DetectorStats]:
    """Coordinators: confirmations against dismissals per detector and model version."""
    require_role(actor, Role.COORDINATOR)
    return await ports.store.incidents.detector_stats(actor.agency_id)


async def incident_for_update(
    ports: Ports, actor: Principal, event: DomainEvent, person_id: str | None = None
) -> Incident | None:
    """The incident an event announces, if the subscriber may see it (re-checked on every event)."""
    if event.kind not in INCIDENT_EVENTS:  # the feed carries other kinds for other subscriptions
        return None
    if event.agency_id != actor.agency_id or (person_id is not None and event.person_id != person_id):
        return None
    try:
        incident = await incident_in_scope(ports, actor, event.subject_id)
    except NotFound:
        return None
    await record(ports, actor, "incident.read", "Incident", [incident.id])
    return incident


async def check_watch(ports: Ports, actor: Principal, person_id: str | None) -> None:
    """May the caller follow incidents live (of one person, when given)? AI services may not."""
    require_role(actor, Role.COORDINATOR, Role.CAREGIVER, Role.FAMILY)
    if person_id is None:
        return
    person = await ports.store.people.get(person_id) if is_valid_id(person_id) else None
    if person is None or not can_see_part(actor, person, GuardianPermission.INCIDENTS):
        raise NotFound("Person", person_id, field="personId")
