"""Alerts raised by domain events rather than by an explicit request (DESIGN "Shift"), and
subjects handled elsewhere (an incident acknowledged in its own screen) that need no more calls.

A late visit (no check-in 10 minutes after the start) and a check-in or out outside the geofence
are facts the shifts module publishes; coordinators on duty must hear of them. Each event is
claimed once across instances and becomes one alert request whose id derives from the event's,
so a retry after a crash asks for the same request.
"""

from __future__ import annotations

from carecore.alerts.models import AlertKind, AlertRequest, Audience
from carecore.alerts.service import request_alert
from carecore.events.models import DomainEvent
from carecore.ids import id_for_key
from carecore.incidents.models import Severity
from carecore.ports import Ports

CONSUMER = "alerts"
ALERTS_FOR_EVENTS: dict[str, tuple[AlertKind, Severity]] = {
    "shift.late": (AlertKind.LATE_VISIT, Severity.HIGH),
    "shift.geofence_exception": (AlertKind.GEOFENCE_EXCEPTION, Severity.MEDIUM),
}
# An incident someone handled elsewhere (e.g. in its own screen) needs nobody called about it.
# The incidents module publishes one "incident.updated" per change, with the status it reached.
INCIDENT_UPDATED = "incident.updated"
HANDLED_STATUSES = frozenset({"ACKNOWLEDGED", "RESOLVED", "DISMISSED"})


def alert_for(event: DomainEvent) -> AlertRequest:
    kind, severity = ALERTS_FOR_EVENTS[event.kind]
    return AlertRequest(
        id=id_for_key("alert", event.id),
        agency_id=event.agency_id,
        kind=kind,
        severity=severity,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        audiences=(Audience.COORDINATORS_ON_DUTY,),
        created_at=event.at,
        person_id=event.person_id,
    )


async def alert_on_events(ports: Ports, *, limit: int = 100) -> int:
    """Turns unhandled shift events into alert requests; returns how many events this call took."""
    taken = 0
    kinds = [*ALERTS_FOR_EVENTS, INCIDENT_UPDATED]
    for event in await ports.store.events.unclaimed(CONSUMER, kinds, limit=limit):
        # Effect first, claim second: a crash in between repeats an idempotent effect.
        if event.kind in ALERTS_FOR_EVENTS:
            await request_alert(ports, alert_for(event))
        elif event.data.get("status") in HANDLED_STATUSES:
            await ports.store.notifications.mark_subject_acknowledged(event.subject_id, event.at)
        if await ports.store.events.claim(event.id, CONSUMER):
            taken += 1
    return taken
