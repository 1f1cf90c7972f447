"""Incidents (위기 상황): what an AI service, a person or the system flagged, and everything done about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from carecore.vocabulary import IncidentSource as IncidentSource
from carecore.vocabulary import IncidentType as IncidentType
from carecore.vocabulary import Severity as Severity


class IncidentStatus(StrEnum):
    IN_REVIEW = "IN_REVIEW"  # below the review threshold: waits for a coordinator, wakes nobody
    OPEN = "OPEN"  # nobody has acknowledged it; the ladder runs
    ESCALATED = "ESCALATED"  # still unacknowledged after the ladder's last resort was called
    ACKNOWLEDGED = "ACKNOWLEDGED"
    RESOLVED = "RESOLVED"
    DISMISSED = "DISMISSED"


# The ladder runs while nobody has acknowledged the incident.
# Incidents the vital-sign rules open: whoever resolves one says whether it was actionable.
HEALTH_DETECTOR_SERVICE = "carecore-health"
UNACKNOWLEDGED = (IncidentStatus.OPEN, IncidentStatus.ESCALATED)
LIVE = (IncidentStatus.IN_REVIEW, IncidentStatus.OPEN, IncidentStatus.ESCALATED, IncidentStatus.ACKNOWLEDGED)
CLOSED = (IncidentStatus.RESOLVED, IncidentStatus.DISMISSED)


class SafeguardingKind(StrEnum):
    ABUSE = "ABUSE"
    NEGLECT = "NEGLECT"


@dataclass(frozen=True, slots=True)
class Safeguarding:
    """An abuse or neglect report: only coordinators see it, and never the person it names."""

    kind: SafeguardingKind
    alleged_perpetrator_id: str | None = None


class Verdict(StrEnum):
    """What people concluded about a flag: the basis of each detector's precision."""

    CONFIRMED = "CONFIRMED"
    DISMISSED = "DISMISSED"


class Outcome(StrEnum):
    """How an opening request ended: a new incident, merged into an open one, or a retry of one already taken."""

    CREATED = "CREATED"
    MERGED = "MERGED"
    DUPLICATE = "DUPLICATE"


class TimelineAction(StrEnum):
    CREATED = "CREATED"
    QUEUED_FOR_REVIEW = "QUEUED_FOR_REVIEW"
    SEVERITY_RAISED = "SEVERITY_RAISED"
    CONFIRMED = "CONFIRMED"
    ALERTED = "ALERTED"  # a ladder step asked for alerts; `detail` names the step and audiences
    ESCALATED = "ESCALATED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    SEEN_BY_GUARDIAN = "SEEN_BY_GUARDIAN"  # a guardian's acknowledgement: recorded, but the ladder goes on
    ASSIGNED = "ASSIGNED"
    NOTE = "NOTE"
    RESOLVED = "RESOLVED"
    DISMISSED = "DISMISSED"
    REOPENED = "REOPENED"
    REPORTED = "REPORTED"  # reported to the authority


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    action: TimelineAction
    actor_id: str | None  # None: the system (a detector, the ladder, the shift module)
    status: IncidentStatus  # after the change
    note: str | None = None
    detail: str | None = None
    # Entries a client appends with an idempotency key: ids.id_for_key of it, and the request's payload_hash.
    id: str | None = None
    key_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Signal:
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a detector saw, in its words: a summary and named signals (e.g. "impact_g": "3.1")."""

    summary: str = ""
    signals: tuple[Signal, ...] = ()


@dataclass(frozen=True, slots=True)
class Detection:
    service: str
    detector: str
    model_version: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Escalation:
    """Where the ladder stands: `round` restarts it (a confirmation, a reopening, a severity raised)."""

    round: int = 0
    step: int = 0
    started_at: datetime | None = None
    due_at: datetime | None = None  # the next step's time; None when the ladder is not running


@dataclass(frozen=True, slots=True)
class Incident:
    """Every change of status, severity, assignment or ladder step is on the timeline; repeated flags
    merged into the incident are counted (`flag_count`, latest evidence) and kept one by one in
    `incident_flags`, so a sensor that fires every few seconds cannot flood the timeline."""

    id: str
    agency_id: str
    person_id: str
    type: IncidentType
    severity: Severity
    status: IncidentStatus
    source: IncidentSource
    summary: str
    created_at: datetime
    updated_at: datetime
    revision: int = 1
    reported_by: str | None = None
    detection: Detection | None = None  # the latest flag's
    detectors: tuple[tuple[str, str], ...] = ()  # every (detector, model version) that flagged it
    evidence: Evidence | None = None  # the latest flag's
    flag_count: int = 1
    first_flagged_at: datetime | None = None
    last_flagged_at: datetime | None = None
    safeguarding: Safeguarding | None = None
    related_shift_id: str | None = None
    assignee_id: str | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    outcome: str | None = None
    dismissal_reason: str | None = None
    verdict: Verdict | None = None
    # Whether the alert led someone to act (health rules' precision); None: not said (or not health).
    actionable: bool | None = None
    report_due_at: datetime | None = None
    reported_at: datetime | None = None
    report_reference: str | None = None
    escalation: Escalation = field(default_factory=Escalation)
    timeline: tuple[TimelineEntry, ...] = ()

    @property
    def alleged_perpetrator_id(self) -> str | None:
        return self.safeguarding.alleged_perpetrator_id if self.safeguarding else None

    def is_overdue(self, now: datetime) -> bool:
        return self.report_due_at is not None and self.reported_at is None and self.report_due_at < now


@dataclass(frozen=True, slots=True)
class FlagSubmission:
    """A flag as an AI service sends it; `person_ref` is the reference the agency gave the service."""

    external_id: str
    person_ref: str
    type: IncidentType
    confidence: float
    detector: str
    model_version: str
    evidence: Evidence = field(default_factory=Evidence)


@dataclass(frozen=True, slots=True)
class HumanReport:
    """A report by a caregiver, a family member or a coordinator; severity None lets the policy decide."""

    person_id: str
    type: IncidentType
    summary: str
    severity: Severity | None = None
    safeguarding: Safeguarding | None = None


@dataclass(frozen=True, slots=True)
class Opened:
    incident: Incident
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    """Narrows a list of incidents; empty tuples mean any."""

    person_id: str | None = None
    statuses: tuple[IncidentStatus, ...] = ()
    types: tuple[IncidentType, ...] = ()
    severities: tuple[Severity, ...] = ()
    assignee_id: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentScope:
    """The incidents a caller may list: the agency's, or those of some people; never their own accusations."""

    agency_id: str
    viewer_id: str
    person_ids: tuple[str, ...] | None  # None: every person of the agency
    include_safeguarding: bool


@dataclass(frozen=True, slots=True)
class DetectorStats:
    detector: str
    model_version: str
    confirmed: int
    dismissed: int
    pending: int

    @property
    def precision(self) -> float | None:
        """Confirmed flags over judged ones; None until someone has judged one."""
        judged = self.confirmed + self.dismissed
        return self.confirmed / judged if judged else None


@dataclass(frozen=True, slots=True)
class AiService:
    """An AI service account's configuration: the `service` its people's external references use."""

    user_id: str
    agency_id: str
    service: str
    secret: str = field(repr=False)  # the webhook's HMAC key: never logged, never returned
    configured_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FlagRecord:
    """One flag as received, triaged; `incident_id` is set once it opened or joined an incident.

    It keeps everything opening needs (type, triaged severity, review decision, summary), so the
    sweep can finish a flag whose request died before linking it, without its sender's retry.
    """

    id: str
    agency_id: str
    person_id: str
    source: IncidentSource
    received_at: datetime
    type: IncidentType
    severity: Severity
    in_review: bool
    summary: str
    related_shift_id: str | None = None
    incident_id: str | None = None
    detection: Detection | None = None
    evidence: Evidence | None = None
    merge_scope: str | None = None
    merge_window: timedelta | None = None


@dataclass(frozen=True, slots=True)
class SeverityRaise:
    """What a merged flag more urgent than its incident changes, written in the same update as the merge."""

    severity: Severity
    entry: TimelineEntry  # its status is the incident's after the raise
    ladder: Escalation | None  # a restarted ladder; None leaves the escalation as it is
    report_due: datetime | None


class MergeKeyTaken(Exception):
    """Another incident is already the one that repeated flags of this person and type merge into."""
