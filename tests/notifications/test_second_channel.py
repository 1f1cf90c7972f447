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
from carecore.alerts.events import alert_on_events
from carecore.alerts.inbox import acknowledge_notification
from carecore.alerts.models import Audience, Notification
from carecore.alerts.router import SECOND_CHANNEL_AFTER, route_request
from carecore.alerts.second_channel import MAX_ATTEMPTS, RETRY_AFTER, call_out_due
from carecore.incidents.ingestion import ingest_flag
from carecore.incidents.models import AiService, IncidentStatus, Severity
from carecore.incidents.service import acknowledge_incident
from carecore.ports import Ports
from carecore.users.models import User
from notifications.twilio_channel import STATUS_PATH, TwilioChannel, TwilioConfig, thanks_twiml, webhook_url
from tests.carecore.incidents.conftest import ai, flag
from tests.conftest import World
from tests.notifications.support import incident_alert
from tests.notifications.twilio_server import ACCOUNT_SID, AUTH_TOKEN, TwilioServer
from tests.support import FakeClock

PUBLIC_URL = "https://api.carecore.test"
__all__ = ["ai"]

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


async def critical_alert(ports: Ports, world: World, ai: AiService) -> dict[str, Notification]:
    """A real CRITICAL incident for minji and its alert to her care team and guardian, who have phones."""
    now = ports.clock.now()
    for u in (world.caregiver_on_team, world.guardian):
        await ports.store.users.update(u.id, {"phone": phone_of(u)}, expected_revision=1, now=now)
    incident = (await ingest_flag(ports, world.ai_service.principal(), ai, flag())).incident
    request = incident_alert(world, now, audiences=CARE, subject_id=incident.id)
    return {n.user_id: n for n in await route_request(ports, request)}


def phone_of(u: User) -> str:
    """Unique per user: ids made in the same second share their first 8 digits, never their last."""
    return f"+8210{u.id[-8:]}"


def call_to(twilio_server: TwilioServer, u: User) -> dict[str, str]:
    return next(c for c in twilio_server.calls if c["To"] == phone_of(u))


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
    ai: AiService,
    channel: TwilioChannel,
    twilio_server: TwilioServer,
    webhooks: httpx.AsyncClient,
) -> None:
    notes = await critical_alert(ports, world, ai)
    assert await call_out_due(ports, channel, owner="w") == 0  # the window is still open
    clock.advance(SECOND_CHANNEL_AFTER)

    assert await call_out_due(ports, channel, owner="w") == 2

    assert (
        {c["To"] for c in twilio_server.calls}
        == {m["To"] for m in twilio_server.messages}
        == {phone_of(world.caregiver_on_team), phone_of(world.guardian)}
    )
    call = call_to(twilio_server, world.caregiver_on_team)
    assert "<Gather" in call["Twiml"] and 'language="ko-KR"' in call["Twiml"] and "1번을 눌러" in call["Twiml"]
    assert "최민지 님 관련 긴급 알림" in call["Twiml"]
    response = await press(webhooks, call, "1")

    assert response.status_code == 200 and "확인되었습니다" in response.text
    mine = await ports.store.notifications.get(notes[world.caregiver_on_team.id].id)
    assert mine is not None and mine.acknowledged_at == clock.now()
    incident = await ports.store.incidents.get(mine.subject_id)
    assert incident is not None and incident.status is IncidentStatus.ACKNOWLEDGED
    assert incident.acknowledged_by == world.caregiver_on_team.id
    theirs = await ports.store.notifications.get(notes[world.guardian.id].id)
    assert theirs is not None and theirs.subject_acknowledged_at is not None  # the ladder's subject is handled


async def test_a_guardian_pressing_1_hears_that_the_team_is_still_alerted_and_acknowledges_only_their_own(
    ports: Ports,
    world: World,
    clock: FakeClock,
    ai: AiService,
    channel: TwilioChannel,
    twilio_server: TwilioServer,
    webhooks: httpx.AsyncClient,
) -> None:
    notes = await critical_alert(ports, world, ai)
    clock.advance(SECOND_CHANNEL_AFTER)
    await call_out_due(ports, channel, owner="w")

    response = await press(webhooks, call_to(twilio_server, world.guardian), "1")

    assert response.status_code == 200 and "확인되었습니다" not in response.text
    assert "담당 팀에 계속 알리고 있습니다" in response.text and 'language="ko-KR"' in response.text
    theirs = await ports.store.notifications.get(notes[world.guardian.id].id)
    assert theirs is not None and theirs.acknowledged_at == clock.now()
    incident = await ports.store.incidents.get(theirs.subject_id)
    assert incident is not None and incident.status is IncidentStatus.OPEN
    caregivers = await ports.store.notifications.get(notes[world.caregiver_on_team.id].id)
    assert caregivers is not None and caregivers.subject_acknowledged_at is None


async def test_another_key_repeats_the_message_and_acknowledges_nothing(
    ports: Ports,
    world: World,
    clock: FakeClock,
    ai: AiService,
    channel: TwilioChannel,
    twilio_server: TwilioServer,
    webhooks: httpx.AsyncClient,
) -> None:
    await critical_alert(ports, world, ai)
    clock.advance(SECOND_CHANNEL_AFTER)
    await call_out_due(ports, channel, owner="w")

    response = await press(webhooks, twilio_server.calls[0], "9")

    assert response.status_code == 200 and "<Gather" in response.text
    assert await ports.store.db["notifications"].count_documents({"acknowledged_at": {"$ne": None}}) == 0


async def test_a_forged_key_press_is_refused(
    ports: Ports,
    world: World,
    clock: FakeClock,
    ai: AiService,
    channel: TwilioChannel,
    twilio_server: TwilioServer,
    webhooks: httpx.AsyncClient,
) -> None:
    await critical_alert(ports, world, ai)
    clock.advance(SECOND_CHANNEL_AFTER)
    await call_out_due(ports, channel, owner="w")

    response = await press(webhooks, twilio_server.calls[0], "1", token="not-the-auth-token")

    assert response.status_code == 403
    assert await ports.store.db["notifications"].count_documents({"acknowledged_at": {"$ne": None}}) == 0


async def test_nobody_is_called_once_an_eligible_responder_acknowledged_in_the_app(
    ports: Ports,
    world: World,
    clock: FakeClock,
    ai: AiService,
    channel: TwilioChannel,
    twilio_server: TwilioServer,
) -> None:
    notes = await critical_alert(ports, world, ai)
    clock.advance(timedelta(seconds=50))
    caregiver = world.caregiver_on_team
    await acknowledge_notification(ports, caregiver.principal(), notes[caregiver.id].id)
    clock.advance(SECOND_CHANNEL_AFTER)

    await call_out_due(ports, channel, owner="w")

    assert twilio_server.calls == [] and twilio_server.messages == []


async def test_a_guardians_acknowledgement_in_the_app_still_calls_the_staff(
    ports: Ports,
    world: World,
    clock: FakeClock,
    ai: AiService,
    channel: TwilioChannel,
    twilio_server: TwilioServer,
) -> None:
    notes = await critical_alert(ports, world, ai)
    clock.advance(timedelta(seconds=50))
    await acknowledge_notification(ports, world.guardian.principal(), notes[world.guardian.id].id)
    clock.advance(SECOND_CHANNEL_AFTER)

    await call_out_due(ports, channel, owner="w")

    assert [c["To"] for c in twilio_server.calls] == [phone_of(world.caregiver_on_team)]  # not the guardian
    assert [m["To"] for m in twilio_server.messages] == [phone_of(world.caregiver_on_team)]


async def test_non_critical_alerts_use_no_second_channel(
    ports: Ports, world: World, clock: FakeClock, channel: TwilioChannel, twilio_server: TwilioServer
) -> None:
    await route_request(ports, incident_alert(world, clock.now(), severity=Severity.HIGH, audiences=CARE))
    clock.advance(SECOND_CHANNEL_AFTER * 10)

    assert await call_out_due(ports, channel, owner="w") == 0


async def test_a_refused_request_is_tried_again_then_given_up_and_recorded(
    ports: Ports, world: World, clock: FakeClock, ai: AiService, channel: TwilioChannel, twilio_server: TwilioServer
) -> None:
    notes = await critical_alert(ports, world, ai)
    twilio_server.refusing = True
    clock.advance(SECOND_CHANNEL_AFTER)

    for _ in range(MAX_ATTEMPTS):
        await call_out_due(ports, channel, owner="w")
        clock.advance(RETRY_AFTER)

    job = await ports.store.callouts.get(notes[world.guardian.id].id)
    assert job is not None and job.state == "FAILED" and job.attempts == MAX_ATTEMPTS
    assert job.error is not None and "HTTP 400" in job.error


async def test_an_incident_acknowledged_in_its_own_screen_calls_nobody(
    ports: Ports, world: World, clock: FakeClock, ai: AiService, channel: TwilioChannel, twilio_server: TwilioServer
) -> None:
    notes = await critical_alert(ports, world, ai)
    clock.advance(timedelta(seconds=30))
    await acknowledge_incident(ports, world.coordinator.principal(), notes[world.guardian.id].subject_id)
    await alert_on_events(ports)  # the incidents module's incident.updated, followed to its effect
    clock.advance(SECOND_CHANNEL_AFTER)

    await call_out_due(ports, channel, owner="w")

    assert twilio_server.calls == [] and twilio_server.messages == []


def test_the_answer_to_a_key_press_says_whether_the_team_is_still_alerted_in_korean_and_english() -> None:
    assert "확인되었습니다" in thanks_twiml("ko") and "Acknowledged" in thanks_twiml("en")
    still = {lang: thanks_twiml(lang, acknowledged=False) for lang in ("ko", "en")}
    assert "담당 팀에 계속 알리고 있습니다" in still["ko"] and 'language="ko-KR"' in still["ko"]
    assert "The care team is still being alerted" in still["en"] and 'language="en-US"' in still["en"]


async def test_the_calls_final_status_is_kept_on_its_callout_and_only_for_that_call(
    ports: Ports,
    world: World,
    clock: FakeClock,
    ai: AiService,
    channel: TwilioChannel,
    twilio_server: TwilioServer,
    webhooks: httpx.AsyncClient,
) -> None:
    notes = await critical_alert(ports, world, ai)
    clock.advance(SECOND_CHANNEL_AFTER)
    await call_out_due(ports, channel, owner="w")
    mine = notes[world.caregiver_on_team.id]
    call = call_to(twilio_server, world.caregiver_on_team)
    url = webhook_url(PUBLIC_URL, STATUS_PATH, mine.id)

    async def status(sid: str, outcome: str, *, token: str = AUTH_TOKEN) -> int:
        form = {"CallSid": sid, "CallStatus": outcome, "AccountSid": ACCOUNT_SID}
        signature = RequestValidator(token).compute_signature(url, form)
        return (await webhooks.post(url, data=form, headers={"X-Twilio-Signature": signature})).status_code

    assert await status(call["Sid"], "no-answer", token="forged") == 403
    assert await status("CA-some-other-call", "completed") == 204
    assert await status(call["Sid"], "no-answer") == 204

    callout = await ports.store.callouts.get(mine.id)
    assert callout is not None and callout.call_status == "no-answer"
