"""Acknowledging an incident's alert, killed at each of its writes (invariant I4, docs/safety.md).

The app retries an acknowledgement that got no answer; then recovery runs every background job and the
second channel. A staff member's acknowledgement ends with the incident acknowledged and nobody called;
a guardian's never marks anyone else's copy, and the staff are still called.
"""

from __future__ import annotations

from carecore.access.principal import Principal
from carecore.alerts.inbox import acknowledge_notification
from carecore.alerts.models import Notification
from carecore.alerts.router import route_due
from carecore.incidents.escalation import run_due_steps
from carecore.incidents.ingestion import report_incident
from carecore.incidents.models import HumanReport, Incident, IncidentStatus, IncidentType, Severity
from carecore.users.models import User
from tests.conftest import World, build_world
from tests.crashes import CrashPoints, CrashRun, recover
from tests.notifications.test_crash_points import RecordingChannel


async def _alerted(run: CrashRun, world: World) -> tuple[Incident, dict[str, Notification]]:
    """A CRITICAL incident whose step 0 reached the coordinator and the guardian, who both have phones."""
    for u in (world.coordinator, world.guardian):
        await run.store.db["users"].update_one({"_id": u.id}, {"$set": {"phone": f"+8210{u.id[-8:]}"}})
    report = HumanReport(world.minji.id, IncidentType.SEIZURE, "발작 신고", severity=Severity.CRITICAL)
    incident = await report_incident(run.ports, world.caregiver_on_team.principal(), report)
    await run_due_steps(run.ports, "worker")
    await route_due(run.ports, owner="router")
    notes = await run.store.db["notifications"].find({"subject_id": incident.id}).to_list()
    found = {n["user_id"]: await run.store.notifications.get(n["_id"]) for n in notes}
    assert set(found) == {world.coordinator.id, world.guardian.id}
    return incident, {k: v for k, v in found.items() if v is not None}


async def _acknowledge_with_retry(run: CrashRun, who: User, notification_id: str) -> None:
    actor: Principal = who.principal()
    async with run.armed():
        await acknowledge_notification(run.ports, actor, notification_id)
    if run.crashed:
        run.faults.dead = False
        await acknowledge_notification(run.ports, actor, notification_id)  # the app got no answer: it asks again


async def test_a_staff_acknowledgement_killed_at_any_write_ends_acknowledged_with_nobody_called(
    crash_points: CrashPoints,
) -> None:
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        incident, notes = await _alerted(run, world)
        channel = RecordingChannel()

        await _acknowledge_with_retry(run, world.coordinator, notes[world.coordinator.id].id)
        await recover(run, second=channel)

        stored = await run.store.incidents.get(incident.id)
        assert stored is not None and stored.status is IncidentStatus.ACKNOWLEDGED, run.writes
        for n in notes.values():
            after = await run.store.notifications.get(n.id)
            assert after is not None and after.subject_acknowledged_at is not None, run.writes
        assert channel.placed == [], run.writes


async def test_a_guardians_acknowledgement_killed_at_any_write_leaves_the_staff_alerted(
    crash_points: CrashPoints,
) -> None:
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        incident, notes = await _alerted(run, world)
        channel = RecordingChannel()

        await _acknowledge_with_retry(run, world.guardian, notes[world.guardian.id].id)
        await recover(run, second=channel)

        stored = await run.store.incidents.get(incident.id)
        assert stored is not None and stored.status is IncidentStatus.OPEN, run.writes
        marked = await run.store.db["notifications"].count_documents(
            {"subject_id": incident.id, "subject_acknowledged_at": {"$ne": None}}
        )
        assert marked == 0, run.writes
        assert [c.notification_id for c in channel.placed] == [notes[world.coordinator.id].id], run.writes
