"""Lifecycle, scope, abuse reports, reporting deadlines and detector precision."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from carecore.errors import Forbidden, NotFound, StateConflict, ValidationFailed
from carecore.incidents import reads, service
from carecore.incidents.escalation import run_due_steps
from carecore.incidents.ingestion import ingest_flag, report_incident
from carecore.incidents.models import (
    AiService,
    HumanReport,
    Incident,
    IncidentFilter,
    IncidentStatus,
    IncidentType,
    Safeguarding,
    SafeguardingKind,
    Severity,
    TimelineAction,
)
from carecore.pagination import PageRequest
from carecore.ports import Ports
from carecore.shifts.scheduling import ShiftPlan, schedule_shift
from carecore.users.models import User
from tests.carecore.incidents.conftest import JIHO_REF, flag
from tests.conftest import World
from tests.support import FakeClock


async def _fall(ports: Ports, world: World, ai: AiService, external_id: str = "f", ref: str = "WC-0001") -> Incident:
    opened = await ingest_flag(
        ports, world.ai_service.principal(), ai, flag(external_id, ref=ref, type=IncidentType.FALL)
    )
    return opened.incident


async def _visible_ids(ports: Ports, user: User) -> set[str]:
    page = await reads.list_incidents(ports, user.principal(), IncidentFilter(), PageRequest(first=50))
    return {i.id for i in page.items}


async def test_a_caregiver_cannot_acknowledge_an_incident_of_a_person_they_do_not_serve(
    ports: Ports, world: World, ai: AiService
) -> None:
    incident = await _fall(ports, world, ai)

    with pytest.raises(NotFound):
        await service.acknowledge_incident(ports, world.caregiver_off_team.principal(), incident.id)

    stored = await ports.store.incidents.get(incident.id)
    assert stored is not None and stored.status is IncidentStatus.OPEN


async def test_each_role_lists_only_the_incidents_it_may_see(ports: Ports, world: World, ai: AiService) -> None:
    minjis = await _fall(ports, world, ai, "a")
    jihos = await _fall(ports, world, ai, "b", ref=JIHO_REF)

    assert await _visible_ids(ports, world.coordinator) == {minjis.id, jihos.id}
    assert await _visible_ids(ports, world.caregiver_on_team) == {minjis.id}
    assert await _visible_ids(ports, world.caregiver_off_team) == set()
    assert await _visible_ids(ports, world.guardian) == {minjis.id}
    assert await _visible_ids(ports, world.guardian_visits_only) == set(), "their link does not allow incidents"
    assert await _visible_ids(ports, world.other_guardian) == {jihos.id}
    assert await _visible_ids(ports, world.ai_service) == set()
    assert await _visible_ids(ports, world.other_agency_coordinator) == set()


async def test_the_alleged_perpetrator_of_an_abuse_report_gets_not_found_and_no_alert(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    accused = world.caregiver_on_team
    report = HumanReport(
        person_id=world.minji.id,
        type=IncidentType.OTHER,
        summary="Bruises on both wrists after the night shift",
        severity=Severity.HIGH,
        safeguarding=Safeguarding(SafeguardingKind.ABUSE, accused.id),
    )
    incident = await report_incident(ports, world.guardian.principal(), report)

    with pytest.raises(NotFound):
        await reads.get_incident_or_raise(ports, accused.principal(), incident.id)
    with pytest.raises(NotFound):
        await service.acknowledge_incident(ports, accused.principal(), incident.id)
    assert incident.id not in await _visible_ids(ports, accused)
    assert incident.id not in await _visible_ids(ports, world.guardian), "only coordinators see abuse reports"
    assert incident.id in await _visible_ids(ports, world.coordinator)
    clock.advance(timedelta(minutes=30))
    await run_due_steps(ports, "worker")
    alerts = await ports.store.alert_requests.for_subject(incident.id)
    assert len(alerts) == 2 and all(a.exclude_user_ids == (accused.id,) for a in alerts)
    assert all(a.user_ids == () for a in alerts)
    audiences = {a for alert in alerts for a in alert.audiences}
    assert "ON_SHIFT_CAREGIVERS" not in audiences and "GUARDIANS" not in audiences


async def test_a_coordinator_named_in_an_abuse_report_cannot_see_it_either(ports: Ports, world: World) -> None:
    report = HumanReport(
        person_id=world.minji.id,
        type=IncidentType.OTHER,
        summary="Shouted at her",
        safeguarding=Safeguarding(SafeguardingKind.ABUSE, world.coordinator.id),
    )
    incident = await report_incident(ports, world.caregiver_on_team.principal(), report)

    with pytest.raises(NotFound):
        await reads.get_incident_or_raise(ports, world.coordinator.principal(), incident.id)
    assert await _visible_ids(ports, world.coordinator) == set()


async def test_people_report_only_for_those_they_may_see(ports: Ports, world: World) -> None:
    report = HumanReport(person_id=world.minji.id, type=IncidentType.FALL, summary="Slipped in the bathroom")

    by_caregiver = await report_incident(ports, world.caregiver_on_team.principal(), report, idempotency_key="k1")
    again = await report_incident(ports, world.caregiver_on_team.principal(), report, idempotency_key="k1")

    assert by_caregiver.id == again.id and by_caregiver.source == "CAREGIVER"
    assert by_caregiver.severity is Severity.HIGH and by_caregiver.reported_by == world.caregiver_on_team.id
    with pytest.raises(NotFound):
        await report_incident(ports, world.caregiver_off_team.principal(), report)
    with pytest.raises(NotFound):
        await report_incident(ports, world.other_guardian.principal(), report)
    with pytest.raises(Forbidden):
        await report_incident(ports, world.ai_service.principal(), report)


async def test_resolution_needs_an_outcome_and_two_coordinators_resolving_at_once_resolve_it_once(
    ports: Ports, world: World, ai: AiService
) -> None:
    incident = await _fall(ports, world, ai)
    coordinator = world.coordinator.principal()
    with pytest.raises(ValidationFailed):
        await service.resolve_incident(ports, coordinator, incident.id, outcome="  ")

    results = await asyncio.gather(
        *(service.resolve_incident(ports, coordinator, incident.id, outcome=f"outcome {i}") for i in range(5)),
        return_exceptions=True,
    )

    assert sum(isinstance(r, Incident) for r in results) == 1
    assert all(isinstance(r, StateConflict) for r in results if not isinstance(r, Incident))
    stored = await ports.store.incidents.get(incident.id)
    assert stored is not None
    assert [e.action for e in stored.timeline].count(TimelineAction.RESOLVED) == 1


async def test_dismissal_needs_a_reason_and_a_coordinator(ports: Ports, world: World, ai: AiService) -> None:
    incident = await _fall(ports, world, ai)
    with pytest.raises(Forbidden):
        await service.dismiss_incident(ports, world.caregiver_on_team.principal(), incident.id, reason="false alarm")
    with pytest.raises(ValidationFailed):
        await service.dismiss_incident(ports, world.coordinator.principal(), incident.id, reason="")

    dismissed = await service.dismiss_incident(
        ports, world.coordinator.principal(), incident.id, reason="The camera saw a pillow fall"
    )

    assert dismissed.status is IncidentStatus.DISMISSED
    assert dismissed.timeline[-1].note == "The camera saw a pillow fall"
    with pytest.raises(StateConflict):
        await service.acknowledge_incident(ports, world.coordinator.principal(), incident.id)


async def test_an_incident_is_assigned_to_staff_who_may_follow_it_up(ports: Ports, world: World, ai: AiService) -> None:
    incident = await _fall(ports, world, ai)
    coordinator = world.coordinator.principal()
    with pytest.raises(ValidationFailed):
        await service.assign_incident(ports, coordinator, incident.id, assignee_id=world.caregiver_off_team.id)
    with pytest.raises(ValidationFailed):
        await service.assign_incident(ports, coordinator, incident.id, assignee_id=world.guardian.id)

    assigned = await service.assign_incident(ports, coordinator, incident.id, assignee_id=world.caregiver_on_team.id)

    assert assigned.assignee_id == world.caregiver_on_team.id
    assert assigned.timeline[-1].action is TimelineAction.ASSIGNED


async def test_a_caregiver_serving_the_person_through_a_shift_may_be_assigned(
    ports: Ports, world: World, ai: AiService, clock: FakeClock
) -> None:
    """The assignee's identity is resolved like a signed-in caller's: shifts count, not only care teams."""
    incident = await _fall(ports, world, ai)
    start = clock.now() + timedelta(days=2)
    plan = ShiftPlan(world.minji.id, start, start + timedelta(hours=4), caregiver_id=world.caregiver_off_team.id)
    await schedule_shift(ports, world.coordinator.principal(), plan)

    assigned = await service.assign_incident(
        ports, world.coordinator.principal(), incident.id, assignee_id=world.caregiver_off_team.id
    )

    assert assigned.assignee_id == world.caregiver_off_team.id


async def test_a_reportable_incident_is_due_in_24_hours_and_shows_overdue_until_reported(
    ports: Ports, world: World, ai: AiService, clock: FakeClock
) -> None:
    incident = await _fall(ports, world, ai)
    coordinator = world.coordinator.principal()
    assert incident.report_due_at == clock.now() + timedelta(hours=24)

    clock.advance(timedelta(hours=25))
    due = await reads.reports_due(ports, coordinator, PageRequest())
    assert [i.id for i in due.items] == [incident.id] and due.items[0].is_overdue(clock.now())

    await service.mark_incident_reported(ports, coordinator, incident.id, reference="GG-2026-0113")
    assert (await reads.reports_due(ports, coordinator, PageRequest())).items == []
    with pytest.raises(Forbidden):
        await reads.reports_due(ports, world.caregiver_on_team.principal(), PageRequest())


async def test_detector_precision_counts_confirmations_against_dismissals(
    ports: Ports, world: World, ai: AiService
) -> None:
    coordinator = world.coordinator.principal()
    actor = world.ai_service.principal()
    kinds = (IncidentType.FALL, IncidentType.WANDERING, IncidentType.NO_RESPONSE, IncidentType.MEDICAL)
    made = [
        (await ingest_flag(ports, actor, ai, flag(f"x{i}", type=t, detector="camera", model_version="3"))).incident
        for i, t in enumerate(kinds)
    ]
    await service.resolve_incident(ports, coordinator, made[0].id, outcome="Helped up, no injury")
    await service.resolve_incident(ports, coordinator, made[1].id, outcome="Found at the park")
    await service.dismiss_incident(ports, coordinator, made[2].id, reason="She was asleep")

    [stats] = await reads.detector_stats(ports, coordinator)

    assert (stats.detector, stats.model_version) == ("camera", "3")
    assert (stats.confirmed, stats.dismissed, stats.pending) == (2, 1, 1)
    assert stats.precision == pytest.approx(2 / 3)
