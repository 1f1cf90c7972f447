"""The caller's inbox, live, over graphql-transport-ws at /graphql."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from carecore.alerts.inbox import check_inbox_watch, notification_for_update
from schema.context import Info
from schema.errors import coded_error
from schema.types.alerts import Notification


@strawberry.type
class AlertSubscription:
    @strawberry.subscription(
        description="Your new notifications as they reach your inbox (pushed or held back by quiet hours alike)."
    )
    async def inbox(self, info: Info) -> AsyncGenerator[Notification, None]:
        ctx = info.context
        if ctx.feed is None:
            raise coded_error("Live updates are not available on this server.", "UNAVAILABLE")
        check_inbox_watch(ctx.principal)
        async with ctx.feed.subscribe() as queue:
            while True:
                event = await queue.get()
                # Checked again before each message: a deactivated user or an expired token stops here,
                # and only the caller's own copy of a routed alert is ever read.
                if ctx.live is not None and not await ctx.live.confirm():
                    return
                notification = await notification_for_update(ctx.ports, ctx.principal, event)
                if notification is not None:
                    yield Notification.from_domain(notification)
