"""Open shifts offered to the calling caregiver, live, over graphql-transport-ws at /graphql."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from carecore.shifts.open_shifts import check_offer_watch, offer_for_update
from schema.context import Info, build_loaders
from schema.errors import coded_error
from schema.types.shifts import Shift, agency_zone


@strawberry.type
class ShiftSubscription:
    @strawberry.subscription(
        description="Caregivers: each open shift offered to you, as the offer goes out, while it is still open "
        "and yours to claim (claim it with claimOpenShift; the first valid claim wins)."
    )
    async def open_shift_offers(self, info: Info) -> AsyncGenerator[Shift, None]:
        ctx = info.context
        if ctx.feed is None:
            raise coded_error("Live updates are not available on this server.", "UNAVAILABLE")
        check_offer_watch(ctx.principal)
        async with ctx.feed.subscribe() as queue:
            while True:
                event = await queue.get()
                # Checked again before each message: the caller (role, activity, token), then the offer:
                # made to them, still open, not over, and their qualifications still fit.
                if ctx.live is not None and not await ctx.live.confirm():
                    return
                shift = await offer_for_update(ctx.ports, ctx.principal, event)
                if shift is not None:
                    ctx.loaders = build_loaders(ctx.ports, ctx.principal)
                    yield Shift.from_domain(shift, await agency_zone(info), ctx.ports.clock.now())
