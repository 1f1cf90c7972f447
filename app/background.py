"""The instance's background tasks, started and stopped with the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from app.settings import Settings
from carecore.events.feed import EventFeed
from carecore.incidents.events import INCIDENT_EVENTS
from carecore.incidents.worker import IncidentWorker
from carecore.ports import Ports


@contextlib.asynccontextmanager
async def background(ports: Ports, settings: Settings) -> AsyncIterator[EventFeed]:
    """The events reader that feeds this instance's subscriptions, and the incident worker."""
    feed = EventFeed(ports, INCIDENT_EVENTS, interval=settings.event_poll_seconds)
    tasks = [asyncio.create_task(feed.run(), name="event-feed")]
    if settings.background_workers:
        worker = IncidentWorker(
            ports,
            interval=settings.worker_poll_seconds,
            lease=timedelta(seconds=settings.escalation_lease_seconds),
        )
        tasks.append(asyncio.create_task(worker.run(), name="incident-worker"))
    try:
        yield feed
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
