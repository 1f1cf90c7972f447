"""Reachability queries: one person's state, and who nobody has reached."""

from __future__ import annotations

import strawberry

from carecore.errors import NotFound
from carecore.reachability.service import get_ladder, get_reachability, unreachable_people
from schema.context import Info
from schema.types.reachability import Reachability, ReachabilityLadder, UnreachablePerson


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

    @strawberry.field(description="Coordinators: the agency's reachability ladder, and whether it is the default.")
    async def reachability_ladder(self, info: Info) -> ReachabilityLadder:
        ladder, is_default = await get_ladder(info.context.ports, info.context.principal)
        return ReachabilityLadder.from_domain(ladder, is_default=is_default)
