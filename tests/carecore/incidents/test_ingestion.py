"""AI flags: triage, idempotency by external id, merging repeated flags, the review queue, and resuming."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from carecore.alerts.models import Audience
from carecore.errors import NotFound, ValidationFailed
from carecore.incidents import service
from carecore.incidents.ingestion import ingest_flag
from carecore.incidents.models import AiService, IncidentStatus, IncidentType, Outcome, Severity, Verdict
from carecore.ports import Ports
from tests.carecore.incidents.conftest import flag
from tests.conftest import World
from tests.support import FakeClock


async def test_a_seizure_flag_for_a_person_with_a_seizure_protocol_is_critical_and_alerts_at_once(
    ports: Ports, world: World, ai: AiService
) -> None:
    opened = await ingest_flag(ports, world.ai_service.principal(), ai, flag())

    incident = opened.incident
    assert opened.outcome is Outcome.CREATED
    assert (incident.person_id, incident.severity, incident.status) == (world.minji.id, Severity.CRITICAL, "OPEN")
    [alert] = await ports.store.alert_requests.for_subject(incident.id)
    assert alert.audiences == (Audience.ON_SHIFT_CAREGIVERS, Audience.COORDINATORS_ON_DUTY, Audience.GUARDIANS)
    assert alert.person_id == world.minji.id


async def test_the_same_flag_sent_twice_is_one_incident(ports: Ports, world: World, ai: AiService) -> None:
    actor = world.ai_service.principal()
    first = await ingest_flag(ports, actor, ai, flag("same-id"))
    again = await asyncio.gather(*(ingest_flag(ports, actor, ai, flag("same-id")) for _ in range(5)))

    assert {o.incident.id for o in again} == {first.incident.id}
    assert {o.outcome for o in again} == {Outcome.DUPLICATE}
    stored = await ports.store.incidents.get(first.incident.id)
    assert stored is not None and stored.flag_count == 1
    assert await ports.store.db["incidents"].count_documents({}) == 1
    assert len(await ports.store.alert_requests.for_subject(first.incident.id)) == 1


async def test_thirty_racing_flags_of_one_type_for_one_person_are_one_incident_counting_thirty(
    ports: Ports, world: World, ai: AiService, clock: FakeClock
) -> None:
    actor = world.ai_service.principal()

    async def send(i: int) -> str:
        return (await ingest_flag(ports, actor, ai, flag(f"burst-{i}", type=IncidentType.FALL))).incident.id

    ids = await asyncio.gather(*(send(i) for i in range(30)))

    assert len(set(ids)) == 1
    incident = await ports.store.incidents.get(ids[0])
    assert incident is not None and incident.flag_count == 30
    assert len(await ports.store.alert_requests.for_subject(incident.id)) == 1, "one alert, not an alert storm"


async def test_thirty_flags_over_two_minutes_merge_and_keep_the_latest_evidence(
    ports: Ports, world: World, ai: AiService, clock: FakeClock
) -> None:
    actor = world.ai_service.principal()
    for i in range(30):
        opened = await ingest_flag(
            ports, actor, ai, flag(f"fall-{i}", type=IncidentType.FALL, confidence=0.7 + i / 100)
        )
        clock.advance(timedelta(seconds=4))

    incident = opened.incident
    assert incident.flag_count == 30
    assert incident.detection is not None and incident.detection.confidence == pytest.approx(0.99)
    assert await ports.store.db["incidents"].count_documents({}) == 1


async def test_a_flag_after_the_merge_window_opens_a_new_incident(
    ports: Ports, world: World, ai: AiService, clock: FakeClock
) -> None:
    actor = world.ai_service.principal()
    first = await ingest_flag(ports, actor, ai, flag("a", type=IncidentType.FALL))
    clock.advance(timedelta(minutes=11))

    second = await ingest_flag(ports, actor, ai, flag("b", type=IncidentType.FALL))

    assert second.outcome is Outcome.CREATED and second.incident.id != first.incident.id
    third = await ingest_flag(ports, actor, ai, flag("c", type=IncidentType.FALL))
    assert third.incident.id == second.incident.id


async def test_flags_of_another_type_or_person_do_not_merge(ports: Ports, world: World, ai: AiService) -> None:
    actor = world.ai_service.principal()
    a = await ingest_flag(ports, actor, ai, flag("a", type=IncidentType.FALL))
    b = await ingest_flag(ports, actor, ai, flag("b", type=IncidentType.WANDERING))
    c = await ingest_flag(ports, actor, ai, flag("c", type=IncidentType.FALL, ref="WC-0002"))
    assert len({a.incident.id, b.incident.id, c.incident.id}) == 3


async def test_a_resolved_incident_takes_no_more_flags(ports: Ports, world: World, ai: AiService) -> None:
    actor = world.ai_service.principal()
    first = await ingest_flag(ports, actor, ai, flag("a", type=IncidentType.FALL))
    await service.resolve_incident(ports, world.coordinator.principal(), first.incident.id, outcome="Checked, fine")

    second = await ingest_flag(ports, actor, ai, flag("b", type=IncidentType.FALL))

    assert second.outcome is Outcome.CREATED and second.incident.id != first.incident.id


async def test_a_low_confidence_flag_waits_for_review_and_wakes_nobody(
    ports: Ports, world: World, ai: AiService
) -> None:
    opened = await ingest_flag(ports, world.ai_service.principal(), ai, flag(type=IncidentType.FALL, confidence=0.3))

    assert opened.incident.status is IncidentStatus.IN_REVIEW
    assert await ports.store.alert_requests.for_subject(opened.incident.id) == []

    confirmed = await service.confirm_incident(ports, world.coordinator.principal(), opened.incident.id)

    assert confirmed.status is IncidentStatus.OPEN and confirmed.verdict is Verdict.CONFIRMED
    assert len(await ports.store.alert_requests.for_subject(opened.incident.id)) == 1


async def test_a_confident_flag_takes_a_merged_flag_out_of_review(ports: Ports, world: World, ai: AiService) -> None:
    actor = world.ai_service.principal()
    doubtful = await ingest_flag(ports, actor, ai, flag("a", type=IncidentType.FALL, confidence=0.3))
    sure = await ingest_flag(ports, actor, ai, flag("b", type=IncidentType.FALL, confidence=0.95))

    assert sure.incident.id == doubtful.incident.id and sure.outcome is Outcome.MERGED
    assert sure.incident.status is IncidentStatus.OPEN
    assert sure.incident.severity is Severity.CRITICAL  # FALL is HIGH; a confidence of 0.95 raises it
    assert len(await ports.store.alert_requests.for_subject(sure.incident.id)) == 1


async def test_a_more_urgent_flag_raises_the_severity_and_restarts_the_ladder(
    ports: Ports, world: World, ai: AiService
) -> None:
    actor = world.ai_service.principal()
    high = await ingest_flag(ports, actor, ai, flag("a", type=IncidentType.FALL, confidence=0.7))
    critical = await ingest_flag(ports, actor, ai, flag("b", type=IncidentType.FALL, confidence=0.95))

    assert (high.incident.severity, critical.incident.severity) == (Severity.HIGH, Severity.CRITICAL)
    alerts = await ports.store.alert_requests.for_subject(high.incident.id)
    assert [a.severity for a in alerts] == [Severity.HIGH, Severity.CRITICAL]
    assert Audience.GUARDIANS in alerts[1].audiences


async def test_an_unknown_person_reference_is_refused_and_stores_nothing(
    ports: Ports, world: World, ai: AiService
) -> None:
    with pytest.raises(NotFound) as refused:
        await ingest_flag(ports, world.ai_service.principal(), ai, flag(ref="WC-9999"))

    assert refused.value.field == "personRef"
    assert await ports.store.db["incidents"].count_documents({}) == 0
    assert await ports.store.db["incident_flags"].count_documents({}) == 0


async def test_a_confidence_outside_zero_to_one_is_refused(ports: Ports, world: World, ai: AiService) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await ingest_flag(ports, world.ai_service.principal(), ai, flag(confidence=1.5))
    assert refused.value.field == "confidence"


async def test_a_flag_interrupted_after_merging_is_finished_by_its_retry_without_counting_twice(
    ports: Ports, world: World, ai: AiService
) -> None:
    actor = world.ai_service.principal()
    await ingest_flag(ports, actor, ai, flag("first", type=IncidentType.FALL))
    merged = await ingest_flag(ports, actor, ai, flag("second", type=IncidentType.FALL))
    # As if the process died after merging, before linking the flag record to its incident.
    await ports.store.db["incident_flags"].update_many({}, {"$set": {"incident_id": None}})

    retried = await ingest_flag(ports, actor, ai, flag("second", type=IncidentType.FALL))

    assert retried.incident.id == merged.incident.id and retried.outcome is Outcome.DUPLICATE
    assert retried.incident.flag_count == 2
    linked = await ports.store.db["incident_flags"].count_documents({"incident_id": merged.incident.id})
    assert linked == 1


async def test_a_flag_interrupted_before_its_incident_existed_opens_it_on_retry(
    ports: Ports, world: World, ai: AiService
) -> None:
    actor = world.ai_service.principal()
    opened = await ingest_flag(ports, actor, ai, flag("only"))
    # As if the process died after recording the flag, before writing its incident.
    await ports.store.db["incidents"].delete_many({})
    await ports.store.db["incident_flags"].update_many({}, {"$set": {"incident_id": None}})

    retried = await ingest_flag(ports, actor, ai, flag("only"))

    assert retried.outcome is Outcome.CREATED and retried.incident.id == opened.incident.id
