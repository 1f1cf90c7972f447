"""The real firebase-admin client against a local FCM HTTP v1-compatible server."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from carecore.alerts.dispatcher import Dispatcher
from carecore.alerts.models import AddressKind, Audience, DeliveryState, DeviceOutcome, Platform
from carecore.alerts.router import route_request
from carecore.incidents.models import Severity
from carecore.ports import Ports
from notifications.fcm import DEFAULT_BATCH, MAX_BATCH, FcmSender
from tests.conftest import World
from tests.notifications.fcm_server import UNAVAILABLE, Failure, FcmServer
from tests.notifications.support import check_in, incident_alert, put_device
from tests.support import FakeClock


def dispatcher(ports: Ports, fcm: FcmSender) -> Dispatcher:
    return Dispatcher(ports, fcm, owner="fcm-test", rng=random.Random(3))


async def test_a_step_zero_alert_reaches_the_caregivers_and_guardians_phones_in_their_languages(
    ports: Ports, world: World, clock: FakeClock, fcm: FcmSender, fcm_server: FcmServer
) -> None:
    await check_in(ports, world, world.caregiver_on_team)
    caregiver = await put_device(ports.store, world.caregiver_on_team, clock.now(), locale="ko")
    guardian = await put_device(
        ports.store,
        world.guardian,
        clock.now(),
        locale="en",
        platform=Platform.IOS,
        kind=AddressKind.REGISTRATION_TOKEN,
    )
    no_alerts = await put_device(ports.store, world.guardian_visits_only, clock.now())
    request = incident_alert(world, clock.now(), audiences=(Audience.ON_SHIFT_CAREGIVERS, Audience.GUARDIANS))
    notes = {n.user_id: n for n in await route_request(ports, request)}

    await dispatcher(ports, fcm).run_once()

    [to_caregiver] = fcm_server.delivered_to(caregiver.address)
    [to_guardian] = fcm_server.delivered_to(guardian.address)
    assert fcm_server.delivered_to(no_alerts.address) == []
    assert "fid" in to_caregiver and "token" in to_guardian  # each address the way its app build needs
    assert to_caregiver["notification"] == {"title": "긴급 알림", "body": "최민지 님 관련 긴급 알림이 있습니다"}
    assert to_guardian["notification"] == {"title": "Urgent alert", "body": "There is an urgent alert about 최민지."}
    mine = notes[world.guardian.id]
    assert to_guardian["data"] == {
        "notificationId": mine.id,
        "kind": "INCIDENT",
        "severity": "CRITICAL",
        "subjectType": "Incident",
        "subjectId": request.subject_id,
        "personId": world.minji.id,
    }
    assert to_guardian["android"]["priority"] == "high" and to_guardian["android"]["collapse_key"] == mine.id
    assert to_guardian["android"]["ttl"] == "3600s"
    headers = to_guardian["apns"]["headers"]
    assert headers["apns-collapse-id"] == mine.id and headers["apns-priority"] == "10"
    aps = to_guardian["apns"]["payload"]["aps"]
    assert aps["interruption-level"] == "time-sensitive" and aps["thread-id"] == f"Incident-{request.subject_id}"
    assert fcm_server.token_grants == 1  # one OAuth grant, reused for every message
    stored = await ports.store.notifications.get(mine.id)
    assert stored is not None and stored.state is DeliveryState.SENT
    assert stored.results[0].message_id and stored.results[0].message_id.startswith("projects/")


async def test_a_medium_alert_is_a_normal_priority_active_push(
    ports: Ports, world: World, clock: FakeClock, fcm: FcmSender, fcm_server: FcmServer
) -> None:
    phone = await put_device(ports.store, world.guardian, clock.now())
    await route_request(
        ports, incident_alert(world, clock.now(), severity=Severity.MEDIUM, audiences=(Audience.GUARDIANS,))
    )

    await dispatcher(ports, fcm).run_once()

    [message] = fcm_server.delivered_to(phone.address)
    assert message["android"]["priority"] == "normal"
    assert message["apns"]["payload"]["aps"]["interruption-level"] == "active"


async def test_while_fcm_answers_503_every_alert_waits_retry_after_then_arrives(
    ports: Ports, world: World, clock: FakeClock, fcm: FcmSender, fcm_server: FcmServer
) -> None:
    phones = [await put_device(ports.store, u, clock.now()) for u in (world.guardian, world.coordinator)]
    for _ in range(3):
        await route_request(
            ports, incident_alert(world, clock.now(), audiences=(Audience.GUARDIANS, Audience.ALL_COORDINATORS))
        )
    fcm_server.fail_next(12, UNAVAILABLE)  # two rounds of six messages; Retry-After: 30
    d = dispatcher(ports, fcm)

    await d.run_once()
    clock.advance(timedelta(seconds=29))
    await d.run_once()
    assert fcm_server.requests == 6 and fcm_server.accepted == []  # nothing sooner than Retry-After
    clock.advance(timedelta(seconds=1))
    await d.run_once()
    clock.advance(timedelta(seconds=29))
    await d.run_once()
    assert fcm_server.requests == 12 and fcm_server.accepted == []
    clock.advance(timedelta(seconds=1))
    await d.run_once()

    assert [len(fcm_server.delivered_to(p.address)) for p in phones] == [3, 3]
    assert fcm_server.requests == 18
    for n in await ports.store.db["notifications"].find().to_list():
        assert n["state"] == "SENT" and n["attempts"] == 3


async def test_unregistered_removes_the_device_and_is_not_retried(
    ports: Ports, world: World, clock: FakeClock, fcm: FcmSender, fcm_server: FcmServer
) -> None:
    stale = await put_device(ports.store, world.guardian, clock.now())
    fresh = await put_device(ports.store, world.guardian, clock.now())
    fcm_server.gone.add(stale.address)
    [n] = await route_request(ports, incident_alert(world, clock.now(), audiences=(Audience.GUARDIANS,)))

    await dispatcher(ports, fcm).run_once()
    clock.advance(timedelta(minutes=10))
    await dispatcher(ports, fcm).run_once()

    assert fcm_server.requests == 2 and len(fcm_server.delivered_to(fresh.address)) == 1
    assert await ports.store.devices.get(stale.id) is None
    stored = await ports.store.notifications.get(n.id)
    assert stored is not None
    assert {r.device_id: (r.outcome, r.error) for r in stored.results} == {
        stale.id: (DeviceOutcome.UNREGISTERED, "UNREGISTERED"),
        fresh.id: (DeviceOutcome.SENT, None),
    }


async def test_a_malformed_message_is_recorded_as_failed_and_never_retried(
    ports: Ports, world: World, clock: FakeClock, fcm: FcmSender, fcm_server: FcmServer
) -> None:
    await put_device(ports.store, world.guardian, clock.now())
    [n] = await route_request(ports, incident_alert(world, clock.now(), audiences=(Audience.GUARDIANS,)))
    fcm_server.fail_next(1, Failure(400, "INVALID_ARGUMENT"))

    await dispatcher(ports, fcm).run_once()
    clock.advance(timedelta(minutes=10))
    await dispatcher(ports, fcm).run_once()

    stored = await ports.store.notifications.get(n.id)
    assert stored is not None and stored.state is DeliveryState.FAILED and fcm_server.requests == 1
    assert stored.results[0].error == "INVALID_ARGUMENT"


async def test_more_pushes_than_one_batch_holds_go_out_in_several(
    ports: Ports, world: World, clock: FakeClock, fcm: FcmSender, fcm_server: FcmServer
) -> None:
    for i in range(DEFAULT_BATCH + 1):
        # Written directly, past the per-user cap that registerDevice keeps, to fill two batches.
        await put_device(ports.store, world.coordinator, clock.now(), address=f"fid-{i:04d}")
    await route_request(ports, incident_alert(world, clock.now(), audiences=(Audience.ALL_COORDINATORS,)))

    await dispatcher(ports, fcm).run_once()

    assert len(fcm_server.accepted) == DEFAULT_BATCH + 1


async def test_when_the_oauth_endpoint_is_down_the_whole_batch_is_retried_later(
    ports: Ports, world: World, clock: FakeClock, fcm_server: FcmServer, fcm: FcmSender
) -> None:
    await put_device(ports.store, world.guardian, clock.now())
    [n] = await route_request(ports, incident_alert(world, clock.now(), audiences=(Audience.GUARDIANS,)))
    fcm_server.__exit__()

    await dispatcher(ports, fcm).run_once()

    stored = await ports.store.notifications.get(n.id)
    assert stored is not None and stored.state is DeliveryState.QUEUED and stored.next_attempt_at is not None
    assert stored.results[0].outcome is DeviceOutcome.RETRYING


def test_a_batch_never_exceeds_what_fcm_accepts_in_one_call() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        FcmSender.__init__(object.__new__(FcmSender), None, batch_size=MAX_BATCH + 1)
