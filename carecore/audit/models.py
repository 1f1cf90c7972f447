"""Audit entries: actor, action, object and time. Never the data that was read or written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
