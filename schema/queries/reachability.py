"""Reachability queries: one person's state, and who nobody has reached."""

from __future__ import annotations

import strawberry

from carecore.errors import NotFound
from carecore.reachability.service import get_reachability, unreachable_people
from schema.context import Info
from schema.types.reachability import Reachability, UnreachablePerson


@strawberry.type
class ReachabilityQuery:
    @strawberry.field(description="Staff who see the person: their wellness-call state and schedule.")
    async def reachability(self, info: Info, person_id: strawberry.ID) -> Reachability | None:
        ctx = info.context
        try:
            return Reachability.from_domain(await get_reachability(ctx.ports, ctx.principal, person_id))
        except NotFound:
            return None

    @strawberry.field(description="Coordinators: people nobody has reached, unreachable longest first.")
    async def unreachable_people(self, info: Info) -> list[UnreachablePerson]:
        found = await unreachable_people(info.context.ports, info.context.principal)
        return [UnreachablePerson.from_domain(u) for u in found]
