"""Incident changes as domain events: how subscribers on every instance learn of them (DESIGN "Scale")."""

from __future__ import annotations

from carecore.events.models import DomainEvent
from carecore.events.service import publish
from carecore.ids import id_for_key
from carecore.incidents.models import Incident
from carecore.ports import Ports

INCIDENT_CREATED = "incident.created"
INCIDENT_UPDATED = "incident.updated"
INCIDENT_EVENTS = [INCIDENT_CREATED, INCIDENT_UPDATED]


async def publish_change(ports: Ports, incident: Incident, *, created: bool = False) -> None:
    """One event per revision; ids and status only, the reader loads the rest within its own scope."""
    await publish(
        ports,
        DomainEvent(
            id=id_for_key("incident.changed", incident.id, str(incident.revision)),
            agency_id=incident.agency_id,
            kind=INCIDENT_CREATED if created or incident.revision == 1 else INCIDENT_UPDATED,
            subject_type="Incident",
            subject_id=incident.id,
            at=ports.clock.now(),
            person_id=incident.person_id,
            data={"status": incident.status.value, "revision": incident.revision},
        ),
    )
