"""Builders for shift tests: local Seoul times and shifts scheduled the way coordinators do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from carecore.access.principal import Principal, Role
from carecore.ports import Ports
from carecore.shifts.models import CaregiverProfile, Qualification, Shift
from carecore.shifts.scheduling import ShiftPlan, schedule_shift
from carecore.users.models import User
from tests.conftest import World
from tests.support import FakeClock, user

SEOUL = ZoneInfo("Asia/Seoul")


@dataclass
class Shifts:
    """Schedules shifts in the test world; times are Seoul wall-clock times `days` after today."""

    ports: Ports
    world: World
    clock: FakeClock

    def __post_init__(self) -> None:
        self.start = self.clock.now()

    @property
    def coordinator(self) -> Principal:
        return self.world.coordinator.principal()

    def local(self, days: int, hour: int, minute: int = 0) -> datetime:
        today = self.start.astimezone(SEOUL).date()
        return datetime.combine(today + timedelta(days=days), time(hour, minute), tzinfo=SEOUL)

    def set_clock(self, days: int, hour: int, minute: int = 0) -> None:
        """Moves the clock to a Seoul wall-clock time `days` after the day the test started."""
        self.clock.current = self.local(days, hour, minute).astimezone(UTC)

    async def schedule(
        self,
        caregiver: User | None,
        start: datetime,
        end: datetime,
        *,
        person_id: str | None = None,
        **plan: object,
    ) -> Shift:
        return await schedule_shift(
            self.ports,
            self.coordinator,
            ShiftPlan(
                person_id=person_id or self.world.minji.id,
                start=start,
                end=end,
                caregiver_id=caregiver.id if caregiver else None,
                **plan,  # type: ignore[arg-type]
            ),
        )

    async def caregiver(self, name: str, *qualifications: str) -> User:
        """A new active caregiver of the agency holding `qualifications`."""
        u = user(self.world.agency.id, Role.CAREGIVER, name, now=self.clock.now())
        await self.ports.store.users.insert(u)
        if qualifications:
            await self.qualify(u, *qualifications)
        return u

    async def qualify(self, u: User, *codes: str, **limits: int) -> None:
        profile = CaregiverProfile(u.id, u.agency_id, tuple(Qualification(c) for c in codes), **limits)  # type: ignore[arg-type]
        current = await self.ports.store.caregiver_profiles.get(u.id)
        stored = await self.ports.store.caregiver_profiles.put(
            profile, expected_revision=current.revision if current else 0, now=self.clock.now()
        )
        assert stored is not None


@pytest.fixture
def shifts(ports: Ports, world: World, clock: FakeClock) -> Shifts:
    return Shifts(ports, world, clock)
