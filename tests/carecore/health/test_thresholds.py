"""A person's own thresholds, set by a coordinator beside the agency's defaults: in force at once, audited."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from carecore.errors import Forbidden, ValidationFailed, VersionConflict
from carecore.health.personal_thresholds import get_health_thresholds, set_health_thresholds
from carecore.health.service import record_observation
from carecore.incidents.policies import update_incident_policy
from carecore.ports import Ports
from tests.carecore.health.conftest import bp_reading, health_incidents
from tests.conftest import World
from tests.support import FakeClock


async def test_a_persons_own_crisis_threshold_applies_from_the_next_reading_and_shows_apart_from_the_agencys(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    coordinator, caregiver = world.coordinator.principal(), world.caregiver_on_team.principal()
    view = await set_health_thresholds(
        ports,
        coordinator,
        world.minji.id,
        overrides={"crisis_systolic": 195},
        reason="Cardiologist: 185-190 is her usual on the new medication",
        expected_revision=0,
    )
    await record_observation(ports, caregiver, bp_reading(world.minji.id, clock.now(), 188, 100))
    await record_observation(ports, coordinator, bp_reading(world.jiho.id, clock.now(), 188, 100))

    assert [i.person_id for i in await health_incidents(ports, world.minji.id)] == []
    assert len(await health_incidents(ports, world.jiho.id)) == 1  # others keep the agency's 180
    clock.advance(timedelta(hours=1))
    await record_observation(ports, caregiver, bp_reading(world.minji.id, clock.now(), 198, 100))
    assert len(await health_incidents(ports, world.minji.id)) == 1

    seen = await get_health_thresholds(ports, caregiver, world.minji.id)
    assert (seen.agency_defaults.crisis_systolic, seen.effective.crisis_systolic) == (180, 195)
    assert seen.personal is not None and dict(seen.personal.overrides) == {"crisis_systolic": 195}
    assert seen.effective.low_spo2 == view.agency_defaults.low_spo2 == 91
    [entry] = [e for e in await ports.store.audit.for_object(world.minji.id) if e.action == "health_thresholds.set"]
    assert (entry.actor_id, entry.reason) == (
        world.coordinator.id,
        "Cardiologist: 185-190 is her usual on the new medication",
    )


async def test_the_agency_default_lives_in_the_incident_policy_and_a_persons_own_value_overrides_it(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    coordinator = world.coordinator.principal()
    policy = await update_incident_policy(
        ports, coordinator, lambda p: replace(p, health_thresholds=replace(p.health_thresholds, crisis_systolic=170))
    )
    await set_health_thresholds(
        ports, coordinator, world.minji.id, overrides={"crisis_systolic": 185}, reason="Her usual", expected_revision=0
    )
    for person in (world.minji, world.jiho):
        await record_observation(ports, coordinator, bp_reading(person.id, clock.now(), 175, 95))

    assert policy.health_thresholds.crisis_systolic == 170
    assert await health_incidents(ports, world.minji.id) == []
    assert len(await health_incidents(ports, world.jiho.id)) == 1


async def test_only_coordinators_set_thresholds_from_the_current_revision_and_within_sense(
    ports: Ports, world: World
) -> None:
    coordinator = world.coordinator.principal()
    with pytest.raises(Forbidden):
        await set_health_thresholds(
            ports, world.caregiver_on_team.principal(), world.minji.id, overrides={}, reason="x", expected_revision=0
        )
    with pytest.raises(ValidationFailed) as low_over_high:
        await set_health_thresholds(
            ports,
            coordinator,
            world.minji.id,
            overrides={"low_heart_rate": 80, "high_heart_rate": 80},
            reason="x",
            expected_revision=0,
        )
    with pytest.raises(ValidationFailed) as no_reason:
        await set_health_thresholds(ports, coordinator, world.minji.id, overrides={}, reason=" ", expected_revision=0)
    await set_health_thresholds(
        ports, coordinator, world.minji.id, overrides={"low_spo2": 88}, reason="COPD", expected_revision=0
    )
    with pytest.raises(VersionConflict) as stale:
        await set_health_thresholds(ports, coordinator, world.minji.id, overrides={}, reason="x", expected_revision=0)
    cleared = await set_health_thresholds(
        ports, coordinator, world.minji.id, overrides={}, reason="Back to the agency's", expected_revision=1
    )

    assert low_over_high.value.field == "thresholds.lowHeartRate" and no_reason.value.field == "reason"
    assert stale.value.current_revision == 1
    assert cleared.personal is not None and cleared.personal.revision == 2 and cleared.effective.low_spo2 == 91
