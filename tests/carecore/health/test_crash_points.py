"""Recording a reading that opens an incident, killed at each of its writes: after recovery (the
health-evaluations job) and the caregiver's retry, there is one accepted reading, evaluated, in one
incident whose first alert was asked for; the audit trail has the attempt."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from carecore.alerts.models import Audience
from carecore.alerts.router import route_due
from carecore.audit.models import AuditOutcome
from carecore.health.models import ObservationStatus
from carecore.health.service import ingest_observations, record_observation
from carecore.incidents.models import AiService, IncidentStatus, Severity
from carecore.people.models import ExternalRef
from carecore.storage.people import profile_to_doc
from tests.carecore.health.conftest import bp_reading
from tests.conftest import build_world
from tests.crashes import CrashPoints, recover


async def test_a_crisis_reading_killed_at_any_write_ends_in_one_incident_with_its_alert(
    crash_points: CrashPoints,
) -> None:
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        caregiver = world.caregiver_on_team.principal()
        reading = bp_reading(world.minji.id, run.clock.now(), 188, 104)
        async with run.armed():
            await record_observation(run.ports, caregiver, reading)
        await recover(run)
        stored = await run.store.db["observations"].find().to_list()
        assert all(d["evaluated"] for d in stored), run.writes  # the job finished what the request left
        run.clock.advance(timedelta(seconds=30))
        retried = await record_observation(run.ports, caregiver, reading)  # the caregiver was told nothing

        observations = await run.store.db["observations"].find().to_list()
        assert len(observations) == 1 and observations[0]["status"] == ObservationStatus.ACCEPTED.value, run.writes
        assert retried.observation is not None and retried.observation.evaluated, run.writes
        [incident_doc] = await run.store.db["incidents"].find().to_list()
        incident = await run.store.incidents.get(incident_doc["_id"])
        assert incident is not None and incident.severity is Severity.HIGH, run.writes
        assert observations[0]["incident_ids"] == [incident.id], run.writes
        assert len(await run.store.alert_requests.for_subject(incident.id)) == 1, run.writes
        flags = await run.store.db["incident_flags"].find().to_list()
        assert [f["incident_id"] for f in flags] == [incident.id], run.writes
        audit = await run.store.db["audit"].find({"action": "observation.record"}).to_list()
        assert any(a["outcome"] == AuditOutcome.DONE.value for a in audit), run.writes


async def test_a_confirming_reading_killed_at_any_write_raises_the_one_incident_of_its_rule_to_critical(
    crash_points: CrashPoints,
) -> None:
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        caregiver = world.caregiver_on_team.principal()
        first = await record_observation(run.ports, caregiver, bp_reading(world.minji.id, run.clock.now(), 186, 104))
        assert first.observation is not None
        [opened] = first.observation.incident_ids
        run.clock.advance(timedelta(minutes=5))
        confirming = bp_reading(world.minji.id, run.clock.now(), 190, 110)
        async with run.armed():
            await record_observation(run.ports, caregiver, confirming)
        await recover(run)
        retried = await record_observation(run.ports, caregiver, confirming)

        assert retried.observation is not None and retried.observation.incident_ids == (opened,), run.writes
        assert await run.store.db["incidents"].count_documents({}) == 1, run.writes
        incident = await run.store.incidents.get(opened)
        assert incident is not None and incident.severity is Severity.CRITICAL, run.writes
        requests = await run.store.alert_requests.for_subject(opened)
        first_steps = [r.severity.value for r in requests if Audience.ON_SHIFT_CAREGIVERS in r.audiences]
        assert sorted(first_steps) == ["CRITICAL", "HIGH"], run.writes  # each ladder's step 0, once


async def test_a_batch_killed_at_any_write_ends_with_each_reading_evaluated_once_and_one_incident(
    crash_points: CrashPoints,
) -> None:
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        profile = replace(world.minji.profile, external_refs=(ExternalRef("cuffs", "BP-1"),))
        await run.store.db["people"].update_one(
            {"_id": world.minji.id}, {"$set": profile_to_doc(world.minji.agency_id, profile)}
        )
        service = AiService(
            world.ai_service.id, world.agency.id, "cuffs", "crash-secret-0123456789abcdef0123", run.clock.now()
        )
        await run.store.ai_services.put(service)
        now = run.clock.now()
        batch = [
            ("BP-1", bp_reading("", now - timedelta(hours=2), 126, 80, data_point="a")),
            ("BP-1", bp_reading("", now - timedelta(minutes=1), 188, 104, data_point="b")),
            ("BP-1", bp_reading("", now - timedelta(minutes=1), 188, 104, data_point="b")),  # twice in the batch
        ]
        async with run.armed():
            await ingest_observations(run.ports, world.ai_service.principal(), service, batch)
        await recover(run)
        retried = await ingest_observations(run.ports, world.ai_service.principal(), service, batch)

        observations = await run.store.db["observations"].find().to_list()
        assert len(observations) == 2 and all(o["evaluated"] for o in observations), run.writes
        assert all(o["status"] == ObservationStatus.ACCEPTED.value for o in observations), run.writes
        [incident] = await run.store.db["incidents"].find().to_list()
        assert [o["incident_ids"] for o in sorted(observations, key=lambda o: o["effective_at"])] == [
            [],
            [incident["_id"]],
        ], run.writes
        assert retried[2].outcome.value == "DUPLICATE", run.writes  # the copy in the batch, whatever the death


async def test_a_normal_repeat_killed_at_any_write_still_closes_the_repeat_request_and_tells_those_asked(
    crash_points: CrashPoints,
) -> None:
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        caregiver = world.caregiver_on_team.principal()
        first = await record_observation(run.ports, caregiver, bp_reading(world.minji.id, run.clock.now(), 188, 104))
        assert first.observation is not None
        [asked] = first.observation.incident_ids
        await route_due(run.ports, owner="router")  # the caregiver on shift is asked to repeat it
        run.clock.advance(timedelta(minutes=5))
        repeat = bp_reading(world.minji.id, run.clock.now(), 140, 86)
        async with run.armed():
            await record_observation(run.ports, caregiver, repeat)
        await recover(run)  # the health-evaluations job finishes a reading the request left
        await record_observation(run.ports, caregiver, repeat)  # the caregiver was told nothing: a retry
        await recover(run)

        incident = await run.store.incidents.get(asked)
        assert incident is not None and incident.status is IncidentStatus.RESOLVED, run.writes
        assert (incident.outcome or "").startswith("Not confirmed by the repeat at "), run.writes
        assert incident.actionable is False and incident.escalation.due_at is None, run.writes
        observations = await run.store.db["observations"].find().to_list()
        assert len(observations) == 2 and all(o["evaluated"] for o in observations), run.writes
        closed = {"subject_id": asked, "kind": "incident.updated", "data.status": IncidentStatus.RESOLVED.value}
        assert await run.store.db["events"].count_documents(closed) == 1, run.writes  # the people asked are told
        notified = await run.store.db["notifications"].find({"subject_id": asked}).to_list()
        assert notified and all(n["subject_acknowledged_at"] is not None for n in notified), run.writes
