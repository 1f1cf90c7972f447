"""Mutation inputs and their conversion to the core's values; rules are checked by the core."""

from __future__ import annotations

from datetime import date, time

import strawberry

from carecore.access.principal import Role as DomainRole
from carecore.care_plans.models import Goal, PlanContent, RiskProtocol, SupportTask, TaskSchedule
from carecore.care_plans.models import TaskCategory as DomainCategory
from carecore.ids import new_id
from carecore.incidents.models import IncidentType as DomainIncidentType
from carecore.people.models import (
    Allergy,
    CommunicationProfile,
    EmergencyContact,
    ExternalRef,
    HomeLocation,
    PersonProfile,
    Protocol,
    SupportWindow,
)
from carecore.people.models import GuardianPermission as DomainPermission
from carecore.people.models import SupportLevel as DomainSupportLevel
from carecore.users.models import UserFields
from schema.types.care_plans import IncidentType, TaskCategory
from schema.types.people import GuardianPermission, SupportLevel
from schema.types.users import Role

ALL_WEEKDAYS = [0, 1, 2, 3, 4, 5, 6]


@strawberry.input
class CommunicationInput:
    verbal: bool = True
    aac: str | None = None
    distress_signs: str = ""
    notes: str = ""


@strawberry.input
class SupportWindowInput:
    weekdays: list[int]
    start: time
    end: time


@strawberry.input
class AllergyInput:
    substance: str
    reaction: str = ""
    severe: bool = False


@strawberry.input
class ProtocolInput:
    incident_type: IncidentType  # type: ignore[valid-type]
    instructions: str
    call_emergency_after_minutes: int | None = None


@strawberry.input
class EmergencyContactInput:
    name: str
    relationship: str
    phone: str


@strawberry.input
class HomeLocationInput:
    address: str
    latitude: float
    longitude: float
    geofence_radius_m: int = 150


@strawberry.input
class ExternalRefInput:
    service: str
    reference: str


@strawberry.input
class PersonInput:
    name: str
    preferred_name: str | None = None
    date_of_birth: date | None = None
    language: str = "ko"
    communication: CommunicationInput | None = None
    support_level: SupportLevel = DomainSupportLevel.MODERATE  # type: ignore[valid-type]
    support_hours: list[SupportWindowInput] = strawberry.field(default_factory=list)
    allergies: list[AllergyInput] = strawberry.field(default_factory=list)
    protocols: list[ProtocolInput] = strawberry.field(default_factory=list)
    emergency_contacts: list[EmergencyContactInput] = strawberry.field(default_factory=list)
    home: HomeLocationInput | None = None
    external_refs: list[ExternalRefInput] = strawberry.field(default_factory=list)
    active: bool = True

    def to_domain(self) -> PersonProfile:
        c = self.communication or CommunicationInput()
        h = self.home
        return PersonProfile(
            name=self.name,
            preferred_name=self.preferred_name,
            date_of_birth=self.date_of_birth,
            language=self.language,
            communication=CommunicationProfile(c.verbal, c.aac, c.distress_signs, c.notes),
            support_level=DomainSupportLevel(self.support_level),
            support_hours=tuple(SupportWindow(tuple(w.weekdays), w.start, w.end) for w in self.support_hours),
            allergies=tuple(Allergy(a.substance, a.reaction, a.severe) for a in self.allergies),
            protocols=tuple(
                Protocol(DomainIncidentType(x.incident_type), x.instructions, x.call_emergency_after_minutes)
                for x in self.protocols
            ),
            emergency_contacts=tuple(
                EmergencyContact(e.name, e.relationship, e.phone) for e in self.emergency_contacts
            ),
            home=None if h is None else HomeLocation(h.address, h.latitude, h.longitude, h.geofence_radius_m),
            external_refs=tuple(ExternalRef(r.service, r.reference) for r in self.external_refs),
            active=self.active,
        )


@strawberry.input
class CreatePersonInput:
    person: PersonInput
    idempotency_key: str | None = None


@strawberry.input
class UpdatePersonInput:
    id: strawberry.ID
    expected_revision: int
    person: PersonInput


@strawberry.input
class LinkGuardianInput:
    person_id: strawberry.ID
    user_id: strawberry.ID
    relationship: str
    permissions: list[GuardianPermission]  # type: ignore[valid-type]

    def permission_set(self) -> frozenset[DomainPermission]:
        return frozenset(DomainPermission(p) for p in self.permissions)


@strawberry.input
class UnlinkGuardianInput:
    person_id: strawberry.ID
    user_id: strawberry.ID


@strawberry.input
class SetCareTeamInput:
    person_id: strawberry.ID
    user_ids: list[strawberry.ID]


@strawberry.input
class GoalInput:
    description: str
    measure: str
    target_date: date | None = None
    id: strawberry.ID | None = strawberry.field(default=None, description="Keep to carry a goal over to a new version.")


@strawberry.input
class TaskScheduleInput:
    times_of_day: list[time] = strawberry.field(default_factory=list)
    every_hours: int | None = None
    weekdays: list[int] = strawberry.field(default_factory=lambda: list(ALL_WEEKDAYS))


@strawberry.input
class SupportTaskInput:
    category: TaskCategory  # type: ignore[valid-type]
    title: str
    schedule: TaskScheduleInput
    instructions: str = ""
    critical: bool = False
    id: strawberry.ID | None = strawberry.field(default=None, description="Keep to carry a task over to a new version.")


@strawberry.input
class RiskProtocolInput:
    incident_type: IncidentType  # type: ignore[valid-type]
    instructions: str


@strawberry.input
class PlanContentInput:
    summary: str = ""
    goals: list[GoalInput] = strawberry.field(default_factory=list)
    tasks: list[SupportTaskInput] = strawberry.field(default_factory=list)
    risk_protocols: list[RiskProtocolInput] = strawberry.field(default_factory=list)
    review_date: date | None = None

    def to_domain(self) -> PlanContent:
        return PlanContent(
            summary=self.summary,
            review_date=self.review_date,
            goals=tuple(Goal(g.id or new_id(), g.description, g.measure, g.target_date) for g in self.goals),
            tasks=tuple(
                SupportTask(
                    id=t.id or new_id(),
                    category=DomainCategory(t.category),
                    title=t.title,
                    instructions=t.instructions,
                    critical=t.critical,
                    schedule=TaskSchedule(
                        tuple(t.schedule.times_of_day), t.schedule.every_hours, tuple(t.schedule.weekdays)
                    ),
                )
                for t in self.tasks
            ),
            risk_protocols=tuple(
                RiskProtocol(DomainIncidentType(r.incident_type), r.instructions) for r in self.risk_protocols
            ),
        )


@strawberry.input
class CreateCarePlanDraftInput:
    person_id: strawberry.ID
    content: PlanContentInput | None = strawberry.field(
        default=None, description="Leave out to start from a copy of the active version."
    )
    idempotency_key: str | None = None


@strawberry.input
class UpdateCarePlanDraftInput:
    plan_id: strawberry.ID
    expected_revision: int
    content: PlanContentInput


@strawberry.input
class CarePlanRevisionInput:
    plan_id: strawberry.ID
    expected_revision: int


@strawberry.input
class AcknowledgeCarePlanInput:
    plan_id: strawberry.ID


@strawberry.input
class CreateUserInput:
    firebase_uid: str
    display_name: str
    role: Role  # type: ignore[valid-type]
    locale: str = "ko"
    email: str | None = None
    phone: str | None = None
    idempotency_key: str | None = None

    def fields(self) -> UserFields:
        return UserFields(
            display_name=self.display_name,
            role=DomainRole(self.role),
            locale=self.locale,
            email=self.email,
            phone=self.phone,
        )


@strawberry.input
class UpdateUserInput:
    id: strawberry.ID
    expected_revision: int
    display_name: str | None = None
    role: Role | None = None  # type: ignore[valid-type]
    locale: str | None = None
    email: str | None = None
    phone: str | None = None
    active: bool | None = None

    def fields(self) -> UserFields:
        return UserFields(
            display_name=self.display_name,
            role=DomainRole(self.role) if self.role is not None else None,
            locale=self.locale,
            email=self.email,
            phone=self.phone,
            active=self.active,
        )
