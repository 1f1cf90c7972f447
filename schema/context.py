"""Per-request context: the caller and DataLoaders that live exactly as long as one request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

import strawberry
from strawberry.dataloader import DataLoader

from carecore.access.principal import Principal
from carecore.agencies.service import get_agency
from carecore.care_plans.models import CarePlan
from carecore.care_plans.service import list_versions_of, load_active_plans
from carecore.errors import DomainError
from carecore.events.feed import EventFeed
from carecore.pagination import Page, PageRequest
from carecore.people.models import Person
from carecore.people.service import load_people
from carecore.ports import Ports
from carecore.shifts.models import Shift
from carecore.shifts.queries import people_shifts
from carecore.shifts.visits import handovers_for
from carecore.users.models import User
from schema.error_codes import DEFAULT_LOCALE, Code, supported, text
from schema.errors import coded_error

T = TypeVar("T")


@dataclass(frozen=True)
class PersonPage:
    """A nested connection's key: whose list, and the arguments that page is read with."""

    person: Person
    page: PageRequest
    start: datetime | None = None  # the period of a shift list
    end: datetime | None = None

    def args(self) -> tuple[PageRequest, datetime | None, datetime | None]:
        return self.page, self.start, self.end

    def key(self) -> tuple[str, PageRequest, datetime | None, datetime | None]:
        return self.person.id, *self.args()


@dataclass
class Loaders:
    users: DataLoader[str, User | None]
    active_plans: DataLoader[Person, CarePlan | None]
    people: DataLoader[str, Person | None]  # only those the caller may see
    zones: DataLoader[str, ZoneInfo]  # agency id -> its time zone
    shifts: DataLoader[PersonPage, Page[Shift]]  # Person.shifts
    plan_versions: DataLoader[PersonPage, Page[CarePlan]]  # Person.carePlanVersions
    handovers: DataLoader[Shift, Shift | None]  # Shift.previousHandover


async def _by_arguments(
    keys: list[PersonPage],
    read: Callable[[list[Person], PersonPage], Awaitable[dict[str, Page[T]]]],
) -> list[Page[T] | BaseException]:
    """One read per distinct set of arguments (a page of people asks with the same ones: one read)."""
    groups: dict[tuple[PageRequest, datetime | None, datetime | None], list[PersonPage]] = {}
    for k in keys:
        groups.setdefault(k.args(), []).append(k)
    answers: dict[tuple[str, PageRequest, datetime | None, datetime | None], Page[T] | BaseException] = {}
    for group in groups.values():
        failure: DomainError | None = None
        try:
            pages = await read([k.person for k in group], group[0])
        except DomainError as exc:  # a bad period or cursor fails the fields that asked with it, only
            pages, failure = {}, exc
        for k in group:
            answers[k.key()] = failure or pages.get(k.person.id, Page(edges=[], has_next_page=False))
    return [answers[k.key()] for k in keys]


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

    async def read_shifts(people: list[Person], k: PersonPage) -> dict[str, Page[Shift]]:
        assert principal is not None and k.start is not None and k.end is not None
        return await people_shifts(ports, principal, people, k.start, k.end, k.page)

    async def load_shifts(keys: list[PersonPage]) -> list[Page[Shift] | BaseException]:
        if principal is None:
            return [Page(edges=[], has_next_page=False)] * len(keys)
        return await _by_arguments(keys, read_shifts)

    async def read_versions(people: list[Person], k: PersonPage) -> dict[str, Page[CarePlan]]:
        assert principal is not None
        return await list_versions_of(ports, principal, people, k.page)

    async def load_versions(keys: list[PersonPage]) -> list[Page[CarePlan] | BaseException]:
        if principal is None:
            return [Page(edges=[], has_next_page=False)] * len(keys)
        return await _by_arguments(keys, read_versions)

    async def load_handovers(shifts: list[Shift]) -> list[Shift | None]:
        if principal is None:
            return [None] * len(shifts)
        found = await handovers_for(ports, principal, shifts)
        return [found.get(s.id) for s in shifts]

    return Loaders(
        users=DataLoader(load_fn=load_users),
        active_plans=DataLoader(load_fn=load_plans, cache_key_fn=lambda p: p.id),
        people=DataLoader(load_fn=load_people_in_scope),
        zones=DataLoader(load_fn=load_zones),
        shifts=DataLoader(load_fn=load_shifts, cache_key_fn=PersonPage.key),
        plan_versions=DataLoader(load_fn=load_versions, cache_key_fn=PersonPage.key),
        handovers=DataLoader(load_fn=load_handovers, cache_key_fn=lambda s: s.id),
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
