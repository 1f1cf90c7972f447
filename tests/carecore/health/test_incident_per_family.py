"""One open incident per (person, rule family): later readings join it as evidence, a higher severity
re-escalates even after an acknowledgement, and nothing else notifies anyone again."""

from __future__ import annotations

from datetime import timedelta

from carecore.health.models import Component, Metric, Modality, Reading
from carecore.health.service import record_observation
from carecore.incidents.models import IncidentStatus, Severity
from carecore.incidents.service import acknowledge_incident
from carecore.ports import Ports
from tests.carecore.health.conftest import bp_reading, health_incidents, told
from tests.conftest import World
from tests.notifications.support import check_in
from tests.support import FakeClock


async def test_a_confirming_repeat_after_the_repeat_request_was_acknowledged_re_escalates_the_same_incident(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    await check_in(ports, world, world.caregiver_on_team)
    caregiver = world.caregiver_on_team.principal()
    await record_observation(ports, caregiver, bp_reading(world.minji.id, clock.now(), 186, 104))
    [asked] = await health_incidents(ports, world.minji.id)
    await told(ports, asked.id)
    await acknowledge_incident(ports, caregiver, asked.id, note="Measuring again")
    clock.advance(timedelta(minutes=5))
    await record_observation(ports, caregiver, bp_reading(world.minji.id, clock.now(), 191, 109))

    [raised] = await health_incidents(ports, world.minji.id)
    assert raised.id == asked.id and raised.severity is Severity.CRITICAL and raised.flag_count == 2
    assert raised.status is IncidentStatus.OPEN and raised.acknowledged_by is None
    reached = await told(ports, raised.id)
    assert set(reached) == {"HIGH", "CRITICAL"}
    assert world.guardian.id in reached["CRITICAL"]  # the CRITICAL ladder's first step, which HIGH's lacked


async def test_readings_of_other_families_open_their_own_incident_and_same_severity_readings_notify_nobody_again(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    caregiver = world.caregiver_on_team.principal()
    await record_observation(ports, caregiver, bp_reading(world.minji.id, clock.now(), 186, 104))
    spo2 = Reading(world.minji.id, Metric.SPO2, (Component(Metric.SPO2.value, 89),), "%", clock.now(), Modality.SENSED)
    await record_observation(ports, caregiver, spo2)
    for incident in await health_incidents(ports, world.minji.id):
        await acknowledge_incident(ports, caregiver, incident.id)  # the ladders stop: what follows is readings
    for hours in (1, 2, 3):  # each too late to confirm another: unconfirmed, HIGH, like the first
        clock.advance(timedelta(hours=1))
        await record_observation(ports, caregiver, bp_reading(world.minji.id, clock.now(), 184 + hours, 101))

    crisis, low_oxygen = await health_incidents(ports, world.minji.id)
    assert crisis.detection is not None and crisis.detection.detector == "bp_crisis"
    assert low_oxygen.detection is not None and low_oxygen.detection.detector == "spo2_low"
    assert crisis.flag_count == 4 and (crisis.severity, crisis.status) == (Severity.HIGH, IncidentStatus.ACKNOWLEDGED)
    assert crisis.evidence is not None and "187/101" in crisis.evidence.summary  # the latest reading's
    assert len(await ports.store.alert_requests.for_subject(crisis.id)) == 1
    assert len(await ports.store.alert_requests.for_subject(low_oxygen.id)) == 1
