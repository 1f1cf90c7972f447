"""Alert requests: what the shift and incident modules ask to be told to people.

A request names audiences, not devices; the notification pipeline resolves audiences to users
(presence, guardian permissions, exclusions), writes each recipient's notification to the outbox
and inbox, and delivers it. Requests are stored before anything else happens, so none is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from carecore.incidents.models import Severity


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
    OPEN_SHIFT_OFFER = "OPEN_SHIFT_OFFER"
    SHIFT_CHANGE = "SHIFT_CHANGE"


@dataclass(frozen=True, slots=True)
class AlertRequest:
    id: str  # derived from what caused it (ids.id_for_key), so asking twice is one request
    agency_id: str
    kind: AlertKind
    severity: Severity
    subject_type: str  # "Incident", "Shift", ...
    subject_id: str
    audiences: tuple[Audience, ...]
    created_at: datetime
    person_id: str | None = None
    user_ids: tuple[str, ...] = ()
    # Never told, whatever the audiences say: e.g. the alleged perpetrator of an abuse report.
    exclude_user_ids: tuple[str, ...] = ()
