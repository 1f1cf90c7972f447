"""An agency's records as FHIR resources, one type at a time, streamed from the database (bulk export).

Only coordinators of the agency export, and each incident passes the same safeguarding check as
everywhere (carecore.incidents.access.can_see_incident): an abuse report never reaches the person it
names, not as a Task and not as a Communication about it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Generic, TypeVar

from carecore.access.policy import can_see_person, require_role
from carecore.access.principal import Principal, Role
from carecore.agencies.service import get_agency
from carecore.alerts.models import Notification
from carecore.care_plans.models import CarePlan
from carecore.errors import NotFound
from carecore.fhir import mapping
from carecore.fhir.mapping import Json
from carecore.incidents.access import can_see_incident
from carecore.incidents.models import Incident
from carecore.people.models import Person
from carecore.ports import Ports
from carecore.reachability.models import UNREACHABLE
from carecore.users.models import User

# The order of the files in a manifest: who first, then what refers to them.
EXPORT_TYPES = (
    "Organization",
    "Practitioner",
    "PractitionerRole",
    "Patient",
    "RelatedPerson",
    "CareTeam",
    "Flag",
    "CarePlan",
    "Goal",
    "Observation",
    "Task",
    "Communication",
    "Appointment",
    "Encounter",
)
STAFF = (Role.COORDINATOR, Role.CAREGIVER)

V = TypeVar("V")


class Recent(Generic[V]):
    """A small cache of the last objects looked up, so memory stays flat however large the agency."""

    def __init__(self, load: Callable[[str], Awaitable[V | None]], size: int = 256) -> None:
        self._load = load
        self._size = size
        self._items: OrderedDict[str, V | None] = OrderedDict()

    async def get(self, key: str) -> V | None:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = await self._load(key)
        self._items[key] = value
        if len(self._items) > self._size:
            self._items.popitem(last=False)
        return value


def check_exporter(actor: Principal, agency_id: str) -> None:
    """Coordinators of the agency only: anyone else's agency answers like one that does not exist."""
    require_role(actor, Role.COORDINATOR)
    if actor.agency_id != agency_id:
        raise NotFound("Group", agency_id)


class AgencyResources:
    """The resources of one type for one coordinator, changed after `since` when given."""

    def __init__(self, ports: Ports, actor: Principal, since: datetime | None = None) -> None:
        require_role(actor, Role.COORDINATOR)
        self._ports = ports
        self._actor = actor
        self._agency = actor.agency_id
        self._since = since
        self._reads = ports.store.export_reads
        self._people: Recent[Person] = Recent(ports.store.people.get)
        self._users: Recent[User] = Recent(ports.store.users.get)
        self._incidents: Recent[Incident] = Recent(ports.store.incidents.get)

    def of_type(self, resource_type: str) -> AsyncIterator[Json]:
        streams: dict[str, Callable[[], AsyncIterator[Json]]] = {
            "Organization": self._organization,
            "Practitioner": self._practitioners,
            "PractitionerRole": self._practitioner_roles,
            "Patient": self._patients,
            "RelatedPerson": self._related_people,
            "CareTeam": self._care_teams,
            "Flag": self._flags,
            "CarePlan": self._care_plans,
            "Goal": self._goals,
            "Observation": self._observations,
            "Task": self._tasks,
            "Communication": self._communications,
            "Appointment": self._appointments,
            "Encounter": self._encounters,
        }
        return streams[resource_type]()

    async def _organization(self) -> AsyncIterator[Json]:
        yield mapping.organization(await get_agency(self._ports, self._agency))

    async def _staff(self) -> AsyncIterator[User]:
        async for user in self._reads.users(self._agency, self._since):
            if user.role in STAFF:
                yield user

    async def _practitioners(self) -> AsyncIterator[Json]:
        async for user in self._staff():
            profile = await self._ports.store.caregiver_profiles.get(user.id) if user.role is Role.CAREGIVER else None
            quals = [(q.code, q.expires_on) for q in profile.qualifications] if profile else []
            yield mapping.practitioner(user, quals)

    async def _practitioner_roles(self) -> AsyncIterator[Json]:
        async for user in self._staff():
            yield mapping.practitioner_role(user)

    async def _visible_people(self) -> AsyncIterator[Person]:
        async for person in self._reads.people(self._agency, self._since):
            if can_see_person(self._actor, person):
                yield person

    async def _patients(self) -> AsyncIterator[Json]:
        async for person in self._visible_people():
            yield mapping.patient(person)

    async def _related_people(self) -> AsyncIterator[Json]:
        async for person in self._visible_people():
            guardians = await self._ports.store.users.get_many(g.user_id for g in person.guardians)
            for link in person.guardians:
                if (user := guardians.get(link.user_id)) is not None:
                    yield mapping.related_person(person, link, user)

    async def _care_teams(self) -> AsyncIterator[Json]:
        async for person in self._visible_people():
            yield mapping.care_team(person)

    async def _flags(self) -> AsyncIterator[Json]:
        async for person in self._visible_people():
            for index, protocol in enumerate(person.profile.protocols):
                yield mapping.protocol_flag(person, index, protocol)
            reach = await self._ports.store.reachability.get(person.id)
            if reach is not None and reach.state in UNREACHABLE:
                yield mapping.unreachable_flag(person, reach.state.value, reach.unreachable_since)

    async def _plans(self) -> AsyncIterator[tuple[Person, Json, CarePlan]]:
        async for plan in self._reads.care_plans(self._agency, self._since):
            person = await self._people.get(plan.person_id)
            if person is not None and can_see_person(self._actor, person):
                yield person, mapping.care_plan(plan, person.active_care_plan_id), plan

    async def _care_plans(self) -> AsyncIterator[Json]:
        async for _, resource, _ in self._plans():
            yield resource

    async def _goals(self) -> AsyncIterator[Json]:
        async for person, _, plan in self._plans():
            for g in plan.content.goals:
                yield mapping.goal(plan, person.active_care_plan_id, g)

    async def _observations(self) -> AsyncIterator[Json]:
        async for o in self._reads.accepted_observations(self._agency, self._since):
            yield mapping.observation(o)

    async def _visible_incident(self, incident: Incident) -> bool:
        person = await self._people.get(incident.person_id)
        return person is not None and can_see_incident(self._actor, incident, person)

    async def _tasks(self) -> AsyncIterator[Json]:
        async for incident in self._reads.incidents(self._agency, self._since):
            if await self._visible_incident(incident):
                yield mapping.task(incident)

    async def _visible_notification(self, n: Notification) -> User | None:
        """The recipient, when the notification's incident (if any) passes the safeguarding check."""
        if n.subject_type == "Incident":
            incident = await self._incidents.get(n.subject_id)
            if incident is None or not await self._visible_incident(incident):
                return None
        return await self._users.get(n.user_id)

    async def _communications(self) -> AsyncIterator[Json]:
        async for n in self._reads.notifications(self._agency, self._since):
            if (user := await self._visible_notification(n)) is not None:
                yield mapping.communication(n, user)
        async for notification_id, state in self._reads.callouts(self._agency):
            pushed = await self._ports.store.notifications.get(notification_id)
            if pushed is None or (self._since is not None and pushed.created_at <= self._since):
                continue
            if (user := await self._visible_notification(pushed)) is not None:
                yield mapping.call_communication(pushed, user, state)

    async def _appointments(self) -> AsyncIterator[Json]:
        async for shift in self._reads.shifts(self._agency, self._since):
            yield mapping.appointment(shift)

    async def _encounters(self) -> AsyncIterator[Json]:
        async for shift in self._reads.shifts(self._agency, self._since):
            if (resource := mapping.encounter(shift)) is not None:
                yield resource
