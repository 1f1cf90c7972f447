"""Audit entries: actor, action, object, time and outcome. Never the data that was read or written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AuditOutcome(StrEnum):
    """What became of the audited action.

    A change is written PENDING before it is attempted (write-ahead), so a process that dies between
    the change and the end of its audit still leaves an entry: PENDING then honestly says "attempted,
    outcome unknown". DONE and REFUSED are written after the change returned or raised a domain error.
    Reads are recorded after they happened, as DONE.
    """

    PENDING = "pending"
    DONE = "done"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: str
    agency_id: str
    actor_id: str
    actor_role: str
    action: str  # e.g. "person.read", "care_plan.approve"
    object_type: str
    object_id: str
    at: datetime
    outcome: AuditOutcome = AuditOutcome.DONE
    # The domain error's name (e.g. "VersionConflict") when REFUSED; never its message, which may carry data.
    error: str | None = None
    # Why the actor made the change, in their words, when the change asks for a reason (e.g. a person's
    # health thresholds): the justification, not the data changed.
    reason: str | None = None
