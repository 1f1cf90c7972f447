"""Inputs of the incident queries and mutations."""

from __future__ import annotations

import strawberry

from carecore.incidents import models as m
from schema.types.care_plans import IncidentType
from schema.types.incidents import IncidentStatus, SafeguardingKind, Severity


@strawberry.input
class IncidentFilterInput:
    person_id: strawberry.ID | None = None
    statuses: list[IncidentStatus] = strawberry.field(default_factory=list)
    types: list[IncidentType] = strawberry.field(default_factory=list)
    severities: list[Severity] = strawberry.field(default_factory=list)
    assignee_id: strawberry.ID | None = None

    def to_domain(self) -> m.IncidentFilter:
        return m.IncidentFilter(
            person_id=self.person_id,
            statuses=tuple(m.IncidentStatus(s) for s in self.statuses),
            types=tuple(m.IncidentType(t) for t in self.types),
            severities=tuple(m.Severity(s) for s in self.severities),
            assignee_id=self.assignee_id,
        )


@strawberry.input
class SignalInput:
    name: str
    value: str


@strawberry.input
class EvidenceInput:
    summary: str = ""
    signals: list[SignalInput] = strawberry.field(default_factory=list)

    def to_domain(self) -> m.Evidence:
        return m.Evidence(self.summary, tuple(m.Signal(s.name, s.value) for s in self.signals))


@strawberry.input(description="A flag from an AI service; `externalId` makes a resend harmless.")
class FlagIncidentInput:
    external_id: str
    person_ref: str = strawberry.field(description="The reference your agency gave this service for the person.")
    type: IncidentType
    confidence: float
    detector: str
    model_version: str
    evidence: EvidenceInput | None = None

    def to_domain(self) -> m.FlagSubmission:
        return m.FlagSubmission(
            external_id=self.external_id,
            person_ref=self.person_ref,
            type=m.IncidentType(self.type),
            confidence=self.confidence,
            detector=self.detector,
            model_version=self.model_version,
            evidence=self.evidence.to_domain() if self.evidence else m.Evidence(),
        )


@strawberry.input
class SafeguardingInput:
    kind: SafeguardingKind
    alleged_perpetrator_id: strawberry.ID | None = None


@strawberry.input
class ReportIncidentInput:
    person_id: strawberry.ID
    type: IncidentType
    summary: str
    severity: Severity | None = None
    safeguarding: SafeguardingInput | None = None
    idempotency_key: str | None = None

    def to_domain(self) -> m.HumanReport:
        s = self.safeguarding
        return m.HumanReport(
            person_id=self.person_id,
            type=m.IncidentType(self.type),
            summary=self.summary,
            severity=m.Severity(self.severity) if self.severity else None,
            safeguarding=None if s is None else m.Safeguarding(m.SafeguardingKind(s.kind), s.alleged_perpetrator_id),
        )


@strawberry.input
class IncidentNoteInput:
    id: strawberry.ID
    note: str | None = None


@strawberry.input
class ResolveIncidentInput:
    id: strawberry.ID
    outcome: str
    note: str | None = None
    actionable: bool | None = strawberry.field(
        default=None, description="Required for health incidents: did the alert lead anyone to act?"
    )


@strawberry.input
class DismissIncidentInput:
    id: strawberry.ID
    reason: str


@strawberry.input
class ConfirmIncidentInput:
    id: strawberry.ID
    severity: Severity | None = None
    note: str | None = None


@strawberry.input
class AssignIncidentInput:
    id: strawberry.ID
    assignee_id: strawberry.ID
    note: str | None = None


@strawberry.input
class AddIncidentNoteInput:
    id: strawberry.ID
    note: str
    idempotency_key: str | None = strawberry.field(
        default=None, description="A retry with the same key and note answers with the first note."
    )


@strawberry.input
class MarkIncidentReportedInput:
    id: strawberry.ID
    reference: str | None = None
    note: str | None = None


@strawberry.input(description="The secret is stored for signature checks and never shown again.")
class ConfigureAiServiceInput:
    user_id: strawberry.ID
    service: str
    secret: str
