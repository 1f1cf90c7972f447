"""Who is calling: the verified identity every service call is decided for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    COORDINATOR = "coordinator"
    CAREGIVER = "caregiver"
    FAMILY = "family"
    AI_SERVICE = "ai_service"


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    firebase_uid: str
    role: Role
    agency_id: str
    locale: str = "ko"
    # Caregivers: people they have a shift with from 7 days ago to 14 days ahead, found once per
    # request at authentication (DESIGN "Users and what they may see"), besides their care teams.
    served_person_ids: frozenset[str] = frozenset()

    @property
    def is_coordinator(self) -> bool:
        return self.role is Role.COORDINATOR
