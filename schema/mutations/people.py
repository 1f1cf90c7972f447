"""People mutations (coordinators)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from carecore.people import service as people
from carecore.people.models import Person as DomainPerson
from schema.errors import NotFoundError, ValidationError, VersionConflictError
from schema.inputs.people import (
    CreatePersonInput,
    LinkGuardianInput,
    SetCareTeamInput,
    UnlinkGuardianInput,
    UpdatePersonInput,
)
from schema.mutations.support import Info, attempt
from schema.types.people import Person


@strawberry.type
class PersonPayload:
    person: Person


PersonResult = Annotated[
    PersonPayload | ValidationError | NotFoundError | VersionConflictError, strawberry.union("PersonResult")
]


def person_payload(p: DomainPerson) -> PersonPayload:
    return PersonPayload(person=Person.from_domain(p))


@strawberry.type
class PeopleMutation:
    @strawberry.mutation
    async def create_person(self, info: Info, input: CreatePersonInput) -> PersonResult:
        ctx = info.context
        return await attempt(
            PersonResult,
            lambda: people.create_person(
                ctx.ports, ctx.principal, input.person.to_domain(), idempotency_key=input.idempotency_key
            ),
            person_payload,
        )

    @strawberry.mutation
    async def update_person(self, info: Info, input: UpdatePersonInput) -> PersonResult:
        ctx = info.context
        return await attempt(
            PersonResult,
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
        return await attempt(
            PersonResult,
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
        return await attempt(
            PersonResult,
            lambda: people.unlink_guardian(ctx.ports, ctx.principal, input.person_id, user_id=input.user_id),
            person_payload,
        )

    @strawberry.mutation
    async def set_care_team(self, info: Info, input: SetCareTeamInput) -> PersonResult:
        ctx = info.context
        return await attempt(
            PersonResult,
            lambda: people.set_care_team(
                ctx.ports, ctx.principal, input.person_id, user_ids=[str(u) for u in input.user_ids]
            ),
            person_payload,
        )
