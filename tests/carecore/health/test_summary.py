"""A person's vitals at a glance: the baseline (median and MAD, active or not) and the trend per component,
for staff and for guardians whose link allows `health`; "not found" for a guardian without it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from carecore.errors import NotFound
from carecore.health.models import DIASTOLIC, SYSTOLIC, Metric
from carecore.health.service import record_observation
from carecore.health.summary import health_summary
from carecore.ports import Ports
from tests.carecore.health.conftest import bp_reading
from tests.conftest import World
from tests.support import FakeClock


async def record_days(ports: Ports, world: World, clock: FakeClock, systolic: list[float]) -> None:
    """Twice a day, ending now: the day's systolic, in order (measured in the past, recorded now)."""
    caregiver = world.caregiver_on_team.principal()
    for day, value in enumerate(systolic):
        for hours in (0, 12):
            at = clock.now() - timedelta(days=len(systolic) - day, hours=-hours) + timedelta(minutes=1)
            await record_observation(ports, caregiver, bp_reading(world.minji.id, at, value + hours / 12, 80))


async def test_a_guardian_with_health_sees_an_active_baseline_and_a_rising_trend(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    await record_days(ports, world, clock, [128.0] * 12 + [146.0] * 6)

    [bp] = await health_summary(ports, world.guardian.principal(), world.minji.id)

    systolic, diastolic = bp.series
    assert bp.metric is Metric.BLOOD_PRESSURE and (systolic.code, diastolic.code) == (SYSTOLIC, DIASTOLIC)
    assert systolic.active and systolic.readings == 34 and systolic.days == 17  # the first day discarded
    assert systolic.median == 129.0 and systolic.mad == 1.0  # 11 days of 128 and 129, 6 of 146 and 147
    assert systolic.week_change is not None and systolic.week_change > 15
    assert systolic.cusum > 5 and diastolic.cusum == 0 and diastolic.week_change == 0
    assert bp.latest.reading.value(SYSTOLIC) == 147.0


async def test_a_new_series_shows_its_baseline_inactive_and_a_guardian_without_health_finds_nothing(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    await record_days(ports, world, clock, [128.0] * 3)

    [bp] = await health_summary(ports, world.coordinator.principal(), world.minji.id)
    with pytest.raises(NotFound):
        await health_summary(ports, world.guardian_visits_only.principal(), world.minji.id)

    assert not bp.series[0].active and bp.series[0].readings == 4 and bp.series[0].cusum == 0
    reads = await ports.store.db["audit"].find({"action": "health_summary.read"}).to_list()
    assert [r["actor_id"] for r in reads] == [world.coordinator.id]
