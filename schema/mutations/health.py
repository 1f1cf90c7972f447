"""Health mutations: a reading recorded during a visit (devices use POST /ingest/observations)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from carecore.health.models import IngestResult
from carecore.health.service import record_observation
from schema.errors import NotFoundError, ValidationError
from schema.inputs.health import RecordObservationInput
from schema.mutations.support import Info, attempt
from schema.types.health import IngestOutcome, Observation


@strawberry.type
class RecordObservationPayload:
    outcome: IngestOutcome  # type: ignore[valid-type]
    observation: Observation


RecordObservationResult = Annotated[
    RecordObservationPayload | ValidationError | NotFoundError, strawberry.union("RecordObservationResult")
]


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
        return await attempt(  # type: ignore[return-value]
            lambda: record_observation(ctx.ports, ctx.principal, input.to_domain()), observation_payload
        )
