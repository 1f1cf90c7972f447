"""User profile types."""

from __future__ import annotations

from typing import Annotated, TypeAlias

import strawberry

from carecore.access.policy import can_see_account_details
from carecore.access.principal import Role as DomainRole
from carecore.users.models import User as DomainUser
from schema.context import Info

Role: TypeAlias = Annotated[DomainRole, strawberry.enum(name="Role")]


@strawberry.type
class User:
    domain: strawberry.Private[DomainUser]
    id: strawberry.ID
    display_name: str
    role: Role
    locale: str
    active: bool
    revision: int

    @classmethod
    def from_domain(cls, u: DomainUser) -> User:
        return cls(
            domain=u,
            id=strawberry.ID(u.id),
            display_name=u.display_name,
            role=u.role,
            locale=u.locale,
            active=u.active,
            revision=u.revision,
        )

    def _details_visible(self, info: Info) -> bool:
        return can_see_account_details(info.context.principal, self.domain.id, self.domain.role)

    @strawberry.field(description="Only for coordinators, the user themself, and caregivers seeing a guardian.")
    def email(self, info: Info) -> str | None:
        return self.domain.email if self._details_visible(info) else None

    @strawberry.field(description="Only for coordinators, the user themself, and caregivers seeing a guardian.")
    def phone(self, info: Info) -> str | None:
        return self.domain.phone if self._details_visible(info) else None

    @strawberry.field(description="Only for coordinators and the user themself.")
    def firebase_uid(self, info: Info) -> str | None:
        principal = info.context.principal
        return self.domain.firebase_uid if principal.is_coordinator or principal.user_id == self.domain.id else None
