"""The clean-up job of alert delivery: nothing here relies on TTL indexes (DEVDB.md)."""

from __future__ import annotations

from datetime import timedelta

from carecore.alerts.devices import remove_stale_devices
from carecore.ports import Ports

# The inbox keeps a year of history; a finished callout matters for a month of incident reviews.
KEEP_NOTIFICATIONS = timedelta(days=365)
KEEP_CALLOUTS = timedelta(days=30)


async def clean_up(ports: Ports) -> int:
    """Removes stale devices, year-old notifications and finished callouts; returns how many."""
    now = ports.clock.now()
    removed = await remove_stale_devices(ports)
    removed += await ports.store.notifications.delete_created_before(now - KEEP_NOTIFICATIONS)
    removed += await ports.store.callouts.delete_finished_before(now - KEEP_CALLOUTS)
    return removed
