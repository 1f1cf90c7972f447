"""Deleting old events: the `events` collection is a short-lived bus, not a history (DESIGN "Scale").

I7: no event is deleted before every consumer of its kind (`carecore/events/consumers.py`) has
handled it, or it is parked where an operator sees it. Consumers claim events within moments, so an
event still unhandled after `PARK_AFTER` means a consumer is down or keeps failing on it: the job
parks it (`parked_at`, a warning in the log, `python -m app parked-events`) and never deletes it
while a consumer still owes it; it goes once handled and a week old, like any other.
Subscriptions re-read seconds of overlap; they are not consumers and need no week.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from carecore.events.consumers import CONSUMERS, EventConsumer, consumers_by_kind
from carecore.events.models import ParkedEvent
from carecore.ports import Ports
from carecore.storage.store import Store

KEEP_EVENTS = timedelta(days=7)
PARK_AFTER = timedelta(hours=1)

logger = logging.getLogger(__name__)


async def delete_old_events(ports: Ports, consumers: tuple[EventConsumer, ...] = CONSUMERS) -> int:
    """Parks events left unhandled too long and deletes week-old handled ones; returns how many in all."""
    by_kind = consumers_by_kind(consumers)
    now = ports.clock.now()
    parked = await ports.store.events.park_unhandled_before(now - PARK_AFTER, by_kind, now=now)
    for p in parked:
        owed = sorted(by_kind[p.event.kind] - set(p.handled_by))
        logger.warning("event %s (%s at %s) parked: still unhandled by %s", p.event.id, p.event.kind, p.event.at, owed)
    deleted = await ports.store.events.delete_handled_before(now - KEEP_EVENTS, by_kind)
    return len(parked) + deleted


async def parked_events(
    store: Store, *, limit: int = 100, consumers: tuple[EventConsumer, ...] = CONSUMERS
) -> list[tuple[ParkedEvent, list[str]]]:
    """For operators (`python -m app parked-events`): parked events, each with the consumers that still owe it."""
    by_kind = consumers_by_kind(consumers)
    return [
        (p, sorted(by_kind.get(p.event.kind, frozenset()) - set(p.handled_by)))
        for p in await store.events.parked(limit=limit)
    ]
