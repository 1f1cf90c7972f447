"""User profiles: one per Firebase uid, holding the role and agency its token claims must match."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from carecore.access.principal import Principal, Role

SUPPORTED_LOCALES = ("ko", "en")


@dataclass(frozen=True, slots=True)
class User:
    id: str
    agency_id: str
    firebase_uid: str
    role: Role
    display_name: str
    locale: str
    email: str | None
    phone: str | None
    active: bool
    revision: int
    created_at: datetime
    updated_at: datetime

    def claims(self) -> dict[str, str]:
        return {"role": self.role.value, "agency": self.agency_id}

    def principal(self) -> Principal:
        """The bare identity, without the people a caregiver serves through shifts: decide access with
        `carecore.users.service.principal_for` (tests/test_architecture.py keeps the core to it)."""
        return Principal(
            user_id=self.id,
            firebase_uid=self.firebase_uid,
            role=self.role,
            agency_id=self.agency_id,
            locale=self.locale,
        )


@dataclass(frozen=True, slots=True)
class UserFields:
    """What a coordinator sets when creating or editing a profile; None leaves a field as it is."""

    display_name: str | None = None
    role: Role | None = None
    locale: str | None = None
    email: str | None = None
    phone: str | None = None
    active: bool | None = None
