"""User management mutations (coordinators)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from carecore.users import service as users
from carecore.users.models import User as DomainUser
from schema.errors import NotFoundError, ValidationError, VersionConflictError
from schema.inputs.users import CreateUserInput, UpdateUserInput
from schema.mutations.support import Info, attempt
from schema.types.users import User


@strawberry.type
class UserPayload:
    user: User


UserResult = Annotated[
    UserPayload | ValidationError | NotFoundError | VersionConflictError, strawberry.union("UserResult")
]


def user_payload(u: DomainUser) -> UserPayload:
    return UserPayload(user=User.from_domain(u))


@strawberry.type
class UserMutation:
    @strawberry.mutation(description="Coordinators: creates the profile of a Firebase account and sets its claims.")
    async def create_user(self, info: Info, input: CreateUserInput) -> UserResult:
        ctx = info.context
        return await attempt(
            UserResult,
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
        return await attempt(
            UserResult,
            lambda: users.update_user(
                ctx.ports, ctx.principal, input.id, expected_revision=input.expected_revision, fields=input.fields()
            ),
            user_payload,
        )
