"""Subjects handled elsewhere need nobody called about them: an incident acknowledged, resolved or
dismissed in its own screen stops the second channel for its notifications.

Only staff reach those statuses (a guardian's acknowledgement leaves the incident OPEN), so this path
keeps invariant I4 as the inbox does. It also finishes an inbox acknowledgement that died after the
incident's change was published but before the notifications were marked.

Shift facts (late visits, geofence exceptions) are not turned into alerts here: the shifts module asks
for those itself, and a second path would tell coordinators twice.
"""

from __future__ import annotations

from carecore.events.consumers import consumer
from carecore.ports import Ports

# The incidents module publishes one "incident.updated" per change, with the status it reached.
INCIDENT_UPDATED = "incident.updated"
CONSUMER = consumer("alerts", INCIDENT_UPDATED).name
HANDLED_STATUSES = frozenset({"ACKNOWLEDGED", "RESOLVED", "DISMISSED"})


async def alert_on_events(ports: Ports, *, limit: int = 100) -> int:
    """Marks the notifications of handled incidents; returns how many events this call took."""
    taken = 0
    for event in await ports.store.events.unclaimed(CONSUMER, [INCIDENT_UPDATED], now=ports.clock.now(), limit=limit):
        # Effect first, claim second: a crash in between repeats an idempotent effect.
        if event.data.get("status") in HANDLED_STATUSES:
            # Only alerts sent by then: read late, after a reopening, it must not silence the new round.
            await ports.store.notifications.mark_subject_acknowledged(event.subject_id, event.at, created_by=event.at)
        if await ports.store.events.claim(event.id, CONSUMER):
            taken += 1
    return taken
