"""People queries."""

from __future__ import annotations

import strawberry

from carecore.errors import NotFound
from carecore.people.service import get_person_or_raise, list_people
from schema.context import Info
from schema.types.connections import Connection, connection, page_request
from schema.types.people import Person


@strawberry.type
class PeopleQuery:
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
        return connection(page, Person.from_domain, after=after)
