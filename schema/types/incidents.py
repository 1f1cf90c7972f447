"""Incident types; the person, the assignee and timeline actors resolve through the request's DataLoaders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypeAlias

import strawberry

from carecore.incidents import models as m
from schema.context import Context
from schema.types.care_plans import IncidentType
from schema.types.people import Person
from schema.types.users import User

Severity: TypeAlias = Annotated[m.Severity, strawberry.enum(name="Severity")]
IncidentStatus: TypeAlias = Annotated[m.IncidentStatus, strawberry.enum(name="IncidentStatus")]
IncidentSource: TypeAlias = Annotated[m.IncidentSource, strawberry.enum(name="IncidentSource")]
SafeguardingKind: TypeAlias = Annotated[m.SafeguardingKind, strawberry.enum(name="SafeguardingKind")]
TimelineAction: TypeAlias = Annotated[m.TimelineAction, strawberry.enum(name="TimelineAction")]
Verdict: TypeAlias = Annotated[m.Verdict, strawberry.enum(name="Verdict")]
FlagOutcome: TypeAlias = Annotated[m.Outcome, strawberry.enum(name="FlagOutcome")]

Info = strawberry.Info[Context, None]


@strawberry.type
class Signal:
    name: str
    value: str


@strawberry.type
class Evidence:
    summary: str
    signals: list[Signal]

    @classmethod
    def from_domain(cls, e: m.Evidence) -> Evidence:
        return cls(summary=e.summary, signals=[Signal(name=s.name, value=s.value) for s in e.signals])


@strawberry.type
class Detection:
    service: str
    detector: str
    model_version: str
    confidence: float


@strawberry.type(description="An abuse or neglect report: visible only to coordinators, never to the person named.")
class Safeguarding:
    kind: SafeguardingKind
    alleged_perpetrator_id: strawberry.ID | None


@strawberry.type
class TimelineEntry:
    at: datetime
    action: TimelineAction
    actor_id: strawberry.ID | None = strawberry.field(description="None: the system (a detector, the ladder).")
    status: IncidentStatus = strawberry.field(description="The status after this change.")
    note: str | None
    detail: str | None

    @strawberry.field
    async def actor(self, info: Info) -> User | None:
        found = await info.context.loaders.users.load(self.actor_id) if self.actor_id else None
        return User.from_domain(found) if found else None


def _id(value: str | None) -> strawberry.ID | None:
    return strawberry.ID(value) if value else None


@strawberry.type
class Incident:
    domain: strawberry.Private[m.Incident]
    id: strawberry.ID
    person_id: strawberry.ID
    type: IncidentType
    severity: Severity
    status: IncidentStatus
    source: IncidentSource
    summary: str
    reported_by_id: strawberry.ID | None
    detection: Detection | None = strawberry.field(description="The latest flag's detector and confidence.")
    evidence: Evidence | None = strawberry.field(description="The latest flag's evidence.")
    flag_count: int = strawberry.field(description="Flags merged into this incident, the first included.")
    first_flagged_at: datetime | None
    last_flagged_at: datetime | None
    safeguarding: Safeguarding | None
    related_shift_id: strawberry.ID | None
    assignee_id: strawberry.ID | None
    acknowledged_by_id: strawberry.ID | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    outcome: str | None
    dismissal_reason: str | None
    verdict: Verdict | None
    actionable: bool | None = strawberry.field(
        description="Health incidents: whether the alert led someone to act, as said when it was resolved."
    )
    report_due_at: datetime | None = strawberry.field(description="When the authority must have the report.")
    reported_at: datetime | None
    report_reference: str | None
    next_escalation_at: datetime | None = strawberry.field(description="The ladder's next step; None when stopped.")
    timeline: list[TimelineEntry]
    revision: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, i: m.Incident) -> Incident:
        d, s = i.detection, i.safeguarding
        return cls(
            domain=i,
            id=strawberry.ID(i.id),
            person_id=strawberry.ID(i.person_id),
            type=i.type,
            severity=i.severity,
            status=i.status,
            source=i.source,
            summary=i.summary,
            reported_by_id=_id(i.reported_by),
            detection=None
            if d is None
            else Detection(
                service=d.service, detector=d.detector, model_version=d.model_version, confidence=d.confidence
            ),
            evidence=Evidence.from_domain(i.evidence) if i.evidence else None,
            flag_count=i.flag_count,
            first_flagged_at=i.first_flagged_at,
            last_flagged_at=i.last_flagged_at,
            safeguarding=None
            if s is None
            else Safeguarding(kind=s.kind, alleged_perpetrator_id=_id(s.alleged_perpetrator_id)),
            related_shift_id=_id(i.related_shift_id),
            assignee_id=_id(i.assignee_id),
            acknowledged_by_id=_id(i.acknowledged_by),
            acknowledged_at=i.acknowledged_at,
            resolved_at=i.resolved_at,
            outcome=i.outcome,
            dismissal_reason=i.dismissal_reason,
            verdict=i.verdict,
            actionable=i.actionable,
            report_due_at=i.report_due_at,
            reported_at=i.reported_at,
            report_reference=i.report_reference,
            next_escalation_at=i.escalation.due_at,
            timeline=[
                TimelineEntry(
                    at=t.at, action=t.action, actor_id=_id(t.actor_id), status=t.status, note=t.note, detail=t.detail
                )
                for t in i.timeline
            ],
            revision=i.revision,
            created_at=i.created_at,
            updated_at=i.updated_at,
        )

    @strawberry.field(description="Past its report deadline and not reported yet.")
    def overdue(self, info: Info) -> bool:
        return self.domain.is_overdue(info.context.ports.clock.now())

    @strawberry.field
    async def person(self, info: Info) -> Person | None:
        found = await info.context.loaders.people.load(self.domain.person_id)
        return Person.from_domain(found) if found else None

    @strawberry.field
    async def assignee(self, info: Info) -> User | None:
        found = await info.context.loaders.users.load(self.domain.assignee_id) if self.domain.assignee_id else None
        return User.from_domain(found) if found else None


@strawberry.type(description="Confirmations against dismissals of one detector and model version.")
class DetectorStats:
    detector: str
    model_version: str
    confirmed: int
    dismissed: int
    pending: int
    precision: float | None = strawberry.field(description="confirmed / (confirmed + dismissed); None until judged.")

    @classmethod
    def from_domain(cls, s: m.DetectorStats) -> DetectorStats:
        return cls(
            detector=s.detector,
            model_version=s.model_version,
            confirmed=s.confirmed,
            dismissed=s.dismissed,
            pending=s.pending,
            precision=s.precision,
        )
