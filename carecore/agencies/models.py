"""Agencies (기관): the care providers that own all data."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_TIMEZONE = "Asia/Seoul"


@dataclass(frozen=True, slots=True)
class Agency:
    id: str
    name: str
    timezone: str = DEFAULT_TIMEZONE
    region: str = ""
    max_weekly_hours: int = 52
    min_rest_hours: int = 8
    # Called at the last step of a ladder (DESIGN "Escalation"); none set: every coordinator.
    emergency_contact_user_ids: tuple[str, ...] = ()
    # A swap two caregivers agreed on waits for a coordinator's approval.
    swap_requires_approval: bool = False
