"""User profile types."""

from __future__ import annotations

import strawberry

from carecore.access.principal import Role as DomainRole
from carecore.users.models import User as DomainUser

Role = strawberry.enum(DomainRole, name="Role")


@strawberry.type
class User:
    id: strawberry.ID
    display_name: str
    role: Role  # type: ignore[valid-type]
    locale: str
    email: str | None
    phone: str | None
    active: bool
    revision: int
    firebase_uid: str

    @classmethod
    def from_domain(cls, u: DomainUser) -> User:
        return cls(
            id=strawberry.ID(u.id),
            display_name=u.display_name,
            role=u.role,
            locale=u.locale,
            email=u.email,
            phone=u.phone,
            active=u.active,
            revision=u.revision,
            firebase_uid=u.firebase_uid,
        )
