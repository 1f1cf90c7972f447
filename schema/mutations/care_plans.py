"""Care plan mutations: drafting and approval (coordinators), acknowledgement (guardians)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from carecore.care_plans import service as care_plans
from carecore.care_plans.models import CarePlan as DomainCarePlan
from carecore.care_plans.models import CarePlanStatus
from schema.errors import NotFoundError, StateConflictError, ValidationError, VersionConflictError
from schema.inputs.care_plans import (
    AcknowledgeCarePlanInput,
    CarePlanRevisionInput,
    CreateCarePlanDraftInput,
    UpdateCarePlanDraftInput,
)
from schema.mutations.support import Info, attempt
from schema.types.care_plans import CarePlan


@strawberry.type
class CarePlanPayload:
    care_plan: CarePlan


CarePlanResult = Annotated[
    CarePlanPayload | ValidationError | NotFoundError | VersionConflictError | StateConflictError,
    strawberry.union("CarePlanResult"),
]


def plan_payload(p: DomainCarePlan) -> CarePlanPayload:
    # A mutation's result is the plan as it just wrote it, so its stored status is current.
    return CarePlanPayload(care_plan=CarePlan.from_domain(p, p.id if p.status is CarePlanStatus.ACTIVE else None))


@strawberry.type
class CarePlanMutation:
    @strawberry.mutation(description="Starts a draft; without content it copies the active version.")
    async def create_care_plan_draft(self, info: Info, input: CreateCarePlanDraftInput) -> CarePlanResult:
        ctx = info.context
        return await attempt(
            CarePlanResult,
            lambda: care_plans.create_draft(
                ctx.ports,
                ctx.principal,
                input.person_id,
                input.content.to_domain() if input.content else None,
                idempotency_key=input.idempotency_key,
            ),
            plan_payload,
        )

    @strawberry.mutation
    async def update_care_plan_draft(self, info: Info, input: UpdateCarePlanDraftInput) -> CarePlanResult:
        ctx = info.context
        return await attempt(
            CarePlanResult,
            lambda: care_plans.update_draft(
                ctx.ports,
                ctx.principal,
                input.plan_id,
                expected_revision=input.expected_revision,
                content=input.content.to_domain(),
            ),
            plan_payload,
        )

    @strawberry.mutation(description="Makes a draft the active version; the previous one is superseded.")
    async def approve_care_plan(self, info: Info, input: CarePlanRevisionInput) -> CarePlanResult:
        ctx = info.context
        return await attempt(
            CarePlanResult,
            lambda: care_plans.approve_plan(
                ctx.ports, ctx.principal, input.plan_id, expected_revision=input.expected_revision
            ),
            plan_payload,
        )

    @strawberry.mutation
    async def archive_care_plan_draft(self, info: Info, input: CarePlanRevisionInput) -> CarePlanResult:
        ctx = info.context
        return await attempt(
            CarePlanResult,
            lambda: care_plans.archive_draft(
                ctx.ports, ctx.principal, input.plan_id, expected_revision=input.expected_revision
            ),
            plan_payload,
        )

    @strawberry.mutation(description="Guardians: records that you have read the active version.")
    async def acknowledge_care_plan(self, info: Info, input: AcknowledgeCarePlanInput) -> CarePlanResult:
        ctx = info.context
        return await attempt(
            CarePlanResult, lambda: care_plans.acknowledge_plan(ctx.ports, ctx.principal, input.plan_id), plan_payload
        )
