"""Across domains: a missed visit becomes an incident, an AI flag reaches phones, and pressing 1 on a
call acknowledges the incident and stops its ladder."""

from __future__ import annotations

from datetime import timedelta

import httpx

from carecore.alerts.dispatcher import Dispatcher
from carecore.alerts.events import alert_on_events
from carecore.alerts.models import Notification
from carecore.alerts.router import SECOND_CHANNEL_AFTER, route_due
from carecore.alerts.second_channel import call_out_due
from carecore.incidents.escalation import run_due_steps
from carecore.incidents.ingestion import ingest_flag
from carecore.incidents.missed_visits import consume_missed_visits
from carecore.incidents.models import AiService, Incident, IncidentSource, IncidentStatus, IncidentType
from carecore.incidents.service import reopen_incident, resolve_incident
from carecore.ports import Ports
from carecore.shifts.jobs import run_due_jobs
from carecore.shifts.scheduling import ShiftPlan, schedule_shift
from carecore.users.models import User
from notifications.fcm import FcmSender
from notifications.twilio_channel import TwilioChannel
from tests.carecore.incidents.conftest import flag
from tests.conftest import World
from tests.notifications.fcm_server import FcmServer
from tests.notifications.support import check_in, put_device
from tests.notifications.test_second_channel import call_to, phone_of, press
from tests.notifications.twilio_server import TwilioServer
from tests.support import FakeClock


async def _incident_requests(ports: Ports, incident_id: str) -> int:
    return len(await ports.store.alert_requests.for_subject(incident_id))


async def _notifications_of(ports: Ports, incident_id: str) -> list[Notification]:
    return [
        n
        for request in await ports.store.alert_requests.for_subject(incident_id)
        for n in await ports.store.notifications.for_request(request.id)
    ]


async def test_a_visit_missed_by_thirty_minutes_opens_one_missed_visit_incident(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    start = clock.now() + timedelta(minutes=5)
    plan = ShiftPlan(world.minji.id, start, start + timedelta(hours=2), caregiver_id=world.caregiver_on_team.id)
    shift = await schedule_shift(ports, world.coordinator.principal(), plan)
    clock.advance(timedelta(minutes=36))

    await run_due_jobs(ports, owner="jobs-a")
    await run_due_jobs(ports, owner="jobs-b")
    opened = await consume_missed_visits(ports) + await consume_missed_visits(ports)

    assert opened == 1
    found = await ports.store.db["incidents"].find({"person_id": world.minji.id}).to_list()
    assert len(found) == 1
    incident = await ports.store.incidents.get(found[0]["_id"])
    assert incident is not None and incident.type is IncidentType.MISSED_VISIT
    assert incident.source is IncidentSource.SYSTEM and shift.id in str(found[0])


async def test_a_critical_flags_first_alert_reaches_the_caregiver_on_shift_and_the_guardian_in_their_languages(
    ports: Ports, world: World, ai: AiService, clock: FakeClock, fcm: FcmSender, fcm_server: FcmServer
) -> None:
    await check_in(ports, world, world.caregiver_off_team)  # with minji now, though not on her care team
    caregiver = await put_device(ports.store, world.caregiver_off_team, clock.now(), locale="ko")
    guardian = await put_device(ports.store, world.guardian, clock.now(), locale="en")
    no_alerts = await put_device(ports.store, world.guardian_visits_only, clock.now())
    off_shift = await put_device(ports.store, world.caregiver_on_team, clock.now())

    incident = (await ingest_flag(ports, world.ai_service.principal(), ai, flag())).incident
    await run_due_steps(ports, "worker")
    await route_due(ports, owner="router")
    await Dispatcher(ports, fcm, owner="dispatch").run_once()

    def incident_pushes(address: str) -> list[dict[str, object]]:
        return [m for m in fcm_server.delivered_to(address) if m["data"]["subjectId"] == incident.id]

    [to_caregiver] = incident_pushes(caregiver.address)
    [to_guardian] = incident_pushes(guardian.address)
    assert incident_pushes(no_alerts.address) == [] and incident_pushes(off_shift.address) == []
    assert to_caregiver["notification"] == {"title": "긴급 알림", "body": "최민지 님 관련 긴급 알림이 있습니다"}
    assert to_guardian["notification"] == {"title": "Urgent alert", "body": "There is an urgent alert about 최민지."}
    assert "SEIZURE" not in str(to_guardian) and "seizure" not in str(to_guardian).lower()


async def _called_after_step_0(
    ports: Ports, world: World, ai: AiService, clock: FakeClock, channel: TwilioChannel, *callees: User
) -> Incident:
    """A CRITICAL flag whose step-0 alerts nobody acknowledged: the callees' phones ring."""
    for u in callees:
        await ports.store.users.update(u.id, {"phone": phone_of(u)}, expected_revision=1, now=ports.clock.now())
    incident = (await ingest_flag(ports, world.ai_service.principal(), ai, flag())).incident
    await run_due_steps(ports, "worker")
    await route_due(ports, owner="router")
    assert await _incident_requests(ports, incident.id) == 1
    clock.advance(SECOND_CHANNEL_AFTER)
    await call_out_due(ports, channel, owner="callouts")
    return incident


async def test_pressing_1_on_the_call_acknowledges_the_incident_and_stops_its_ladder(
    ports: Ports,
    world: World,
    ai: AiService,
    clock: FakeClock,
    channel: TwilioChannel,
    twilio_server: TwilioServer,
    webhooks: httpx.AsyncClient,
) -> None:
    await check_in(ports, world, world.caregiver_on_team)
    incident = await _called_after_step_0(ports, world, ai, clock, channel, world.caregiver_on_team, world.guardian)

    response = await press(webhooks, call_to(twilio_server, world.caregiver_on_team), "1")

    assert response.status_code == 200 and "확인되었습니다" in response.text
    acknowledged = await ports.store.incidents.get(incident.id)
    assert acknowledged is not None and acknowledged.status is IncidentStatus.ACKNOWLEDGED
    clock.advance(timedelta(minutes=10))
    await run_due_steps(ports, "worker")
    assert await _incident_requests(ports, incident.id) == 1  # no step 1 at 2 minutes, no step 2 at 5


async def test_a_caregiver_serving_the_person_through_a_shift_acknowledges_by_pressing_1(
    ports: Ports,
    world: World,
    ai: AiService,
    clock: FakeClock,
    channel: TwilioChannel,
    twilio_server: TwilioServer,
    webhooks: httpx.AsyncClient,
) -> None:
    caregiver = world.caregiver_off_team  # not on minji's care team: serves her through this shift only
    await check_in(ports, world, caregiver)
    incident = await _called_after_step_0(ports, world, ai, clock, channel, caregiver)

    response = await press(webhooks, call_to(twilio_server, caregiver), "1")

    assert response.status_code == 200 and "확인되었습니다" in response.text
    acknowledged = await ports.store.incidents.get(incident.id)
    assert acknowledged is not None and acknowledged.status is IncidentStatus.ACKNOWLEDGED
    assert acknowledged.acknowledged_by == caregiver.id


async def test_a_guardian_pressing_1_leaves_the_ladder_running_and_hears_so(
    ports: Ports,
    world: World,
    ai: AiService,
    clock: FakeClock,
    channel: TwilioChannel,
    twilio_server: TwilioServer,
    webhooks: httpx.AsyncClient,
) -> None:
    await check_in(ports, world, world.caregiver_on_team)
    incident = await _called_after_step_0(ports, world, ai, clock, channel, world.caregiver_on_team, world.guardian)

    response = await press(webhooks, call_to(twilio_server, world.guardian), "1")

    assert response.status_code == 200 and "담당 팀에 계속 알리고 있습니다" in response.text
    still_open = await ports.store.incidents.get(incident.id)
    assert still_open is not None and still_open.status is IncidentStatus.OPEN
    await run_due_steps(ports, "worker")  # 2 minutes after step 0: all coordinators again
    assert await _incident_requests(ports, incident.id) == 2


async def test_a_resolution_read_late_does_not_silence_the_alerts_of_the_reopened_incident(
    ports: Ports,
    world: World,
    ai: AiService,
    clock: FakeClock,
    channel: TwilioChannel,
    twilio_server: TwilioServer,
) -> None:
    caregiver, coordinator = world.caregiver_on_team, world.coordinator.principal()
    await check_in(ports, world, caregiver)
    await ports.store.users.update(caregiver.id, {"phone": phone_of(caregiver)}, expected_revision=1, now=clock.now())
    incident = (await ingest_flag(ports, world.ai_service.principal(), ai, flag())).incident
    await run_due_steps(ports, "worker")
    await route_due(ports, owner="router")
    clock.advance(timedelta(seconds=30))
    await resolve_incident(ports, coordinator, incident.id, outcome="Seizure ended")
    clock.advance(timedelta(seconds=30))
    await reopen_incident(ports, coordinator, incident.id, note="Another seizure started")
    await route_due(ports, owner="router")

    await alert_on_events(ports)  # the alerts consumer reads "resolved" only after the reopening
    clock.advance(SECOND_CHANNEL_AFTER)
    await call_out_due(ports, channel, owner="callouts")

    reopened_round = [n for n in await _notifications_of(ports, incident.id) if n.created_at > incident.created_at]
    assert reopened_round and all(n.subject_acknowledged_at is None for n in reopened_round)
    assert [c["To"] for c in twilio_server.calls] == [phone_of(caregiver)]
