"""People supported (이용자) and the links of families and caregivers to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum

from carecore.vocabulary import GuardianPermission as GuardianPermission
from carecore.vocabulary import IncidentType


class SupportLevel(StrEnum):
    LOW = "LOW"
    MODERATE = "MODERATE"
    HIGH = "HIGH"
    INTENSIVE = "INTENSIVE"  # 최중증: round-the-clock, one-to-one support


@dataclass(frozen=True, slots=True)
class CommunicationProfile:
    verbal: bool = True
    aac: str | None = None
    distress_signs: str = ""
    notes: str = ""


@dataclass(frozen=True, slots=True)
class SupportWindow:
    """Hours that must be covered, in the agency's time zone; end <= start runs past midnight."""

    weekdays: tuple[int, ...]  # 0 = Monday
    start: time
    end: time

    @property
    def is_all_day(self) -> bool:
        return self.start == self.end


@dataclass(frozen=True, slots=True)
class Allergy:
    substance: str
    reaction: str = ""
    severe: bool = False


@dataclass(frozen=True, slots=True)
class Protocol:
    incident_type: IncidentType
    instructions: str
    call_emergency_after_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class EmergencyContact:
    name: str
    relationship: str
    phone: str


@dataclass(frozen=True, slots=True)
class GuardianLink:
    user_id: str
    relationship: str
    permissions: frozenset[GuardianPermission]


@dataclass(frozen=True, slots=True)
class HomeLocation:
    address: str
    latitude: float
    longitude: float
    geofence_radius_m: int = 150


@dataclass(frozen=True, slots=True)
class ExternalRef:
    """How an AI service of the agency names this person (e.g. a wellness-call bot's subscriber id)."""

    service: str
    reference: str


@dataclass(frozen=True, slots=True)
class PersonProfile:
    """Everything a coordinator edits about a person, as one value to validate and store."""

    name: str
    preferred_name: str | None = None
    date_of_birth: date | None = None
    language: str = "ko"
    communication: CommunicationProfile = field(default_factory=CommunicationProfile)
    support_level: SupportLevel = SupportLevel.MODERATE
    support_hours: tuple[SupportWindow, ...] = ()
    allergies: tuple[Allergy, ...] = ()
    protocols: tuple[Protocol, ...] = ()
    emergency_contacts: tuple[EmergencyContact, ...] = ()
    home: HomeLocation | None = None
    external_refs: tuple[ExternalRef, ...] = ()
    active: bool = True
    co2_retainer: bool = False  # chronic CO2 retention (e.g. COPD): the SpO2 safety rule uses 83 %, not 91 %


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    agency_id: str
    profile: PersonProfile
    guardians: tuple[GuardianLink, ...]
    care_team: tuple[str, ...]
    active_care_plan_id: str | None
    revision: int
    created_at: datetime
    updated_at: datetime

    @property
    def name(self) -> str:
        return self.profile.name

    def guardian_link(self, user_id: str) -> GuardianLink | None:
        return next((g for g in self.guardians if g.user_id == user_id), None)
