"""Inputs of the people mutations."""

from __future__ import annotations

from datetime import date, time

import strawberry

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
from schema.types.care_plans import IncidentType
from schema.types.people import GuardianPermission, SupportLevel


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
    incident_type: IncidentType
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
    support_level: SupportLevel = DomainSupportLevel.MODERATE
    support_hours: list[SupportWindowInput] = strawberry.field(default_factory=list)
    allergies: list[AllergyInput] = strawberry.field(default_factory=list)
    protocols: list[ProtocolInput] = strawberry.field(default_factory=list)
    emergency_contacts: list[EmergencyContactInput] = strawberry.field(default_factory=list)
    home: HomeLocationInput | None = None
    external_refs: list[ExternalRefInput] = strawberry.field(default_factory=list)
    active: bool = True
    co2_retainer: bool = strawberry.field(
        default=False, description="Chronic CO2 retention: the SpO2 safety rule alerts at 83 %, not 91 %."
    )

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
            co2_retainer=self.co2_retainer,
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
    permissions: list[GuardianPermission]

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
