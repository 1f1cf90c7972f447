"""The words several domains share: an incident's type, severity and source, who an alert goes to and what
it is about, a guardian's permissions, a care plan's status and a task's category.

A leaf: it imports nothing from carecore, so a domain names these without importing another domain.
Each domain's models module re-exports the ones it owns.
"""

from __future__ import annotations

from enum import StrEnum


class IncidentType(StrEnum):
    FALL = "FALL"
    SEIZURE = "SEIZURE"
    WANDERING = "WANDERING"
    SELF_INJURY = "SELF_INJURY"
    AGGRESSION = "AGGRESSION"
    MEDICAL = "MEDICAL"
    NO_RESPONSE = "NO_RESPONSE"
    MEDICATION = "MEDICATION"
    MISSED_VISIT = "MISSED_VISIT"
    OTHER = "OTHER"


class Severity(StrEnum):
    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"

    @property
    def rank(self) -> int:
        """Higher is more urgent; stored next to the name so one conditional update can compare."""
        return _RANK[self]


_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}


class IncidentSource(StrEnum):
    AI = "AI"
    CAREGIVER = "CAREGIVER"
    FAMILY = "FAMILY"
    COORDINATOR = "COORDINATOR"
    SYSTEM = "SYSTEM"  # e.g. a missed visit seen by the shift module


class Audience(StrEnum):
    ON_SHIFT_CAREGIVERS = "ON_SHIFT_CAREGIVERS"  # checked in with the person now
    CARE_TEAM = "CARE_TEAM"
    COORDINATORS_ON_DUTY = "COORDINATORS_ON_DUTY"
    ALL_COORDINATORS = "ALL_COORDINATORS"
    GUARDIANS = "GUARDIANS"  # only those whose link allows `alerts`
    EMERGENCY_CONTACT = "EMERGENCY_CONTACT"  # the agency's, for the last step of a ladder
    USERS = "USERS"  # exactly `user_ids`


class AlertKind(StrEnum):
    INCIDENT = "INCIDENT"
    LATE_VISIT = "LATE_VISIT"
    COVERAGE_GAP = "COVERAGE_GAP"
    GEOFENCE_EXCEPTION = "GEOFENCE_EXCEPTION"
    # A visit record whose phone clock is off by more than 5 minutes (carecore.shifts.rules.device_timing).
    VISIT_CLOCK_SKEW = "VISIT_CLOCK_SKEW"
    OPEN_SHIFT_OFFER = "OPEN_SHIFT_OFFER"
    SHIFT_CHANGE = "SHIFT_CHANGE"
    UNREACHABLE = "UNREACHABLE"  # a person did not answer their wellness calls
    HUMAN_CALL_TASK = "HUMAN_CALL_TASK"  # a coordinator on duty must call an unreachable person today
    VISIT_REQUEST = "VISIT_REQUEST"  # someone must go and see an unreachable person
    WELLNESS_CHECK = "WELLNESS_CHECK"  # "are you all right?", to the person's own app after a long silence


class GuardianPermission(StrEnum):
    PLAN = "plan"
    VISITS = "visits"
    INCIDENTS = "incidents"
    ALERTS = "alerts"
    HEALTH = "health"  # vital-sign readings, and what the health rules found in them


class CarePlanStatus(StrEnum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    SUPERSEDED = "SUPERSEDED"
    ARCHIVED = "ARCHIVED"


class TaskCategory(StrEnum):
    MEDICATION = "MEDICATION"
    MEAL = "MEAL"
    HYGIENE = "HYGIENE"
    MOBILITY = "MOBILITY"
    THERAPY = "THERAPY"
    BEHAVIOUR = "BEHAVIOUR"
    ACTIVITY = "ACTIVITY"
    MONITORING = "MONITORING"
