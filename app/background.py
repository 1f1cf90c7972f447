"""The instance's reader of the events collection, started and stopped with the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from app.settings import Settings
from carecore.alerts.router import ALERTS_ROUTED
from carecore.events.feed import EventFeed
from carecore.incidents.events import INCIDENT_EVENTS
from carecore.ports import Ports


@contextlib.asynccontextmanager
async def background(ports: Ports, settings: Settings) -> AsyncIterator[EventFeed]:
    """The events reader that feeds this instance's subscriptions (the jobs run in app.workers)."""
    # Incident changes (incidentUpdates) and routed alerts (inbox, openShiftOffers).
    feed = EventFeed(ports, [*INCIDENT_EVENTS, ALERTS_ROUTED], interval=settings.event_poll_seconds)
    task = asyncio.create_task(feed.run(), name="event-feed")
    try:
        yield feed
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
