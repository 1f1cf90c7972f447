"""FCM or Twilio down for a minute (on a simulated clock): the outbox drains afterwards, each push or
callout is tried again no sooner than the provider's Retry-After, nothing is lost and nothing goes twice."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta

from carecore.alerts.dispatcher import Dispatcher
from carecore.alerts.models import Audience, DeliveryState
from carecore.alerts.router import SECOND_CHANNEL_AFTER, route_request
from carecore.alerts.second_channel import call_out_due
from carecore.incidents.models import AiService
from carecore.ports import Ports
from notifications.fcm import FcmSender
from notifications.twilio_channel import TwilioChannel
from tests.carecore.incidents.conftest import ai
from tests.conftest import World
from tests.notifications.fcm_server import Failure, FcmServer
from tests.notifications.support import incident_alert, put_device
from tests.notifications.test_second_channel import channel, config, critical_alert, phone_of, twilio_server
from tests.notifications.twilio_server import TwilioServer
from tests.support import FakeClock

__all__ = ["ai", "channel", "config", "twilio_server"]  # fixtures

OUTAGE = timedelta(seconds=60)
RETRY_AFTER = 20


async def test_after_a_minute_of_fcm_outage_the_outbox_drains_honouring_retry_after_once_each(
    ports: Ports, world: World, clock: FakeClock, fcm_server: FcmServer, fcm: FcmSender
) -> None:
    phones = [await put_device(ports.store, world.guardian, clock.now()) for _ in range(3)]
    queued = [
        n
        for _ in range(4)
        for n in await route_request(ports, incident_alert(world, clock.now(), audiences=(Audience.GUARDIANS,)))
    ]
    dispatcher = Dispatcher(ports, fcm, owner="d1", rng=random.Random(3))
    start = clock.now()
    fcm_server.outage = Failure(503, "UNAVAILABLE", retry_after=RETRY_AFTER)
    tried_at: dict[tuple[str, str], list[datetime]] = {}
    while clock.now() < start + OUTAGE * 5:
        if clock.now() >= start + OUTAGE:
            fcm_server.outage = None
        seen = len(fcm_server.attempts)
        await dispatcher.run_until_idle()
        # firebase-admin's own retries within one call (notifications/fcm.py) are one try of our schedule.
        for key in set(fcm_server.attempts[seen:]):
            tried_at.setdefault(key, []).append(clock.now())
        clock.advance(timedelta(seconds=1))

    for n in queued:
        stored = await ports.store.notifications.get(n.id)
        assert stored is not None and stored.state is DeliveryState.SENT, stored
    delivered = sorted((m["android"]["collapse_key"], m["fid"]) for m in fcm_server.accepted)
    assert delivered == sorted((n.id, p.address) for n in queued for p in phones)  # each once, none lost
    for times in tried_at.values():
        assert len(times) >= 2  # the outage was met, then got through
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert min(gaps) >= timedelta(seconds=RETRY_AFTER)


async def test_after_a_minute_of_twilio_outage_every_callout_goes_out_once_no_sooner_than_retry_after(
    ports: Ports, world: World, clock: FakeClock, ai: AiService, channel: TwilioChannel, twilio_server: TwilioServer
) -> None:
    notes = await critical_alert(ports, world, ai)
    clock.advance(SECOND_CHANNEL_AFTER)
    start = clock.now()
    twilio_server.failing, twilio_server.retry_after = True, 90  # longer than our own minute between tries
    tried_at: list[datetime] = []
    while clock.now() < start + OUTAGE * 6:
        if clock.now() >= start + OUTAGE:
            twilio_server.failing = False
        seen = twilio_server.attempts
        await call_out_due(ports, channel, owner="w")
        if twilio_server.attempts > seen:
            tried_at.append(clock.now())
        clock.advance(timedelta(seconds=1))

    for n in notes.values():
        job = await ports.store.callouts.get(n.id)
        assert job is not None and job.state == "CALLED", job
    called = sorted(c["To"] for c in twilio_server.calls)
    texted = sorted(m["To"] for m in twilio_server.messages)
    assert called == texted == sorted({phone_of(world.caregiver_on_team), phone_of(world.guardian)})  # once each
    assert tried_at[0] == start and tried_at[1] - tried_at[0] >= timedelta(seconds=90)
