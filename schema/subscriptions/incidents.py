"""Live incident updates, over graphql-transport-ws at /graphql."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from carecore.incidents.reads import check_watch, incident_for_update
from schema.context import Info, build_loaders
from schema.errors import coded_error
from schema.types.incidents import Incident


@strawberry.type
class IncidentSubscription:
    @strawberry.subscription(
        description="Each incident you may see, as it is created or changes (of one person, when given)."
    )
    async def incident_updates(
        self, info: Info, person_id: strawberry.ID | None = None
    ) -> AsyncGenerator[Incident, None]:
        ctx = info.context
        principal = ctx.principal
        if ctx.feed is None:
            raise coded_error("Live updates are not available on this server.", "UNAVAILABLE")
        await check_watch(ctx.ports, principal, person_id)
        async with ctx.feed.subscribe() as queue:
            while True:
                event = await queue.get()
                # A connection lives long: the caller is checked again (and re-resolved) before each
                # update, so a deactivated user, a changed role or an expired token stops it here.
                if ctx.live is not None and not await ctx.live.confirm():
                    return
                principal = ctx.principal
                incident = await incident_for_update(ctx.ports, principal, event, person_id)
                if incident is not None:
                    # Fresh loaders too, so a person's name is never days old.
                    ctx.loaders = build_loaders(ctx.ports, principal)
                    yield Incident.from_domain(incident)
