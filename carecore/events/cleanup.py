"""Deleting old events: the `events` collection is a short-lived bus, not a history (DESIGN "Scale").

Subscriptions re-read seconds of overlap and consumers claim events within moments, so a week is
generous; a TTL index may do the same in production, but nothing depends on one.
"""

from __future__ import annotations

from datetime import timedelta

from carecore.ports import Ports

KEEP_EVENTS = timedelta(days=7)


async def delete_old_events(ports: Ports) -> int:
    """Deletes events older than a week; returns how many."""
    return await ports.store.events.delete_before(ports.clock.now() - KEEP_EVENTS)
