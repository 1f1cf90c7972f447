"""A CRITICAL alert nobody acknowledges in time also goes out by SMS and a call; pressing 1 acknowledges."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette
from twilio.request_validator import RequestValidator

from app.twilio_webhooks import twilio_routes
from carecore.access.principal import Principal
from carecore.alerts.acknowledgement import register_acknowledger, unregister_acknowledger
from carecore.alerts.events import alert_on_events
from carecore.alerts.inbox import acknowledge_notification
from carecore.alerts.models import Audience, Notification
from carecore.alerts.router import SECOND_CHANNEL_AFTER, route_request
from carecore.alerts.second_channel import MAX_ATTEMPTS, RETRY_AFTER, call_out_due
from carecore.events.models import DomainEvent
from carecore.events.service import publish
from carecore.ids import new_id
from carecore.incidents.models import Severity
from carecore.ports import Ports
from notifications.twilio_channel import TwilioChannel, TwilioConfig
from tests.conftest import World
from tests.notifications.support import incident_alert
from tests.notifications.twilio_server import ACCOUNT_SID, AUTH_TOKEN, TwilioServer
from tests.support import FakeClock

PUBLIC_URL = "https://api.carecore.test"
CARE = (Audience.CARE_TEAM, Audience.GUARDIANS)


@pytest.fixture
def twilio_server() -> Iterator[TwilioServer]:
    with TwilioServer() as server:
        yield server


@pytest.fixture
def config(twilio_server: TwilioServer) -> TwilioConfig:
    return TwilioConfig(ACCOUNT_SID, AUTH_TOKEN, "+15005550006", PUBLIC_URL, api_base=twilio_server.url)


@pytest.fixture
async def channel(config: TwilioConfig) -> AsyncIterator[TwilioChannel]:
    sender = TwilioChannel(config)
    yield sender
    await sender.aclose()


@pytest.fixture
async def webhooks(ports: Ports, config: TwilioConfig) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=twilio_routes(lambda: ports, config))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as client:
        yield client


@pytest.fixture
def incident_acks() -> Iterator[list[tuple[str, str]]]:
    """Stands in for incidents.acknowledge_incident until the branches meet (see the lead's report)."""
    calls: list[tuple[str, str]] = []

    async def acknowledge(ports: Ports, actor: Principal, incident_id: str) -> None:
        calls.append((actor.user_id, incident_id))

    register_acknowledger("Incident", acknowledge)
    yield calls
    unregister_acknowledger("Incident")


async def critical_alert(ports: Ports, world: World, clock: FakeClock) -> dict[str, Notification]:
    for u in (world.caregiver_on_team, world.guardian):
        await ports.store.users.update(u.id, {"phone": f"+8210{u.id[:8]}"}, expected_revision=1, now=clock.now())
    return {n.user_id: n for n in await route_request(ports, incident_alert(world, clock.now(), audiences=CARE))}


async def press(
    webhooks: httpx.AsyncClient, call: dict[str, str], digits: str, *, token: str = AUTH_TOKEN
) -> httpx.Response:
    action = re.search(r'action="([^"]+)"', call["Twiml"])
    assert action is not None
    url = action.group(1).replace("&amp;", "&")
    form = {"CallSid": call["Sid"], "Digits": digits, "To": call["To"], "AccountSid": ACCOUNT_SID}
    signature = RequestValidator(token).compute_signature(url, form)
    return await webhooks.post(url, data=form, headers={"X-Twilio-Signature": signature})


async def test_an_unacknowledged_critical_alert_is_texted_and_called_and_pressing_1_acknowledges_the_incident(
    ports: Ports,
    world: World,
    clock: FakeClock,
    channel: TwilioChannel,
    twilio_server: TwilioServer,
    webhooks: httpx.AsyncClient,
    incident_acks: list[tuple[str, str]],
) -> None:
    notes = await critical_alert(ports, world, clock)
    assert await call_out_due(ports, channel, owner="w") == 0  # the window is still open
    clock.advance(SECOND_CHANNEL_AFTER)

    assert await call_out_due(ports, channel, owner="w") == 2

    assert (
        {c["To"] for c in twilio_server.calls}
        == {m["To"] for m in twilio_server.messages}
        == {
            f"+8210{world.caregiver_on_team.id[:8]}",
            f"+8210{world.guardian.id[:8]}",
        }
    )
    call = next(c for c in twilio_server.calls if c["To"].endswith(world.caregiver_on_team.id[:8]))
    assert "<Gather" in call["Twiml"] and 'language="ko-KR"' in call["Twiml"] and "1번을 눌러" in call["Twiml"]
    assert "최민지 님 관련 긴급 알림" in call["Twiml"]
    response = await press(webhooks, call, "1")

    assert response.status_code == 200 and "확인되었습니다" in response.text
    mine = await ports.store.notifications.get(notes[world.caregiver_on_team.id].id)
    assert mine is not None and mine.acknowledged_at == clock.now()
    assert incident_acks == [(world.caregiver_on_team.id, notes[world.caregiver_on_team.id].subject_id)]
    theirs = await ports.store.notifications.get(notes[world.guardian.id].id)
    assert theirs is not None and theirs.subject_acknowledged_at is not None  # the ladder's subject is handled


async def test_another_key_repeats_the_message_and_acknowledges_nothing(
    ports: Ports,
    world: World,
    clock: FakeClock,
    channel: TwilioChannel,
    twilio_server: TwilioServer,
    webhooks: httpx.AsyncClient,
) -> None:
    await critical_alert(ports, world, clock)
    clock.advance(SECOND_CHANNEL_AFTER)
    await call_out_due(ports, channel, owner="w")

    response = await press(webhooks, twilio_server.calls[0], "9")

    assert response.status_code == 200 and "<Gather" in response.text
    assert await ports.store.db["notifications"].count_documents({"acknowledged_at": {"$ne": None}}) == 0


async def test_a_forged_key_press_is_refused(
    ports: Ports,
    world: World,
    clock: FakeClock,
    channel: TwilioChannel,
    twilio_server: TwilioServer,
    webhooks: httpx.AsyncClient,
) -> None:
    await critical_alert(ports, world, clock)
    clock.advance(SECOND_CHANNEL_AFTER)
    await call_out_due(ports, channel, owner="w")

    response = await press(webhooks, twilio_server.calls[0], "1", token="not-the-auth-token")

    assert response.status_code == 403
    assert await ports.store.db["notifications"].count_documents({"acknowledged_at": {"$ne": None}}) == 0


async def test_nobody_is_called_once_an_eligible_responder_acknowledged_in_the_app(
    ports: Ports,
    world: World,
    clock: FakeClock,
    channel: TwilioChannel,
    twilio_server: TwilioServer,
    incident_acks: list[tuple[str, str]],
) -> None:
    notes = await critical_alert(ports, world, clock)
    clock.advance(timedelta(seconds=50))
    caregiver = world.caregiver_on_team
    await acknowledge_notification(ports, caregiver.principal(), notes[caregiver.id].id)
    clock.advance(SECOND_CHANNEL_AFTER)

    await call_out_due(ports, channel, owner="w")

    assert twilio_server.calls == [] and twilio_server.messages == []


async def test_non_critical_alerts_use_no_second_channel(
    ports: Ports, world: World, clock: FakeClock, channel: TwilioChannel, twilio_server: TwilioServer
) -> None:
    await route_request(ports, incident_alert(world, clock.now(), severity=Severity.HIGH, audiences=CARE))
    clock.advance(SECOND_CHANNEL_AFTER * 10)

    assert await call_out_due(ports, channel, owner="w") == 0


async def test_a_failing_provider_is_tried_again_then_given_up_and_recorded(
    ports: Ports, world: World, clock: FakeClock, channel: TwilioChannel, twilio_server: TwilioServer
) -> None:
    notes = await critical_alert(ports, world, clock)
    twilio_server.failing = True
    clock.advance(SECOND_CHANNEL_AFTER)

    for _ in range(MAX_ATTEMPTS):
        await call_out_due(ports, channel, owner="w")
        clock.advance(RETRY_AFTER)

    job = await ports.store.callouts.get(notes[world.guardian.id].id)
    assert job is not None and job.state == "FAILED" and job.attempts == MAX_ATTEMPTS
    assert (job.error is not None and "20500" in job.error) or "500" in (job.error or "")


async def test_an_incident_acknowledged_in_its_own_screen_calls_nobody(
    ports: Ports, world: World, clock: FakeClock, channel: TwilioChannel, twilio_server: TwilioServer
) -> None:
    notes = await critical_alert(ports, world, clock)
    incident_id = notes[world.guardian.id].subject_id
    acknowledged = DomainEvent(
        id=new_id(),
        agency_id=world.agency.id,
        kind="incident.updated",
        subject_type="Incident",
        subject_id=incident_id,
        at=clock.now(),
        data={"status": "ACKNOWLEDGED", "revision": 2},
    )
    await publish(ports, acknowledged)
    await alert_on_events(ports)
    clock.advance(SECOND_CHANNEL_AFTER)

    await call_out_due(ports, channel, owner="w")

    assert twilio_server.calls == [] and twilio_server.messages == []
