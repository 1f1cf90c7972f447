"""Mutation root: each takes one input and returns its payload or a typed UserError."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import strawberry

from carecore.care_plans import service as care_plans
from carecore.care_plans.models import CarePlan as DomainCarePlan
from carecore.errors import DomainError
from carecore.people import service as people
from carecore.people.models import Person as DomainPerson
from carecore.users import service as users
from carecore.users.models import User as DomainUser
from schema.context import Context
from schema.errors import (
    NotFoundError,
    StateConflictError,
    UserError,
    ValidationError,
    VersionConflictError,
    to_user_error,
)
from schema.inputs import (
    AcknowledgeCarePlanInput,
    CarePlanRevisionInput,
    CreateCarePlanDraftInput,
    CreatePersonInput,
    CreateUserInput,
    LinkGuardianInput,
    SetCareTeamInput,
    UnlinkGuardianInput,
    UpdateCarePlanDraftInput,
    UpdatePersonInput,
    UpdateUserInput,
)
from schema.types.care_plans import CarePlan
from schema.types.people import Person
from schema.types.users import User

Info = strawberry.Info[Context, None]
T = TypeVar("T")
P = TypeVar("P")


@strawberry.type
class PersonPayload:
    person: Person


@strawberry.type
class CarePlanPayload:
    care_plan: CarePlan


@strawberry.type
class UserPayload:
    user: User


PersonResult = Annotated[
    PersonPayload | ValidationError | NotFoundError | VersionConflictError, strawberry.union("PersonResult")
]
CarePlanResult = Annotated[
    CarePlanPayload | ValidationError | NotFoundError | VersionConflictError | StateConflictError,
    strawberry.union("CarePlanResult"),
]
UserResult = Annotated[
    UserPayload | ValidationError | NotFoundError | VersionConflictError, strawberry.union("UserResult")
]


async def attempt(action: Callable[[], Awaitable[T]], wrap: Callable[[T], P]) -> P | UserError:
    try:
        return wrap(await action())
    except DomainError as exc:
        return to_user_error(exc)


def person_payload(p: DomainPerson) -> PersonPayload:
    return PersonPayload(person=Person.from_domain(p))


def plan_payload(p: DomainCarePlan) -> CarePlanPayload:
    # Approval is the only way a plan becomes active, and its result says so itself.
    return CarePlanPayload(care_plan=CarePlan.from_domain(p, p.id if p.status.value == "ACTIVE" else None))


def user_payload(u: DomainUser) -> UserPayload:
    return UserPayload(user=User.from_domain(u))


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_person(self, info: Info, input: CreatePersonInput) -> PersonResult:
        ctx = info.context
        return await attempt(  # type: ignore[return-value]
            lambda: people.create_person(
                ctx.ports, ctx.principal, input.person.to_domain(), idempotency_key=input.idempotency_key
            ),
            person_payload,
        )

    @strawberry.mutation
    async def update_person(self, info: Info, input: UpdatePersonInput) -> PersonResult:
        ctx = info.context
        return await attempt(  # type: ignore[return-value]
            lambda: people.update_person(
                ctx.ports,
                ctx.principal,
                input.id,
                expected_revision=input.expected_revision,
                profile=input.person.to_domain(),
            ),
            person_payload,
        )

    @strawberry.mutation
    async def link_guardian(self, info: Info, input: LinkGuardianInput) -> PersonResult:
        ctx = info.context
        return await attempt(  # type: ignore[return-value]
            lambda: people.link_guardian(
                ctx.ports,
                ctx.principal,
                input.person_id,
                user_id=input.user_id,
                relationship=input.relationship,
                permissions=input.permission_set(),
            ),
            person_payload,
        )

    @strawberry.mutation
    async def unlink_guardian(self, info: Info, input: UnlinkGuardianInput) -> PersonResult:
        ctx = info.context
        return await attempt(  # type: ignore[return-value]
            lambda: people.unlink_guardian(ctx.ports, ctx.principal, input.person_id, user_id=input.user_id),
            person_payload,
        )

    @strawberry.mutation
    async def set_care_team(self, info: Info, input: SetCareTeamInput) -> PersonResult:
        ctx = info.context
        return await attempt(  # type: ignore[return-value]
            lambda: people.set_care_team(
                ctx.ports, ctx.principal, input.person_id, user_ids=[str(u) for u in input.user_ids]
            ),
            person_payload,
        )

    @strawberry.mutation(description="Starts a draft; without content it copies the active version.")
    async def create_care_plan_draft(self, info: Info, input: CreateCarePlanDraftInput) -> CarePlanResult:
        ctx = info.context
        return await attempt(  # type: ignore[return-value]
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
        return await attempt(  # type: ignore[return-value]
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
        return await attempt(  # type: ignore[return-value]
            lambda: care_plans.approve_plan(
                ctx.ports, ctx.principal, input.plan_id, expected_revision=input.expected_revision
            ),
            plan_payload,
        )

    @strawberry.mutation
    async def archive_care_plan_draft(self, info: Info, input: CarePlanRevisionInput) -> CarePlanResult:
        ctx = info.context
        return await attempt(  # type: ignore[return-value]
            lambda: care_plans.archive_draft(
                ctx.ports, ctx.principal, input.plan_id, expected_revision=input.expected_revision
            ),
            plan_payload,
        )

    @strawberry.mutation(description="Guardians: records that you have read the active version.")
    async def acknowledge_care_plan(self, info: Info, input: AcknowledgeCarePlanInput) -> CarePlanResult:
        ctx = info.context
        return await attempt(  # type: ignore[return-value]
            lambda: care_plans.acknowledge_plan(ctx.ports, ctx.principal, input.plan_id), plan_payload
        )

    @strawberry.mutation(description="Coordinators: creates the profile of a Firebase account and sets its claims.")
    async def create_user(self, info: Info, input: CreateUserInput) -> UserResult:
        ctx = info.context
        return await attempt(  # type: ignore[return-value]
            lambda: users.create_user(
                ctx.ports,
                ctx.principal,
                firebase_uid=input.firebase_uid,
                fields=input.fields(),
                idempotency_key=input.idempotency_key,
            ),
            user_payload,
        )

    @strawberry.mutation(description="Coordinators: edits a profile; role changes reach the account's claims.")
    async def update_user(self, info: Info, input: UpdateUserInput) -> UserResult:
        ctx = info.context
        return await attempt(  # type: ignore[return-value]
            lambda: users.update_user(
                ctx.ports, ctx.principal, input.id, expected_revision=input.expected_revision, fields=input.fields()
            ),
            user_payload,
        )
