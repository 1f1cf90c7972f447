"""Per-request context: the caller and DataLoaders that live exactly as long as one request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

import strawberry
from strawberry.dataloader import DataLoader

from carecore.access.principal import Principal
from carecore.agencies.service import get_agency
from carecore.care_plans.models import CarePlan
from carecore.care_plans.service import load_active_plans
from carecore.events.feed import EventFeed
from carecore.people.models import Person
from carecore.people.service import load_people
from carecore.ports import Ports
from carecore.users.models import User
from schema.error_codes import DEFAULT_LOCALE, Code, supported, text
from schema.errors import coded_error


@dataclass
class Loaders:
    users: DataLoader[str, User | None]
    active_plans: DataLoader[Person, CarePlan | None]
    people: DataLoader[str, Person | None]  # only those the caller may see
    zones: DataLoader[str, ZoneInfo]  # agency id -> its time zone


def build_loaders(ports: Ports, principal: Principal | None) -> Loaders:
    async def load_users(ids: list[str]) -> list[User | None]:
        found = await ports.store.users.get_many(ids)
        return [found.get(i) for i in ids]

    async def load_plans(people: list[Person]) -> list[CarePlan | None]:
        if principal is None:
            return [None] * len(people)
        found = await load_active_plans(ports, principal, people)
        return [found.get(p.id) for p in people]

    async def load_people_in_scope(ids: list[str]) -> list[Person | None]:
        if principal is None:
            return [None] * len(ids)
        found = await load_people(ports, principal, ids)
        return [found.get(i) for i in ids]

    async def load_zones(agency_ids: list[str]) -> list[ZoneInfo]:
        return [ZoneInfo((await get_agency(ports, a)).timezone) for a in agency_ids]

    return Loaders(
        users=DataLoader(load_fn=load_users),
        active_plans=DataLoader(load_fn=load_plans, cache_key_fn=lambda p: p.id),
        people=DataLoader(load_fn=load_people_in_scope),
        zones=DataLoader(load_fn=load_zones),
    )


class LiveConnection(Protocol):
    """A WebSocket whose caller is checked again while it lives (app/live.py)."""

    async def confirm(self) -> bool:
        """True while the caller's identity holds; else the socket closes and this answers False."""
        ...


@dataclass
class Context:
    ports: Ports
    principal_or_none: Principal | None
    auth_error: str | None = None
    feed: EventFeed | None = None  # this instance's reader of the events collection, for subscriptions
    connection_params: dict[str, object] | None = None  # graphql-transport-ws connection_init payload
    token_expires_at: datetime | None = None  # WebSockets outlive their token: checked while they live
    live: LiveConnection | None = None  # set on WebSockets; subscriptions confirm before each update
    request_locale: str = DEFAULT_LOCALE  # from Accept-Language, for texts to a caller without a profile
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = build_loaders(self.ports, self.principal_or_none)

    @property
    def locale(self) -> str:
        """The caller's language for the boundary's texts: their profile's, else the request's."""
        return supported(self.principal_or_none.locale if self.principal_or_none else self.request_locale)

    @property
    def principal(self) -> Principal:
        if self.principal_or_none is None:
            raise coded_error(self.auth_error or text("unauthenticated", self.locale), Code.UNAUTHENTICATED)
        return self.principal_or_none


Info = strawberry.Info[Context, None]
