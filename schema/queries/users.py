"""User queries."""

from __future__ import annotations

import strawberry

from carecore.errors import NotFound
from carecore.users.service import get_me, get_user_or_raise, list_users
from schema.context import Info
from schema.types.connections import Connection, connection, page_request
from schema.types.users import Role, User


@strawberry.type
class UserQuery:
    @strawberry.field(description="The signed-in user's profile.")
    async def me(self, info: Info) -> User:
        return User.from_domain(await get_me(info.context.ports, info.context.principal))

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
        role: Role | None = None,
    ) -> Connection[User]:
        ctx = info.context
        page = await list_users(ctx.ports, ctx.principal, page_request(first, after), role)
        return connection(page, User.from_domain, after=after)
