"""Test doubles and builders shared by the suite."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from carecore.access.principal import Principal, Role
from carecore.care_plans.models import (
    CarePlan,
    CarePlanStatus,
    Goal,
    PlanContent,
    SupportTask,
    TaskCategory,
    TaskSchedule,
)
from carecore.errors import Unauthenticated
from carecore.ids import new_id
from carecore.people.models import GuardianLink, GuardianPermission, Person, PersonProfile, SupportWindow
from carecore.storage.store import Store
from carecore.users.models import User

ALL_PERMISSIONS = frozenset(GuardianPermission)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


@dataclass
class RecordingClaims:
    """Stands in for Firebase custom claims where claims are incidental (most core tests, and flows
    that write none); a test that asserts claims uses the real gateway (`firebase_ports`, `accounts`)."""

    written: dict[str, dict[str, str]] = field(default_factory=dict)

    async def set_claims(self, firebase_uid: str, claims: dict[str, str]) -> None:
        self.written[firebase_uid] = claims


class RefusingTokens:
    """For tests that never verify a token: any attempt fails loudly. Tests about tokens use the real
    gateway against the emulator (`firebase_ports`), HTTP tests the whole app."""

    async def verify(self, token: str) -> tuple[str, dict[str, object]]:
        raise Unauthenticated("no token verification in this test")


def user(agency_id: str, role: Role, name: str, *, uid: str | None = None, now: datetime) -> User:
    user_id = new_id()
    return User(
        id=user_id,
        agency_id=agency_id,
        firebase_uid=uid or f"uid-{user_id}",
        role=role,
        display_name=name,
        locale="ko",
        email=None,
        phone=None,
        active=True,
        revision=1,
        created_at=now,
        updated_at=now,
    )


def person(agency_id: str, name: str, *, now: datetime, **profile: Any) -> Person:
    return Person(
        id=new_id(),
        agency_id=agency_id,
        profile=PersonProfile(
            name=name,
            support_hours=(SupportWindow((0, 1, 2, 3, 4, 5, 6), time(0), time(0)),),
            **profile,
        ),
        guardians=(),
        care_team=(),
        active_care_plan_id=None,
        revision=1,
        created_at=now,
        updated_at=now,
    )


def plan_content(summary: str = "기본 지원계획") -> PlanContent:
    return PlanContent(
        summary=summary,
        goals=(Goal(new_id(), "스스로 식사하기", "주 5회 이상"),),
        tasks=(
            SupportTask(
                id=new_id(),
                category=TaskCategory.MEDICATION,
                title="항경련제 복용",
                instructions="식후 30분",
                schedule=TaskSchedule(times_of_day=(time(8), time(20))),
                critical=True,
            ),
        ),
    )


async def put_active_plan(store: Store, p: Person, approver: User, now: datetime) -> CarePlan:
    """Writes an approved version directly, as fixtures do."""
    plan = CarePlan(
        id=new_id(),
        agency_id=p.agency_id,
        person_id=p.id,
        version=await store.people.next_plan_version(p.id),
        status=CarePlanStatus.ACTIVE,
        based_on_id=p.active_care_plan_id,
        content=plan_content(),
        revision=1,
        created_by=approver.id,
        created_at=now,
        updated_at=now,
        approved_by=approver.id,
        approved_at=now,
    )
    await store.care_plans.insert(plan)
    assert await store.people.swap_active_plan(p.id, expected=p.active_care_plan_id, new=plan.id)
    return plan


async def link(
    store: Store, p: Person, guardian: User, permissions: frozenset[GuardianPermission], now: datetime
) -> None:
    await store.people.put_guardian(p.id, GuardianLink(guardian.id, "어머니", permissions), now)


def principal(u: User) -> Principal:
    return u.principal()
