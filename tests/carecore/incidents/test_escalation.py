"""The escalation ladder with a controllable clock and workers racing on one database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from carecore.alerts.models import Audience
from carecore.incidents import service
from carecore.incidents.escalation import run_due_step, run_due_steps
from carecore.incidents.ingestion import ingest_flag
from carecore.incidents.models import AiService, Incident, IncidentStatus, IncidentType
from carecore.incidents.service import acknowledge_incident_alert
from carecore.ports import Ports
from tests.carecore.incidents.conftest import flag
from tests.conftest import World
from tests.support import FakeClock


async def _audiences(ports: Ports, incident: Incident) -> list[tuple[Audience, ...]]:
    return [a.audiences for a in await ports.store.alert_requests.for_subject(incident.id)]


async def _race(ports: Ports) -> None:
    """Two workers, as on two instances, each running every step due now."""
    await asyncio.gather(run_due_steps(ports, "worker-a"), run_due_steps(ports, "worker-b"))


async def _critical(ports: Ports, world: World, ai: AiService) -> Incident:
    return (await ingest_flag(ports, world.ai_service.principal(), ai, flag())).incident


async def test_the_critical_ladder_fires_each_step_once_at_0_2_and_5_minutes(
    ports: Ports, world: World, ai: AiService, clock: FakeClock
) -> None:
    incident = await _critical(ports, world, ai)
    step0 = (Audience.ON_SHIFT_CAREGIVERS, Audience.COORDINATORS_ON_DUTY, Audience.GUARDIANS)
    await _race(ports)
    assert await _audiences(ports, incident) == [step0]

    clock.advance(timedelta(minutes=1, seconds=59))
    await _race(ports)
    assert await _audiences(ports, incident) == [step0], "step 1 is not due before 2 minutes"

    clock.advance(timedelta(seconds=1))
    await _race(ports)
    await _race(ports)
    assert await _audiences(ports, incident) == [step0, (Audience.ALL_COORDINATORS,)]

    clock.advance(timedelta(minutes=3))
    await _race(ports)
    await _race(ports)
    assert await _audiences(ports, incident) == [step0, (Audience.ALL_COORDINATORS,), (Audience.EMERGENCY_CONTACT,)]
    escalated = await ports.store.incidents.get(incident.id)
    assert escalated is not None and escalated.status is IncidentStatus.ESCALATED
    assert escalated.escalation.due_at is None

    clock.advance(timedelta(hours=1))
    await _race(ports)
    assert len(await _audiences(ports, incident)) == 3


async def test_an_acknowledgement_at_three_minutes_stops_the_ladder(
    ports: Ports, world: World, ai: AiService, clock: FakeClock
) -> None:
    incident = await _critical(ports, world, ai)
    clock.advance(timedelta(minutes=2))
    await _race(ports)
    clock.advance(timedelta(minutes=1))

    acknowledged = await service.acknowledge_incident(
        ports, world.caregiver_on_team.principal(), incident.id, note="With her now, timing the seizure"
    )

    assert acknowledged.status is IncidentStatus.ACKNOWLEDGED
    clock.advance(timedelta(minutes=10))
    await _race(ports)
    assert len(await _audiences(ports, incident)) == 2, "no emergency contact after the acknowledgement"
    entry = acknowledged.timeline[-1]
    assert (entry.actor_id, entry.note, entry.at) == (
        world.caregiver_on_team.id,
        "With her now, timing the seizure",
        clock.now() - timedelta(minutes=10),
    )


async def test_a_step_whose_worker_died_is_taken_over_after_its_lease_without_a_second_alert(
    ports: Ports, world: World, ai: AiService, clock: FakeClock
) -> None:
    incident = await _critical(ports, world, ai)
    clock.advance(timedelta(minutes=2))
    claimed = await ports.store.incidents.claim_step(now=clock.now(), owner="died", lease=timedelta(seconds=15))
    assert claimed is not None  # ... and its worker died before asking for the alerts

    assert await run_due_step(ports, "survivor") is None, "the claim holds while its lease runs"
    clock.advance(timedelta(seconds=16))
    assert await run_due_step(ports, "survivor") is not None

    assert await _audiences(ports, incident) == [
        (Audience.ON_SHIFT_CAREGIVERS, Audience.COORDINATORS_ON_DUTY, Audience.GUARDIANS),
        (Audience.ALL_COORDINATORS,),
    ]


async def test_a_repeated_step_after_a_crash_asks_for_its_alerts_once(
    ports: Ports, world: World, ai: AiService, clock: FakeClock
) -> None:
    incident = await _critical(ports, world, ai)
    clock.advance(timedelta(minutes=2))
    # The worker asked for step 1's alerts, then died before moving the ladder on.
    first = await ports.store.incidents.claim_step(now=clock.now(), owner="died", lease=timedelta(seconds=15))
    assert first is not None
    clock.advance(timedelta(seconds=16))
    await run_due_step(ports, "survivor")
    await ports.store.db["incidents"].update_one(
        {"_id": incident.id}, {"$set": {"escalation_step": 1, "escalation_due_at": clock.now()}}
    )

    await run_due_step(ports, "survivor-2")

    assert len(await _audiences(ports, incident)) == 2


async def test_the_high_ladder_reaches_everyone_after_ten_minutes(
    ports: Ports, world: World, ai: AiService, clock: FakeClock
) -> None:
    incident = (
        await ingest_flag(ports, world.ai_service.principal(), ai, flag(type=IncidentType.FALL, confidence=0.7))
    ).incident
    clock.advance(timedelta(minutes=9))
    await _race(ports)
    assert len(await _audiences(ports, incident)) == 1
    clock.advance(timedelta(minutes=1))
    await _race(ports)
    assert (await _audiences(ports, incident))[1] == (Audience.CARE_TEAM, Audience.ALL_COORDINATORS, Audience.GUARDIANS)


async def test_a_guardians_acknowledgement_is_recorded_but_the_ladder_goes_on(
    ports: Ports, world: World, ai: AiService, clock: FakeClock
) -> None:
    incident = await _critical(ports, world, ai)

    seen = await service.acknowledge_incident(ports, world.guardian.principal(), incident.id)

    assert seen.status is IncidentStatus.OPEN and seen.timeline[-1].action == "SEEN_BY_GUARDIAN"
    clock.advance(timedelta(minutes=2))
    await _race(ports)
    assert len(await _audiences(ports, incident)) == 2


async def test_reopening_restarts_the_ladder_with_new_alerts(
    ports: Ports, world: World, ai: AiService, clock: FakeClock
) -> None:
    incident = await _critical(ports, world, ai)
    coordinator = world.coordinator.principal()
    await service.resolve_incident(ports, coordinator, incident.id, outcome="Seizure ended after 2 minutes")

    reopened = await service.reopen_incident(ports, coordinator, incident.id, note="Another seizure started")

    assert reopened.status is IncidentStatus.OPEN and reopened.escalation.round == 1
    assert len(await _audiences(ports, incident)) == 2


async def test_acknowledging_an_incidents_notification_stops_its_ladder(
    ports: Ports, world: World, ai: AiService, clock: FakeClock
) -> None:
    incident = await _critical(ports, world, ai)

    acknowledged = await ports.acknowledgers["Incident"](ports, world.coordinator.principal(), incident.id)

    assert acknowledged
    clock.advance(timedelta(minutes=10))
    await _race(ports)
    assert len(await _audiences(ports, incident)) == 1


async def test_the_alerts_acknowledger_answers_true_only_once_an_eligible_responder_stopped_the_ladder(
    ports: Ports, world: World, ai: AiService
) -> None:
    incident = await _critical(ports, world, ai)
    in_review = (
        await ingest_flag(ports, world.ai_service.principal(), ai, flag("low", type=IncidentType.FALL, confidence=0.3))
    ).incident

    assert not await acknowledge_incident_alert(ports, world.guardian.principal(), incident.id)
    assert not await acknowledge_incident_alert(ports, world.caregiver_off_team.principal(), incident.id)
    assert not await acknowledge_incident_alert(ports, world.other_guardian.principal(), incident.id)
    assert not await acknowledge_incident_alert(ports, world.coordinator.principal(), in_review.id)
    assert await acknowledge_incident_alert(ports, world.caregiver_on_team.principal(), incident.id)
    assert await acknowledge_incident_alert(ports, world.guardian.principal(), incident.id)  # staff already did
    await service.resolve_incident(ports, world.coordinator.principal(), incident.id, outcome="Seizure ended")
    assert await acknowledge_incident_alert(ports, world.coordinator.principal(), incident.id)  # closed by staff
