"""The real firebase-admin client, through its public API only, against a local FCM HTTP v1-compatible server."""

from __future__ import annotations

import random
import time
import uuid
from datetime import timedelta

import firebase_admin
import pytest
from firebase_admin import credentials

from carecore.alerts.dispatcher import DISPATCH_LEASE, Dispatcher
from carecore.alerts.models import AddressKind, AlertKind, Audience, DeliveryState, DeviceOutcome, Platform
from carecore.alerts.ports import PushMessage
from carecore.alerts.router import route_request
from carecore.incidents.models import Severity
from carecore.ports import Ports
from notifications.fcm import (
    DEFAULT_BATCH,
    HTTP_TIMEOUT_SECONDS,
    MAX_BATCH,
    SDK_ATTEMPTS,
    SDK_BACKOFF_SECONDS,
    FcmSender,
    push_app,
    worst_call,
)
from tests.conftest import World
from tests.notifications.fcm_server import PROJECT, UNAVAILABLE, Failure, FcmServer
from tests.notifications.support import check_in, incident_alert, put_device
from tests.support import FakeClock


def push(address: str) -> PushMessage:
    return PushMessage(
        notification_id=f"n-{address}",
        device_id=f"d-{address}",
        address_kind=AddressKind.INSTALLATION_ID,
        address=address,
        platform=Platform.ANDROID,
        kind=AlertKind.INCIDENT,
        severity=Severity.CRITICAL,
        title="Urgent alert",
        body="There is an urgent alert.",
        data={},
        time_to_live=timedelta(hours=1),
        thread_id="Incident-1",
    )


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


async def test_while_fcm_answers_503_a_send_costs_five_requests_then_the_alert_waits_retry_after_and_arrives(
    ports: Ports, world: World, clock: FakeClock, fcm: FcmSender, fcm_server: FcmServer
) -> None:
    phone = await put_device(ports.store, world.guardian, clock.now())
    [n] = await route_request(ports, incident_alert(world, clock.now(), audiences=(Audience.GUARDIANS,)))
    fcm_server.outage = UNAVAILABLE  # Retry-After: 30
    d = dispatcher(ports, fcm)

    started = time.monotonic()
    await d.run_once()
    # firebase-admin 7.7 retries a 503 four times inside the call, ignoring Retry-After. If an upgrade
    # changes this count, revisit SDK_ATTEMPTS and SDK_BACKOFF_SECONDS: the lease invariant rests on them.
    assert fcm_server.requests == SDK_ATTEMPTS == 5
    assert time.monotonic() - started >= SDK_BACKOFF_SECONDS
    clock.advance(timedelta(seconds=29))
    await d.run_once()
    assert fcm_server.requests == SDK_ATTEMPTS and fcm_server.accepted == []  # nothing sooner than Retry-After
    fcm_server.outage = None
    clock.advance(timedelta(seconds=1))
    await d.run_once()

    assert len(fcm_server.delivered_to(phone.address)) == 1 and fcm_server.requests == SDK_ATTEMPTS + 1
    stored = await ports.store.notifications.get(n.id)
    assert stored is not None and stored.state is DeliveryState.SENT and stored.attempts == 2


async def test_after_an_fcm_outage_the_next_sends_get_through_instead_of_timing_out(
    fcm: FcmSender, fcm_server: FcmServer
) -> None:
    # 30 messages retried in-call by firebase-admin hold more than its pool of 100 connections.
    messages = [push(f"fid-{i:02d}") for i in range(30)]
    fcm_server.outage = UNAVAILABLE
    assert {o.code for o in await fcm.send(messages)} <= {"UNAVAILABLE", "DEADLINE_EXCEEDED"}
    fcm_server.outage = None

    after = await fcm.send(messages)

    assert [o.error for o in after] == [None] * 30 and len(fcm_server.accepted) == 30
    assert fcm_server.token_grants == 1  # the fresh client kept the OAuth token


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


def test_a_batch_never_exceeds_what_fcm_accepts_in_one_call(fcm_server: FcmServer) -> None:
    app = push_app(credentials.Certificate(fcm_server.service_account()), PROJECT, f"t-{uuid.uuid4().hex}")
    try:
        with pytest.raises(ValueError, match="batch_size"):
            FcmSender(app, batch_size=MAX_BATCH + 1)
    finally:
        firebase_admin.delete_app(app)


def test_push_apps_time_out_soon_enough_that_the_worst_call_ends_within_the_dispatch_lease(
    fcm_server: FcmServer,
) -> None:
    assert worst_call(HTTP_TIMEOUT_SECONDS) < DISPATCH_LEASE
    credential = credentials.Certificate(fcm_server.service_account())
    # firebase-admin's default timeout is 120 s: five attempts of it would outlive any lease we hold.
    default = firebase_admin.initialize_app(credential, options={"projectId": PROJECT}, name=f"t-{uuid.uuid4().hex}")
    ours = push_app(credential, PROJECT, f"t-{uuid.uuid4().hex}")
    try:
        with pytest.raises(ValueError, match="outlast"):
            FcmSender(default)
        with pytest.raises(ValueError, match="outlast"):
            FcmSender(ours, lease=worst_call(HTTP_TIMEOUT_SECONDS))
    finally:
        firebase_admin.delete_app(default)
        firebase_admin.delete_app(ours)
