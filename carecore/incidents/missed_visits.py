"""SYSTEM incidents from the shift module: no check-in 30 minutes after a shift's start (`shift.missed`).

The incident is opened before the event is claimed: its id derives from the shift and the booking it
confirmed, so instances that race on one event open one incident, and an instance that dies between
the two steps leaves the event unclaimed for the next pass rather than a missed visit that nobody hears
of. A replacement caregiver who misses the same shift is another booking, and another incident: these
incidents never merge (I2: every missed booking opens exactly one incident).
"""

from __future__ import annotations

import logging

from carecore.events.consumers import consumer
from carecore.events.models import DomainEvent
from carecore.ids import id_for_key
from carecore.incidents.models import IncidentSource, IncidentType, Opened
from carecore.incidents.opening import Opening, open_incident
from carecore.incidents.policies import policy_for
from carecore.incidents.rules import base_severity
from carecore.ports import Ports

SHIFT_MISSED = "shift.missed"
CONSUMER = consumer("incidents", SHIFT_MISSED).name
SUMMARY = "No check-in 30 minutes after the shift started: the person may be alone."

logger = logging.getLogger(__name__)


async def open_missed_visit(ports: Ports, event: DomainEvent) -> Opened | None:
    """Opens the MISSED_VISIT incident of a `shift.missed` event; None when its person is unknown."""
    person = await ports.store.people.get(event.person_id) if event.person_id else None
    if person is None or person.agency_id != event.agency_id:
        logger.warning("shift.missed %s names no person of its agency; skipped", event.id)
        return None
    policy = await policy_for(ports, person.agency_id)
    # Events published before bookings keyed them carry none: their key stays what it was.
    booking = event.data.get("booking")
    keys = (event.subject_id,) if booking is None else (event.subject_id, str(booking))
    opening = Opening(
        key=id_for_key(person.agency_id, SHIFT_MISSED, *keys),
        agency_id=person.agency_id,
        person_id=person.id,
        type=IncidentType.MISSED_VISIT,
        severity=base_severity(policy, IncidentType.MISSED_VISIT, person),
        in_review=False,  # nobody may be with the person: never left waiting for review
        source=IncidentSource.SYSTEM,
        summary=SUMMARY,
        mergeable=False,
        related_shift_id=event.subject_id,
    )
    return await open_incident(ports, opening, policy, None)


async def consume_missed_visits(ports: Ports, limit: int = 100) -> int:
    """One pass over unclaimed `shift.missed` events; returns how many this instance claimed."""
    claimed = 0
    for event in await ports.store.events.unclaimed(CONSUMER, [SHIFT_MISSED], now=ports.clock.now(), limit=limit):
        await open_missed_visit(ports, event)
        claimed += await ports.store.events.claim(event.id, CONSUMER)
    return claimed
