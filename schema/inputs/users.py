"""Inputs of the user management mutations."""

from __future__ import annotations

import strawberry

from carecore.access.principal import Role as DomainRole
from carecore.users.models import UserFields
from schema.types.users import Role


@strawberry.input
class CreateUserInput:
    firebase_uid: str
    display_name: str
    role: Role
    locale: str = "ko"
    email: str | None = None
    phone: str | None = None
    idempotency_key: str | None = None

    def fields(self) -> UserFields:
        return UserFields(
            display_name=self.display_name,
            role=DomainRole(self.role),
            locale=self.locale,
            email=self.email,
            phone=self.phone,
        )


@strawberry.input
class UpdateUserInput:
    id: strawberry.ID
    expected_revision: int
    display_name: str | None = None
    role: Role | None = None
    locale: str | None = None
    email: str | None = None
    phone: str | None = None
    active: bool | None = None

    def fields(self) -> UserFields:
        return UserFields(
            display_name=self.display_name,
            role=DomainRole(self.role) if self.role is not None else None,
            locale=self.locale,
            email=self.email,
            phone=self.phone,
            active=self.active,
        )
