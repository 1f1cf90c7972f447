"""Inbox, devices and preferences of the signed-in user."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from carecore.alerts.devices import list_devices
from carecore.alerts.inbox import list_notifications
from carecore.alerts.preferences import get_preferences
from carecore.pagination import Page
from schema.context import Info
from schema.types.alerts import Device, Notification, NotificationPreferences
from schema.types.connections import Connection, connection, page_request


@strawberry.type
class AlertQuery:
    @strawberry.field(description="Your notifications, newest first.")
    async def notifications(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        unread_only: bool = False,
        updated_since: Annotated[
            datetime | None,
            strawberry.argument(
                description="Delta sync: only notifications created, read, acknowledged or delivered after "
                "this time, oldest change first; cursors are those of the delta."
            ),
        ] = None,
    ) -> Connection[Notification]:
        ctx = info.context
        request = page_request(first, after)
        page = await list_notifications(
            ctx.ports, ctx.principal, request, unread_only=unread_only, updated_since=updated_since
        )
        return connection(page, Notification.from_domain, after=after)

    @strawberry.field(description="Your devices that receive pushes, most recently seen first (at most 10).")
    async def devices(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Device]:
        page = page_request(first, after)
        found = await list_devices(info.context.ports, info.context.principal)
        ids = [d.id for d in found]
        # A cursor of a device removed meanwhile ends the list rather than starting it over.
        start = 0 if page.after is None else ids.index(page.after) + 1 if page.after in ids else len(ids)
        shown = found[start : start + page.first]
        return connection(
            Page(edges=[(d.id, d) for d in shown], has_next_page=len(found) > start + page.first),
            Device.from_domain,
            after=after,
        )

    @strawberry.field(description="Your quiet hours, muted kinds and on-duty flag.")
    async def notification_preferences(self, info: Info) -> NotificationPreferences:
        prefs = await get_preferences(info.context.ports, info.context.principal)
        return NotificationPreferences.from_domain(prefs)
