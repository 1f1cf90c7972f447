"""Health mutations: a reading recorded during a visit (devices use POST /ingest/observations)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from carecore.health.models import IngestResult
from carecore.health.personal_thresholds import ThresholdsView, set_health_thresholds
from carecore.health.service import record_observation
from schema.errors import NotFoundError, ValidationError, VersionConflictError
from schema.inputs.health import RecordObservationInput, SetHealthThresholdsInput
from schema.mutations.support import Info, attempt
from schema.types.health import IngestOutcome, Observation, PersonHealthThresholds


@strawberry.type
class RecordObservationPayload:
    outcome: IngestOutcome
    observation: Observation


RecordObservationResult = Annotated[
    RecordObservationPayload | ValidationError | NotFoundError, strawberry.union("RecordObservationResult")
]


@strawberry.type
class SetHealthThresholdsPayload:
    thresholds: PersonHealthThresholds


SetHealthThresholdsResult = Annotated[
    SetHealthThresholdsPayload | ValidationError | NotFoundError | VersionConflictError,
    strawberry.union("SetHealthThresholdsResult"),
]


def thresholds_payload(view: ThresholdsView) -> SetHealthThresholdsPayload:
    return SetHealthThresholdsPayload(thresholds=PersonHealthThresholds.from_domain(view))


def observation_payload(result: IngestResult) -> RecordObservationPayload:
    assert result.observation is not None  # only INVALID results carry none, and those raise instead
    return RecordObservationPayload(outcome=result.outcome, observation=Observation.from_domain(result.observation))


@strawberry.type
class HealthMutation:
    @strawberry.mutation(
        description="Caregivers who serve the person, and coordinators: a reading taken during a visit. "
        "A crisis asks for a repeat within 10 minutes; the repeat confirms it."
    )
    async def record_observation(self, info: Info, input: RecordObservationInput) -> RecordObservationResult:
        ctx = info.context
        return await attempt(
            RecordObservationResult,
            lambda: record_observation(ctx.ports, ctx.principal, input.to_domain()),
            observation_payload,
        )

    @strawberry.mutation(
        description="Coordinators: a person's own safety-rule thresholds, with the reason; in force from the "
        "next reading. The agency's defaults are in the incident policy."
    )
    async def set_health_thresholds(self, info: Info, input: SetHealthThresholdsInput) -> SetHealthThresholdsResult:
        ctx = info.context
        return await attempt(
            SetHealthThresholdsResult,
            lambda: set_health_thresholds(
                ctx.ports,
                ctx.principal,
                input.person_id,
                overrides=input.thresholds.given(),
                reason=input.reason,
                expected_revision=input.expected_revision,
            ),
            thresholds_payload,
        )
