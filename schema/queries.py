"""Query root: reads in the caller's scope; an object out of scope is null, like a missing one."""

from __future__ import annotations

import strawberry

from carecore.care_plans.service import get_plan_or_raise
from carecore.errors import NotFound
from carecore.people.service import get_person_or_raise, list_people
from carecore.users.service import get_me, get_user_or_raise, list_users
from schema.context import Context
from schema.types.care_plans import CarePlan
from schema.types.connections import Connection, connection, page_request
from schema.types.people import Person
from schema.types.users import Role, User

Info = strawberry.Info[Context, None]


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in user's profile.")
    async def me(self, info: Info) -> User:
        return User.from_domain(await get_me(info.context.ports, info.context.principal))

    @strawberry.field
    async def person(self, info: Info, id: strawberry.ID) -> Person | None:
        try:
            found = await get_person_or_raise(info.context.ports, info.context.principal, id)
        except NotFound:
            return None
        return Person.from_domain(found)

    @strawberry.field(description="People you may see, by name; `search` matches any part of the name.")
    async def people(
        self, info: Info, first: int | None = None, after: str | None = None, search: str | None = None
    ) -> Connection[Person]:
        ctx = info.context
        page = await list_people(ctx.ports, ctx.principal, page_request(first, after), search)
        return connection(page, Person.from_domain)

    @strawberry.field
    async def care_plan(self, info: Info, id: strawberry.ID) -> CarePlan | None:
        try:
            plan, person = await get_plan_or_raise(info.context.ports, info.context.principal, id)
        except NotFound:
            return None
        return CarePlan.from_domain(plan, person.active_care_plan_id)

    @strawberry.field(description="Coordinators: a profile of the agency. Others: only their own.")
    async def user(self, info: Info, id: strawberry.ID) -> User | None:
        try:
            return User.from_domain(await get_user_or_raise(info.context.ports, info.context.principal, id))
        except NotFound:
            return None

    @strawberry.field(description="Coordinators: the agency's profiles, by name.")
    async def users(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        role: Role | None = None,  # type: ignore[valid-type]
    ) -> Connection[User]:
        ctx = info.context
        page = await list_users(ctx.ports, ctx.principal, page_request(first, after), role)
        return connection(page, User.from_domain)
