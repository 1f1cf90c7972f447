"""A repeat request the repeat answers: an unconfirmed crisis reading asks for a repeat (HIGH); a normal
repeat within 10 minutes closes the request by itself, its ladder stopped and the people asked told,
apart from the alerts in the rule's record. A confirming repeat, no repeat, or a person who took the
request up keep it with people."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from carecore.alerts.events import alert_on_events
from carecore.audit.models import AuditOutcome
from carecore.audit.service import SYSTEM
from carecore.health.models import Component, Metric, Modality, Reading
from carecore.health.service import record_observation
from carecore.health.stats import health_rule_stats
from carecore.incidents.escalation import run_due_steps
from carecore.incidents.models import Incident, IncidentStatus, Severity, TimelineAction
from carecore.incidents.service import acknowledge_incident, assign_incident
from carecore.ports import Ports
from tests.carecore.health.conftest import bp_reading, health_incidents, told
from tests.conftest import World
from tests.notifications.support import check_in
from tests.support import FakeClock


async def _asked(ports: Ports, world: World, clock: FakeClock) -> Incident:
    """Minji's crisis reading, unconfirmed: a repeat request."""
    await record_observation(
        ports, world.caregiver_on_team.principal(), bp_reading(world.minji.id, clock.now(), 188, 104)
    )
    [asked] = await health_incidents(ports, world.minji.id)
    assert (asked.severity, asked.status) == (Severity.HIGH, IncidentStatus.OPEN)
    return asked


async def _current(ports: Ports, incident: Incident) -> Incident:
    found = await ports.store.incidents.get(incident.id)
    assert found is not None
    return found


async def test_a_normal_repeat_within_10_minutes_closes_the_request_its_ladder_stops_and_those_asked_see_it(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    await check_in(ports, world, world.caregiver_on_team)
    caregiver = world.caregiver_on_team.principal()
    asked = await _asked(ports, world, clock)
    first_alerts = await told(ports, asked.id)
    clock.advance(timedelta(minutes=4))
    repeat = bp_reading(world.minji.id, clock.now(), 142, 88)
    recorded = await record_observation(ports, caregiver, repeat)

    closed = await _current(ports, asked)
    local = repeat.effective_at.astimezone(ZoneInfo(world.agency.timezone))
    assert closed.status is IncidentStatus.RESOLVED and closed.actionable is False
    assert closed.outcome == f"Not confirmed by the repeat at {local:%H:%M}: 142/88 mm[Hg]"
    last = closed.timeline[-1]
    assert (last.action, last.actor_id) == (TimelineAction.RESOLVED, None) and closed.escalation.due_at is None
    assert recorded.observation is not None and recorded.observation.incident_ids == ()  # the repeat opens nothing
    await alert_on_events(ports)
    notifications = [
        n
        for r in await ports.store.alert_requests.for_subject(asked.id)
        for n in await ports.store.notifications.for_request(r.id)
    ]
    assert world.caregiver_on_team.id in first_alerts["HIGH"] and notifications
    assert all(n.subject_acknowledged_at is not None for n in notifications)  # their phones stop asking
    clock.advance(timedelta(hours=2))
    await run_due_steps(ports, "ladder")
    assert len(await ports.store.alert_requests.for_subject(asked.id)) == 1  # no step after the first
    audit = await ports.store.db["audit"].find({"action": "incident.close_unconfirmed"}).to_list()
    assert [(a["actor_id"], a["object_id"], a["outcome"]) for a in audit] == [
        (SYSTEM, asked.id, AuditOutcome.DONE.value)
    ]


async def test_a_confirming_repeat_turns_critical_and_a_late_or_missing_repeat_leaves_the_request_climbing(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    caregiver = world.caregiver_on_team.principal()
    asked = await _asked(ports, world, clock)
    clock.advance(timedelta(minutes=11))  # too late to answer the request
    await record_observation(ports, caregiver, bp_reading(world.minji.id, clock.now(), 138, 84))
    late = await _current(ports, asked)
    clock.advance(timedelta(hours=2))
    await run_due_steps(ports, "ladder")

    assert late.status is IncidentStatus.OPEN and late.severity is Severity.HIGH
    assert len(await ports.store.alert_requests.for_subject(asked.id)) > 1  # the ladder went on climbing

    clock.advance(timedelta(days=1))
    coordinator = world.coordinator.principal()
    other = await record_observation(ports, coordinator, bp_reading(world.jiho.id, clock.now(), 186, 104))
    clock.advance(timedelta(minutes=3))
    await record_observation(ports, coordinator, bp_reading(world.jiho.id, clock.now(), 190, 110))
    assert other.observation is not None
    [confirmed] = other.observation.incident_ids
    raised = await ports.store.incidents.get(confirmed)
    assert raised is not None and (raised.severity, raised.status) == (Severity.CRITICAL, IncidentStatus.OPEN)


async def test_a_same_moment_reading_from_another_device_is_no_repeat(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    asked = await _asked(ports, world, clock)
    clock.advance(timedelta(seconds=30))  # a second cuff at the same moment: two sources, not a repeat
    another = bp_reading(world.minji.id, clock.now(), 132, 80, device="cuff-2")
    await record_observation(ports, world.caregiver_on_team.principal(), another)

    assert (await _current(ports, asked)).status is IncidentStatus.OPEN


async def test_a_request_a_person_acknowledged_or_assigned_is_never_closed_by_the_system(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    caregiver, coordinator = world.caregiver_on_team.principal(), world.coordinator.principal()
    asked = await _asked(ports, world, clock)
    await acknowledge_incident(ports, caregiver, asked.id, note="On my way")
    clock.advance(timedelta(minutes=5))
    await record_observation(ports, caregiver, bp_reading(world.minji.id, clock.now(), 130, 80))
    clock.advance(timedelta(days=1))
    spo2 = Reading(world.minji.id, Metric.SPO2, (Component(Metric.SPO2.value, 89),), "%", clock.now(), Modality.SENSED)
    await record_observation(ports, caregiver, spo2)
    low = next(i for i in await health_incidents(ports, world.minji.id) if i.id != asked.id)
    await assign_incident(ports, coordinator, low.id, assignee_id=world.caregiver_on_team.id)
    clock.advance(timedelta(minutes=5))
    again = Reading(world.minji.id, Metric.SPO2, (Component(Metric.SPO2.value, 96),), "%", clock.now(), Modality.SENSED)
    await record_observation(ports, caregiver, again)

    assert (await _current(ports, asked)).status is IncidentStatus.ACKNOWLEDGED
    assert (await _current(ports, low)).status is IncidentStatus.OPEN
    assert await ports.store.db["audit"].count_documents({"action": "incident.close_unconfirmed"}) == 0


async def test_a_repeat_that_arrives_before_the_reading_it_answers_closes_the_request_too(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    caregiver = world.caregiver_on_team.principal()
    taken = clock.now()
    clock.advance(timedelta(minutes=6))
    await record_observation(ports, caregiver, bp_reading(world.minji.id, taken + timedelta(minutes=5), 136, 86))
    await record_observation(ports, caregiver, bp_reading(world.minji.id, taken, 188, 104))  # synced late

    [asked] = await health_incidents(ports, world.minji.id)
    assert asked.status is IncidentStatus.RESOLVED and asked.actionable is False


async def test_rule_stats_count_answered_repeat_requests_apart_from_alerts(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    coordinator = world.coordinator.principal()
    start = clock.now()
    await _asked(ports, world, clock)
    clock.advance(timedelta(minutes=5))
    await record_observation(ports, coordinator, bp_reading(world.minji.id, clock.now(), 140, 85))
    clock.advance(timedelta(hours=1))
    await record_observation(ports, coordinator, bp_reading(world.minji.id, clock.now(), 186, 100))  # not repeated

    stats = await health_rule_stats(ports, coordinator, start=start, end=clock.now() + timedelta(minutes=1))

    [crisis] = stats.rules
    assert (crisis.rule, crisis.alerts, crisis.dispositioned, crisis.repeats_answered) == ("bp_crisis", 1, 0, 1)


async def test_a_repeat_answering_an_older_reading_leaves_the_request_a_later_reading_joined(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    caregiver = world.caregiver_on_team.principal()
    taken = clock.now()
    asked = await _asked(ports, world, clock)
    clock.advance(timedelta(minutes=30))
    await record_observation(ports, caregiver, bp_reading(world.minji.id, clock.now(), 186, 102))  # joins it
    late = bp_reading(world.minji.id, taken + timedelta(minutes=5), 134, 82, device="cuff-2")  # synced late
    await record_observation(ports, caregiver, late)

    still = await _current(ports, asked)
    assert (still.status, still.flag_count) == (IncidentStatus.OPEN, 2)  # 186/102 still waits for its repeat
