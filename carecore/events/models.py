"""Domain events: append-only facts that other modules and other instances react to.

They cross instances through the `events` collection, which every instance polls (DESIGN "Scale").
They carry ids and kinds only, never health data: the reader fetches details with its own scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

EventData = dict[str, str | int | float | bool | None]


@dataclass(frozen=True, slots=True)
class DomainEvent:
    id: str  # derive it from what happened (ids.id_for_key) so a retried publish is one event
    agency_id: str
    kind: str  # e.g. "shift.late", "shift.missed", "incident.created"
    subject_type: str  # e.g. "Shift", "Incident"
    subject_id: str
    at: datetime
    person_id: str | None = None
    data: EventData = field(default_factory=dict)
    request_id: str | None = None  # the request that caused it, for the logs of its consumers (carecore.tracing)


@dataclass(frozen=True, slots=True)
class ParkedEvent:
    """An event some consumer left unhandled too long: kept, not deleted, until an operator sees to it."""

    event: DomainEvent
    parked_at: datetime
    handled_by: tuple[str, ...]
