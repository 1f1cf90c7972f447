"""Incident mutations: flags from AI services, people's reports and the lifecycle."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from carecore.incidents import service
from carecore.incidents.ai_services import configure_ai_service
from carecore.incidents.ingestion import flag_incident, report_incident
from carecore.incidents.models import AiService as DomainAiService
from carecore.incidents.models import Incident as DomainIncident
from carecore.incidents.models import Opened
from carecore.incidents.models import Severity as DomainSeverity
from carecore.incidents.policies import update_incident_policy
from schema.errors import DispositionRequiredError, NotFoundError, StateConflictError, ValidationError
from schema.inputs.incident_policy import UpdateIncidentPolicyInput
from schema.inputs.incidents import (
    AddIncidentNoteInput,
    AssignIncidentInput,
    ConfigureAiServiceInput,
    ConfirmIncidentInput,
    DismissIncidentInput,
    FlagIncidentInput,
    IncidentNoteInput,
    MarkIncidentReportedInput,
    ReportIncidentInput,
    ResolveIncidentInput,
)
from schema.mutations.support import Info, attempt
from schema.types.incident_policy import IncidentPolicy
from schema.types.incidents import FlagOutcome, Incident, IncidentStatus


@strawberry.type
class IncidentPayload:
    incident: Incident


@strawberry.type(description="What became of a flag; an AI service sees ids, never the incident itself.")
class FlagIncidentPayload:
    incident_id: strawberry.ID
    outcome: FlagOutcome
    status: IncidentStatus


@strawberry.type(description="The secret is not returned: it was given, and is kept only for signature checks.")
class AiServicePayload:
    user_id: strawberry.ID
    service: str
    configured_at: datetime | None


@strawberry.type
class IncidentPolicyPayload:
    policy: IncidentPolicy


IncidentPolicyResult = Annotated[
    IncidentPolicyPayload | ValidationError | StateConflictError, strawberry.union("IncidentPolicyResult")
]
IncidentResult = Annotated[
    IncidentPayload | ValidationError | NotFoundError | StateConflictError, strawberry.union("IncidentResult")
]
ResolveIncidentResult = Annotated[
    IncidentPayload | ValidationError | NotFoundError | StateConflictError | DispositionRequiredError,
    strawberry.union("ResolveIncidentResult"),
]
FlagIncidentResult = Annotated[
    FlagIncidentPayload | ValidationError | NotFoundError, strawberry.union("FlagIncidentResult")
]
AiServiceResult = Annotated[AiServicePayload | ValidationError | NotFoundError, strawberry.union("AiServiceResult")]


def incident_payload(i: DomainIncident) -> IncidentPayload:
    return IncidentPayload(incident=Incident.from_domain(i))


def flag_payload(o: Opened) -> FlagIncidentPayload:
    return FlagIncidentPayload(incident_id=strawberry.ID(o.incident.id), outcome=o.outcome, status=o.incident.status)


def ai_service_payload(s: DomainAiService) -> AiServicePayload:
    return AiServicePayload(user_id=strawberry.ID(s.user_id), service=s.service, configured_at=s.configured_at)


@strawberry.type
class IncidentMutation:
    @strawberry.mutation(description="AI services: a flag for a person, by the reference your agency gave you.")
    async def flag_incident(self, info: Info, input: FlagIncidentInput) -> FlagIncidentResult:
        ctx = info.context
        return await attempt(
            FlagIncidentResult, lambda: flag_incident(ctx.ports, ctx.principal, input.to_domain()), flag_payload
        )

    @strawberry.mutation(description="Caregivers, family and coordinators: report an incident or a concern.")
    async def report_incident(self, info: Info, input: ReportIncidentInput) -> IncidentResult:
        ctx = info.context
        return await attempt(
            IncidentResult,
            lambda: report_incident(ctx.ports, ctx.principal, input.to_domain(), idempotency_key=input.idempotency_key),
            incident_payload,
        )

    @strawberry.mutation(description="Staff: you are on it; this stops the escalation. Family: recorded as seen.")
    async def acknowledge_incident(self, info: Info, input: IncidentNoteInput) -> IncidentResult:
        ctx = info.context
        return await attempt(
            IncidentResult,
            lambda: service.acknowledge_incident(ctx.ports, ctx.principal, input.id, note=input.note),
            incident_payload,
        )

    @strawberry.mutation(description="Coordinators: a flag from the review queue is real; its escalation starts.")
    async def confirm_incident(self, info: Info, input: ConfirmIncidentInput) -> IncidentResult:
        ctx = info.context
        severity = DomainSeverity(input.severity) if input.severity else None
        return await attempt(
            IncidentResult,
            lambda: service.confirm_incident(ctx.ports, ctx.principal, input.id, severity=severity, note=input.note),
            incident_payload,
        )

    @strawberry.mutation(description="Coordinators: a false alarm, with the reason.")
    async def dismiss_incident(self, info: Info, input: DismissIncidentInput) -> IncidentResult:
        ctx = info.context
        return await attempt(
            IncidentResult,
            lambda: service.dismiss_incident(ctx.ports, ctx.principal, input.id, reason=input.reason),
            incident_payload,
        )

    @strawberry.mutation(
        description="Coordinators and caregivers who serve the person: close it with its outcome; a health "
        "incident also with whether it was actionable."
    )
    async def resolve_incident(self, info: Info, input: ResolveIncidentInput) -> ResolveIncidentResult:
        ctx = info.context
        return await attempt(
            ResolveIncidentResult,
            lambda: service.resolve_incident(
                ctx.ports, ctx.principal, input.id, outcome=input.outcome, note=input.note, actionable=input.actionable
            ),
            incident_payload,
        )

    @strawberry.mutation(description="Coordinators: open a closed incident again; its escalation restarts.")
    async def reopen_incident(self, info: Info, input: IncidentNoteInput) -> IncidentResult:
        ctx = info.context
        return await attempt(
            IncidentResult,
            lambda: service.reopen_incident(ctx.ports, ctx.principal, input.id, note=input.note),
            incident_payload,
        )

    @strawberry.mutation(description="Coordinators: who follows the incident up.")
    async def assign_incident(self, info: Info, input: AssignIncidentInput) -> IncidentResult:
        ctx = info.context
        return await attempt(
            IncidentResult,
            lambda: service.assign_incident(
                ctx.ports, ctx.principal, input.id, assignee_id=input.assignee_id, note=input.note
            ),
            incident_payload,
        )

    @strawberry.mutation(description="Coordinators and caregivers who serve the person: a note on the timeline.")
    async def add_incident_note(self, info: Info, input: AddIncidentNoteInput) -> IncidentResult:
        ctx = info.context
        return await attempt(
            IncidentResult,
            lambda: service.add_incident_note(
                ctx.ports, ctx.principal, input.id, note=input.note, idempotency_key=input.idempotency_key
            ),
            incident_payload,
        )

    @strawberry.mutation(description="Coordinators: the incident was reported to the authority.")
    async def mark_incident_reported(self, info: Info, input: MarkIncidentReportedInput) -> IncidentResult:
        ctx = info.context
        return await attempt(
            IncidentResult,
            lambda: service.mark_incident_reported(
                ctx.ports, ctx.principal, input.id, reference=input.reference, note=input.note
            ),
            incident_payload,
        )

    @strawberry.mutation(description="Coordinators: change the agency's incident policy; what is not given stays.")
    async def update_incident_policy(self, info: Info, input: UpdateIncidentPolicyInput) -> IncidentPolicyResult:
        ctx = info.context
        return await attempt(
            IncidentPolicyResult,
            lambda: update_incident_policy(ctx.ports, ctx.principal, input.applied_to),
            lambda p: IncidentPolicyPayload(policy=IncidentPolicy.from_domain(p)),
        )

    @strawberry.mutation(description="Coordinators: an AI service account's service name and webhook secret.")
    async def configure_ai_service(self, info: Info, input: ConfigureAiServiceInput) -> AiServiceResult:
        ctx = info.context
        return await attempt(
            AiServiceResult,
            lambda: configure_ai_service(
                ctx.ports, ctx.principal, input.user_id, service=input.service, secret=input.secret
            ),
            ai_service_payload,
        )
