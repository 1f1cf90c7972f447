"""One reader of the `events` collection per instance, fanning events out to that instance's subscribers.

Each poll re-reads an overlap window before its cursor and drops ids it has already delivered, so an
event that another instance wrote late (its clock behind, or its insert slow) is still delivered,
and delivered once. With no subscriber the feed reads nothing and forgets its cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from carecore.events.models import DomainEvent
from carecore.loops import repeat
from carecore.ports import Ports

logger = logging.getLogger(__name__)

QUEUE_SIZE = 1000
MAX_PAGES = 20


class EventFeed:
    def __init__(
        self,
        ports: Ports,
        kinds: list[str],
        *,
        interval: float = 0.25,
        overlap: timedelta = timedelta(seconds=5),
        batch: int = 500,
    ) -> None:
        self._ports = ports
        self._kinds = kinds
        self.interval = interval
        self._overlap = overlap
        self._batch = batch
        self._queues: set[asyncio.Queue[DomainEvent]] = set()
        self._cursor: datetime | None = None
        self._seen: dict[str, datetime] = {}

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[DomainEvent]]:
        """A queue of every event of the feed's kinds from now on, until the block exits."""
        queue: asyncio.Queue[DomainEvent] = asyncio.Queue(maxsize=QUEUE_SIZE)
        if self._cursor is None:
            self._cursor = self._ports.clock.now()
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)

    async def poll_once(self) -> int:
        """Reads what is new since the cursor (less the overlap) and delivers it; returns how many."""
        if not self._queues or self._cursor is None:
            self._cursor = None
            self._seen.clear()
            return 0
        start, delivered = self._cursor - self._overlap, 0
        for _ in range(MAX_PAGES):
            events = await self._ports.store.events.since(start, kinds=self._kinds, limit=self._batch)
            for event in events:
                if event.id not in self._seen:
                    self._seen[event.id] = event.at
                    self._deliver(event)
                    delivered += 1
                self._cursor = max(self._cursor, event.at)
            if len(events) < self._batch:
                break
            start = events[-1].at
        horizon = self._cursor - self._overlap
        self._seen = {i: at for i, at in self._seen.items() if at >= horizon}
        return delivered

    def _deliver(self, event: DomainEvent) -> None:
        for queue in list(self._queues):
            if queue.full():  # a subscriber that stopped reading loses its oldest update, not the instance
                logger.warning("subscriber queue full; dropping its oldest event")
                queue.get_nowait()
            queue.put_nowait(event)

    async def run(self) -> None:
        """Polls every `interval` seconds until cancelled; a failed poll (the database away for a
        moment) is logged and the cursor waits for the next."""

        async def poll() -> int:
            await self.poll_once()
            return 0  # never straight again: the interval is what keeps the feed cheap

        await repeat("event-feed", poll, self.interval)
