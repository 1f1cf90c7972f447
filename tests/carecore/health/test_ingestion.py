"""Readings through the core: a confirmed crisis reaches the caregiver on shift, a single one asks for a
repeat, an implausible one wakes nobody, and a reading received twice counts once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from carecore.errors import Forbidden, NotFound
from carecore.health.models import (
    DIASTOLIC,
    SYSTOLIC,
    Component,
    IngestOutcome,
    IngestResult,
    Metric,
    Modality,
    Observation,
    ObservationStatus,
    Reading,
    RejectReason,
)
from carecore.health.service import ingest_observations, record_observation
from carecore.incidents.models import AiService, IncidentSource, IncidentStatus, IncidentType, Severity
from carecore.incidents.service import acknowledge_incident
from carecore.people.models import ExternalRef
from carecore.ports import Ports
from tests.carecore.health.conftest import bp_reading, health_incidents, told
from tests.carecore.health.series import replay, twice_daily
from tests.conftest import World
from tests.notifications.support import check_in
from tests.support import FakeClock


async def test_a_crisis_confirmed_within_ten_minutes_opens_one_critical_incident_that_reaches_the_caregiver_on_shift(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    await check_in(ports, world, world.caregiver_on_team)
    caregiver = world.caregiver_on_team.principal()
    first = await record_observation(ports, caregiver, bp_reading(world.minji.id, clock.now(), 186, 104))
    clock.advance(timedelta(minutes=6))
    second = await record_observation(ports, caregiver, bp_reading(world.minji.id, clock.now(), 192, 108))

    [incident] = await health_incidents(ports, world.minji.id)
    assert (incident.type, incident.source, incident.severity) == (
        IncidentType.MEDICAL,
        IncidentSource.SYSTEM,
        Severity.CRITICAL,
    )
    assert incident.status is IncidentStatus.OPEN and incident.flag_count == 2
    assert first.observation and second.observation
    assert first.observation.incident_ids == second.observation.incident_ids == (incident.id,)
    reached = await told(ports, incident.id)
    assert world.caregiver_on_team.id in reached["CRITICAL"]
    assert world.caregiver_off_team.id not in reached["CRITICAL"]


async def test_a_single_crisis_reading_asks_the_caregiver_on_shift_for_a_repeat_at_high(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    await check_in(ports, world, world.caregiver_on_team)
    caregiver = world.caregiver_on_team.principal()
    await record_observation(ports, caregiver, bp_reading(world.minji.id, clock.now(), 186, 104))

    [incident] = await health_incidents(ports, world.minji.id)
    assert incident.severity is Severity.HIGH and "repeat the measurement" in incident.summary
    reached = await told(ports, incident.id)
    assert set(reached) == {"HIGH"} and world.caregiver_on_team.id in reached["HIGH"]


async def test_a_later_unconfirmed_reading_joins_the_open_incident_and_notifies_nobody_again(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    caregiver = world.caregiver_on_team.principal()
    await record_observation(ports, caregiver, bp_reading(world.minji.id, clock.now(), 186, 104))
    [incident] = await health_incidents(ports, world.minji.id)
    await acknowledge_incident(ports, caregiver, incident.id)
    clock.advance(timedelta(minutes=11))  # too late to confirm the first
    await record_observation(ports, caregiver, bp_reading(world.minji.id, clock.now(), 184, 101))

    [joined] = await health_incidents(ports, world.minji.id)
    assert joined.id == incident.id and joined.flag_count == 2 and joined.severity is Severity.HIGH
    assert joined.evidence is not None and "184/101" in joined.evidence.summary
    assert len(await ports.store.alert_requests.for_subject(incident.id)) == 1


async def test_an_implausible_reading_is_kept_with_its_reason_and_alerts_nobody(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    caregiver = world.caregiver_on_team.principal()
    cuff_off_arm = await record_observation(ports, caregiver, bp_reading(world.minji.id, clock.now(), 320, 210))
    narrow = await record_observation(ports, caregiver, bp_reading(world.minji.id, clock.now(), 188, 182, device="b"))
    wrong_unit = await record_observation(
        ports, caregiver, bp_reading(world.minji.id, clock.now(), 190, 125, device="c", unit="kPa")
    )

    reasons = []
    for result in (cuff_off_arm, narrow, wrong_unit):
        assert result.outcome is IngestOutcome.REJECTED and result.observation is not None
        stored = await ports.store.observations.get(result.observation.id)
        assert stored is not None and stored.status is ObservationStatus.REJECTED and stored.rejection
        reasons.append(stored.rejection.reason)
    assert reasons == [RejectReason.IMPLAUSIBLE, RejectReason.PULSE_PRESSURE, RejectReason.UNIT]
    assert await health_incidents(ports, world.minji.id) == []
    assert await ports.store.db["alert_requests"].count_documents({}) == 0


async def test_a_reading_twice_or_from_two_devices_for_one_moment_counts_once_and_confirms_nothing(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    caregiver = world.caregiver_on_team.principal()
    at = clock.now()
    first = await record_observation(ports, caregiver, bp_reading(world.minji.id, at, 186, 104, data_point="dp-1"))
    again = await record_observation(ports, caregiver, bp_reading(world.minji.id, at, 186, 104, data_point="dp-1"))
    relayed = await record_observation(
        ports, caregiver, bp_reading(world.minji.id, at + timedelta(seconds=20), 186, 104, device="phone-app")
    )
    no_id_copy = await record_observation(
        ports, caregiver, bp_reading(world.minji.id, at + timedelta(seconds=40), 187, 104)
    )

    assert first.outcome is IngestOutcome.RECORDED
    assert [r.outcome for r in (again, relayed, no_id_copy)] == [IngestOutcome.DUPLICATE] * 3
    accepted = await ports.store.db["observations"].count_documents({"status": "ACCEPTED"})
    assert accepted == 1
    [incident] = await health_incidents(ports, world.minji.id)
    assert incident.severity is Severity.HIGH and incident.flag_count == 1  # a copy is no confirming repeat


async def test_a_second_source_that_agrees_confirms_a_crisis(ports: Ports, world: World, clock: FakeClock) -> None:
    caregiver = world.caregiver_on_team.principal()
    await record_observation(ports, caregiver, bp_reading(world.minji.id, clock.now(), 186, 104))
    await record_observation(ports, caregiver, bp_reading(world.minji.id, clock.now(), 183, 99, device=None))

    [incident] = await health_incidents(ports, world.minji.id)
    assert incident.severity is Severity.CRITICAL


async def test_readings_out_of_order_confirm_each_other_as_in_order(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    caregiver = world.caregiver_on_team.principal()
    later = clock.now()
    await record_observation(ports, caregiver, bp_reading(world.minji.id, later, 186, 104))
    await record_observation(ports, caregiver, bp_reading(world.minji.id, later - timedelta(minutes=4), 190, 110))

    [incident] = await health_incidents(ports, world.minji.id)
    assert incident.severity is Severity.CRITICAL


async def test_a_closed_incident_takes_no_more_readings_a_new_one_opens(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    from carecore.incidents.service import resolve_incident

    caregiver = world.caregiver_on_team.principal()
    await record_observation(ports, caregiver, bp_reading(world.minji.id, clock.now(), 186, 104))
    [first] = await health_incidents(ports, world.minji.id)
    await resolve_incident(
        ports, world.coordinator.principal(), first.id, outcome="Rested; 150/90 after an hour", actionable=False
    )
    clock.advance(timedelta(hours=3))
    await record_observation(ports, caregiver, bp_reading(world.minji.id, clock.now(), 185, 100))

    incidents = await health_incidents(ports, world.minji.id)
    assert len(incidents) == 2 and incidents[0].status is IncidentStatus.RESOLVED


async def test_spo2_of_88_alerts_for_most_people_but_not_for_a_co2_retainer(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    retainer = replace(world.jiho.profile, co2_retainer=True)
    assert await ports.store.people.update_profile(
        world.jiho, retainer, expected_revision=world.jiho.revision, now=clock.now()
    )
    coordinator = world.coordinator.principal()
    for person in (world.minji, world.jiho):
        reading = Reading(
            person.id, Metric.SPO2, (Component(Metric.SPO2.value, 88),), "%", clock.now(), Modality.SENSED
        )
        await record_observation(ports, coordinator, reading)

    [incident] = await ports.store.db["incidents"].find().to_list()
    assert incident["person_id"] == world.minji.id and incident["severity"] == "HIGH"


async def test_family_and_services_may_not_record_and_a_caregiver_only_for_people_they_serve(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    reading = bp_reading(world.minji.id, clock.now(), 120, 80)
    for refused in (world.guardian, world.ai_service):
        with pytest.raises(Forbidden):
            await record_observation(ports, refused.principal(), reading)
    with pytest.raises(NotFound):
        await record_observation(ports, world.caregiver_off_team.principal(), reading)
    assert await ports.store.db["observations"].count_documents({}) == 0


async def test_a_reading_twice_in_one_batch_is_recorded_once_and_answered_as_a_duplicate_the_second_time(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    profile = replace(world.minji.profile, external_refs=(ExternalRef("cuffs", "BP-1"),))
    assert await ports.store.people.update_profile(
        world.minji, profile, expected_revision=world.minji.revision, now=clock.now()
    )
    service = AiService(world.ai_service.id, world.agency.id, "cuffs", "batch-secret-0123456789abcdef0123", clock.now())
    reading = bp_reading("", clock.now(), 128, 82, data_point="r-1")

    results = await ingest_observations(ports, world.ai_service.principal(), service, [("BP-1", reading)] * 2)

    assert [r.outcome for r in results] == [IngestOutcome.RECORDED, IngestOutcome.DUPLICATE]
    assert await ports.store.db["observations"].count_documents({"evaluated": True}) == 1


async def test_a_backlog_sent_in_one_batch_finds_what_it_finds_sent_one_reading_at_a_time(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    service = AiService(world.ai_service.id, world.agency.id, "cuffs", "batch-secret-0123456789abcdef0123", clock.now())
    for person, ref in ((world.minji, "BP-1"), (world.jiho, "BP-2")):
        profile = replace(person.profile, external_refs=(ExternalRef("cuffs", ref),))
        assert await ports.store.people.update_profile(
            person, profile, expected_revision=person.revision, now=clock.now()
        )
    series = twice_daily(40, lambda d: 128 if d < 25 else 128 + min(15, 1.5 * (d - 25)), seed=3)
    start = clock.now() - timedelta(days=41)
    readings = [
        bp_reading("", start + (o.reading.effective_at - series[0].reading.effective_at), *values(o), data_point=str(i))
        for i, o in enumerate(series)
    ]
    actor = world.ai_service.principal()

    batch = await ingest_observations(ports, actor, service, [("BP-1", r) for r in readings])
    singly = [(await ingest_observations(ports, actor, service, [("BP-2", r)]))[0] for r in readings]

    def found(results: list[IngestResult]) -> list[tuple[str, ...]]:
        return [tuple(f.key for f in r.observation.findings) if r.observation else () for r in results]

    assert found(batch) == found(singly) and any(found(batch))


def values(o: Observation) -> tuple[float, float]:
    return o.reading.value(SYSTOLIC) or 0, o.reading.value(DIASTOLIC) or 0


async def test_one_batch_of_two_people_finds_in_each_history_what_detection_finds_in_it_alone(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    # The batch's histories are read in one query for every person and metric: each person's readings
    # must still be judged against their own history only.
    service = AiService(world.ai_service.id, world.agency.id, "cuffs", "batch-secret-0123456789abcdef0123", clock.now())
    for person, ref in ((world.minji, "BP-1"), (world.jiho, "BP-2")):
        profile = replace(person.profile, external_refs=(ExternalRef("cuffs", ref),))
        assert await ports.store.people.update_profile(
            person, profile, expected_revision=person.revision, now=clock.now()
        )
    rising = twice_daily(40, lambda d: 128 if d < 25 else 128 + min(15, 1.5 * (d - 25)), seed=3)
    high_and_stable = twice_daily(40, lambda d: 162, seed=5)
    start = clock.now() - timedelta(days=41)
    shift = start - rising[0].reading.effective_at
    batch = [
        (ref, bp_reading("", o.reading.effective_at + shift, *values(o), data_point=f"{ref}-{i}"))
        for i, (a, b) in enumerate(zip(rising, high_and_stable, strict=True))
        for ref, o in (("BP-1", a), ("BP-2", b))
    ]

    results = await ingest_observations(ports, world.ai_service.principal(), service, batch)

    def found(ref: str) -> list[tuple[str, ...]]:
        mine = [r for (r_ref, _), r in zip(batch, results, strict=True) if r_ref == ref]
        assert all(r.outcome is IngestOutcome.RECORDED for r in mine)
        return [tuple(f.key for f in r.observation.findings) if r.observation else () for r in mine]

    def alone(series: list[Observation]) -> list[tuple[str, ...]]:
        return [tuple(f.key for f in found) for _, found in replay(series)]

    assert found("BP-1") == alone(rising) and any(found("BP-1"))
    assert found("BP-2") == alone(high_and_stable) and not any(found("BP-2"))
