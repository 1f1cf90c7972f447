"""Whoever resolves a health incident says whether it was actionable; each rule's PPV and alerts per
person-week follow from those dispositions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from carecore.errors import DispositionRequired, Forbidden
from carecore.health.models import Component, Metric, Modality, Reading
from carecore.health.service import record_observation
from carecore.health.stats import health_rule_stats
from carecore.incidents.models import IncidentStatus
from carecore.incidents.service import dismiss_incident, resolve_incident
from carecore.ports import Ports
from tests.carecore.health.conftest import bp_reading, health_incidents
from tests.conftest import World
from tests.support import FakeClock


async def test_a_health_incident_is_resolved_only_with_a_disposition(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    caregiver = world.caregiver_on_team.principal()
    await record_observation(ports, caregiver, bp_reading(world.minji.id, clock.now(), 186, 104))
    [incident] = await health_incidents(ports, world.minji.id)

    with pytest.raises(DispositionRequired) as missing:
        await resolve_incident(ports, caregiver, incident.id, outcome="Rested, 150/90 an hour later")
    still = await ports.store.incidents.get(incident.id)
    resolved = await resolve_incident(
        ports, caregiver, incident.id, outcome="Rested, 150/90 an hour later", actionable=False
    )

    assert missing.value.field == "actionable" and still is not None and still.status is IncidentStatus.OPEN
    assert resolved.status is IncidentStatus.RESOLVED and resolved.actionable is False
    assert "not actionable" in (resolved.timeline[-1].detail or "")


async def test_rule_stats_give_alerts_ppv_and_alerts_per_person_week(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    coordinator = world.coordinator.principal()
    start = clock.now()
    await record_observation(ports, coordinator, bp_reading(world.minji.id, clock.now(), 186, 104))
    await record_observation(ports, coordinator, bp_reading(world.jiho.id, clock.now(), 128, 80))
    [first] = await health_incidents(ports, world.minji.id)
    await resolve_incident(ports, coordinator, first.id, outcome="GP called, medication changed", actionable=True)
    clock.advance(timedelta(days=1))
    await record_observation(ports, coordinator, bp_reading(world.minji.id, clock.now(), 184, 100))
    spo2 = Reading(world.minji.id, Metric.SPO2, (Component(Metric.SPO2.value, 89),), "%", clock.now(), Modality.SENSED)
    await record_observation(ports, coordinator, spo2)
    _, second, low_oxygen = await health_incidents(ports, world.minji.id)
    await dismiss_incident(ports, coordinator, second.id, reason="Cuff on over a sleeve")
    await resolve_incident(ports, coordinator, low_oxygen.id, outcome="Probe on a cold finger", actionable=False)
    clock.advance(timedelta(days=7))
    await record_observation(ports, coordinator, bp_reading(world.jiho.id, clock.now(), 126, 79))
    await record_observation(ports, coordinator, bp_reading(world.jiho.id, clock.now(), 220, 100, device="other"))

    stats = await health_rule_stats(ports, coordinator, start=start, end=clock.now() + timedelta(minutes=1))

    assert stats.person_weeks == 3  # minji measured in one week of the period, jiho in two
    by_rule = {r.rule: (r.alerts, r.dispositioned, r.actionable, r.ppv) for r in stats.rules}
    assert by_rule == {"bp_crisis": (3, 2, 1, 0.5), "spo2_low": (1, 1, 0, 0.0)}
    crisis = next(r for r in stats.rules if r.rule == "bp_crisis")
    assert stats.alerts_per_person_week(crisis) == 1.0
    with pytest.raises(Forbidden):
        await health_rule_stats(ports, world.caregiver_on_team.principal())
