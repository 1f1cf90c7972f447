"""Person types; nested lists resolve through the request's DataLoaders."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, TypeAlias

import strawberry

from carecore.access.policy import can_see_external_refs, can_see_guardian_link, can_see_part
from carecore.people.models import GuardianPermission as DomainPermission
from carecore.people.models import Person as DomainPerson
from carecore.people.models import SupportLevel as DomainSupportLevel
from schema.context import Context, PersonPage
from schema.types.care_plans import CarePlan, IncidentType
from schema.types.connections import Connection, connection, page_request
from schema.types.shifts import Shift, agency_zone
from schema.types.users import User

SupportLevel: TypeAlias = Annotated[DomainSupportLevel, strawberry.enum(name="SupportLevel")]
GuardianPermission: TypeAlias = Annotated[DomainPermission, strawberry.enum(name="GuardianPermission")]


@strawberry.type
class CommunicationProfile:
    verbal: bool
    aac: str | None
    distress_signs: str
    notes: str


@strawberry.type
class SupportWindow:
    weekdays: list[int]
    start: time
    end: time = strawberry.field(description="Equal to start: all day. Before start: runs past midnight.")


@strawberry.type
class Allergy:
    substance: str
    reaction: str
    severe: bool


@strawberry.type
class Protocol:
    incident_type: IncidentType
    instructions: str
    call_emergency_after_minutes: int | None


@strawberry.type
class EmergencyContact:
    name: str
    relationship: str
    phone: str


@strawberry.type
class HomeLocation:
    address: str
    latitude: float
    longitude: float
    geofence_radius_m: int


@strawberry.type
class ExternalRef:
    service: str
    reference: str


@strawberry.type
class GuardianLink:
    user_id: strawberry.ID
    relationship: str
    permissions: list[GuardianPermission]

    @strawberry.field
    async def user(self, info: strawberry.Info[Context, None]) -> User | None:
        found = await info.context.loaders.users.load(self.user_id)
        return User.from_domain(found) if found else None


@strawberry.type
class Person:
    domain: strawberry.Private[DomainPerson]
    id: strawberry.ID
    name: str
    preferred_name: str | None
    date_of_birth: date | None
    language: str
    support_level: SupportLevel
    communication: CommunicationProfile
    support_hours: list[SupportWindow]
    allergies: list[Allergy]
    protocols: list[Protocol]
    emergency_contacts: list[EmergencyContact]
    home: HomeLocation | None
    active: bool
    revision: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, p: DomainPerson) -> Person:
        f = p.profile
        c = f.communication
        return cls(
            domain=p,
            id=strawberry.ID(p.id),
            name=f.name,
            preferred_name=f.preferred_name,
            date_of_birth=f.date_of_birth,
            language=f.language,
            support_level=f.support_level,
            communication=CommunicationProfile(
                verbal=c.verbal, aac=c.aac, distress_signs=c.distress_signs, notes=c.notes
            ),
            support_hours=[SupportWindow(weekdays=list(w.weekdays), start=w.start, end=w.end) for w in f.support_hours],
            allergies=[Allergy(substance=a.substance, reaction=a.reaction, severe=a.severe) for a in f.allergies],
            protocols=[
                Protocol(
                    incident_type=x.incident_type,
                    instructions=x.instructions,
                    call_emergency_after_minutes=x.call_emergency_after_minutes,
                )
                for x in f.protocols
            ],
            emergency_contacts=[
                EmergencyContact(name=e.name, relationship=e.relationship, phone=e.phone) for e in f.emergency_contacts
            ],
            home=None
            if f.home is None
            else HomeLocation(
                address=f.home.address,
                latitude=f.home.latitude,
                longitude=f.home.longitude,
                geofence_radius_m=f.home.geofence_radius_m,
            ),
            active=f.active,
            revision=p.revision,
            created_at=p.created_at,
            updated_at=p.updated_at,
        )

    @strawberry.field(description="CO2 retainer (SpO2 rule at 83 %); null unless you may see health data.")
    def co2_retainer(self, info: strawberry.Info[Context, None]) -> bool | None:
        visible = can_see_part(info.context.principal, self.domain, DomainPermission.HEALTH)
        return self.domain.profile.co2_retainer if visible else None

    @strawberry.field(description="How the agency's AI services name this person; coordinators only.")
    def external_refs(self, info: strawberry.Info[Context, None]) -> list[ExternalRef]:
        if not can_see_external_refs(info.context.principal):
            return []
        return [ExternalRef(service=r.service, reference=r.reference) for r in self.domain.profile.external_refs]

    @strawberry.field
    def guardians(self, info: strawberry.Info[Context, None]) -> list[GuardianLink]:
        principal = info.context.principal
        return [
            GuardianLink(
                user_id=strawberry.ID(g.user_id), relationship=g.relationship, permissions=sorted(g.permissions)
            )
            for g in self.domain.guardians
            if can_see_guardian_link(principal, g.user_id)
        ]

    @strawberry.field
    async def care_team(self, info: strawberry.Info[Context, None]) -> list[User]:
        found = await info.context.loaders.users.load_many(list(self.domain.care_team))
        return [User.from_domain(u) for u in found if u is not None]

    @strawberry.field
    async def active_care_plan(self, info: strawberry.Info[Context, None]) -> CarePlan | None:
        plan = await info.context.loaders.active_plans.load(self.domain)
        return CarePlan.from_domain(plan, self.domain.active_care_plan_id) if plan else None

    @strawberry.field
    async def care_plan_versions(
        self, info: strawberry.Info[Context, None], first: int | None = None, after: str | None = None
    ) -> Connection[CarePlan]:
        page = await info.context.loaders.plan_versions.load(PersonPage(self.domain, page_request(first, after)))
        return connection(page, lambda p: CarePlan.from_domain(p, self.domain.active_care_plan_id), after=after)

    @strawberry.field(
        description="Visits overlapping [from, to): coordinators see all, caregivers their own, and family "
        "when their guardian link allows `visits`."
    )
    async def shifts(
        self,
        info: strawberry.Info[Context, None],
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Shift]:
        page = await info.context.loaders.shifts.load(PersonPage(self.domain, page_request(first, after), from_, to))
        tz, now = await agency_zone(info), info.context.ports.clock.now()
        return connection(page, lambda s: Shift.from_domain(s, tz, now), after=after)
