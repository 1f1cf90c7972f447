"""Push fan-out: 10,000 device tokens through the dispatcher vs a bare httpx client, same FCM server.

One alert request to 1,000 users with 10 devices each is routed into 1,000 notifications; the
dispatcher then claims them, looks up the devices, sends 10,000 FCM v1 messages with the real
firebase-admin client (`send_each_async`) and records every per-device result. The baseline posts
the same 10,000 message bodies with one bare httpx.AsyncClient, 100 at a time (the pool size both
use), with a bearer token from the same OAuth endpoint, and records nothing. Both talk TLS to the local
FCM HTTP v1-compatible test server on 127.0.0.1 (tests/notifications/fcm_server.py), which runs in
this process's threads and so shares its CPU: the ratio is what counts, not the absolute rates.
Each side runs once after a warm-up (about two minutes in all here).

    python -m benchmarks.notifications
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
import uuid
from datetime import datetime

import httpx
from firebase_admin import credentials, messaging

from benchmarks import database_uri
from carecore.access.principal import Role
from carecore.agencies.models import Agency
from carecore.alerts.devices import device_id
from carecore.alerts.dispatcher import Dispatcher, push_message
from carecore.alerts.models import AddressKind, AlertKind, AlertRequest, Audience
from carecore.alerts.router import route_request
from carecore.clock import SystemClock
from carecore.ids import new_id
from carecore.incidents.models import Severity
from carecore.ports import Ports
from carecore.storage.database import Document, connect, ensure_indexes
from carecore.storage.store import Store
from carecore.storage.users import user_to_doc
from carecore.users.models import User
from notifications.fcm import DEFAULT_BATCH, FcmSender, fcm_message, push_app
from tests.network import RoutingLoop
from tests.notifications.fcm_server import FCM_HOST, PROJECT, FcmServer
from tests.support import RecordingClaims, RefusingTokens

USERS = 1_000
DEVICES_PER_USER = 10
TOKENS = USERS * DEVICES_PER_USER
RUNS = 1


def progress(message: str) -> None:
    print(f"notifications: {message}", file=sys.stderr, flush=True)


async def seed(store: Store, now: datetime) -> AlertRequest:
    agency = Agency(id=new_id(), name="벤치마크 기관")
    await store.agencies.upsert(agency)
    users = [
        User(new_id(), agency.id, f"bench-{i}", Role.CAREGIVER, f"요양보호사 {i}", "ko", None, None, True, 1, now, now)
        for i in range(USERS)
    ]
    await store.db["users"].insert_many([user_to_doc(u) for u in users])
    devices: list[Document] = []
    for u in users:
        for j in range(DEVICES_PER_USER):
            address = f"fid-{u.id}-{j}"
            devices.append(
                {
                    "_id": device_id(AddressKind.INSTALLATION_ID, address),
                    "user_id": u.id,
                    "agency_id": agency.id,
                    "address_kind": AddressKind.INSTALLATION_ID.value,
                    "address": address,
                    "platform": "ANDROID" if j % 2 else "IOS",
                    "locale": "ko",
                    "app_version": "3.2.0",
                    "registered_at": now,
                    "last_seen_at": now,
                }
            )
    await store.db["devices"].insert_many(devices)
    return AlertRequest(
        id=new_id(),
        agency_id=agency.id,
        kind=AlertKind.OPEN_SHIFT_OFFER,
        severity=Severity.HIGH,
        subject_type="Shift",
        subject_id=new_id(),
        audiences=(Audience.USERS,),
        created_at=now,
        user_ids=tuple(u.id for u in users),
    )


async def requeue(store: Store, now: datetime) -> None:
    await store.db["notifications"].update_many(
        {}, {"$set": {"state": "QUEUED", "next_attempt_at": now, "attempts": 0, "results": []}}
    )


async def through_dispatcher(ports: Ports, sender: FcmSender) -> float:
    await requeue(ports.store, ports.clock.now())
    started = time.perf_counter()
    await Dispatcher(ports, sender, rng=random.Random(1)).run_until_idle()
    return time.perf_counter() - started


async def bodies(ports: Ports, request_id: str) -> list[bytes]:
    """The exact FCM v1 request bodies the dispatcher sends, encoded once, outside the timing."""
    notifications = await ports.store.notifications.for_request(request_id)
    devices = await ports.store.devices.for_users({n.user_id for n in notifications})
    now = time.time()
    encode = messaging._MessagingService.encode_message
    return [
        json.dumps({"message": encode(fcm_message(push_message(n, d), now))}).encode()
        for n in notifications
        for d in devices[n.user_id]
    ]


async def bare_httpx(payloads: list[bytes], token: str) -> float:
    url = f"https://{FCM_HOST}/v1/projects/{PROJECT}/messages:send"  # over TLS, as firebase-admin sends
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(timeout=20) as client:
        started = time.perf_counter()
        for start in range(0, len(payloads), DEFAULT_BATCH):
            chunk = payloads[start : start + DEFAULT_BATCH]
            responses = await asyncio.gather(*(client.post(url, content=p, headers=headers) for p in chunk))
            assert all(r.status_code == 200 for r in responses)
        return time.perf_counter() - started


async def run(uri: str) -> bool:
    client = connect(uri)
    database = f"bench_notifications_{uuid.uuid4().hex[:8]}"
    try:
        db = client[database]
        await ensure_indexes(db)
        store = Store(db)
        ports = Ports(store=store, clock=SystemClock(), claims=RecordingClaims(), tokens=RefusingTokens())
        progress(f"seeding {USERS:,} users with {DEVICES_PER_USER} devices each ...")
        request = await seed(store, ports.clock.now())
        started = time.perf_counter()
        await route_request(ports, request)
        routing = time.perf_counter() - started
        with FcmServer() as server:
            app = push_app(credentials.Certificate(server.service_account()), PROJECT, f"bench-{uuid.uuid4().hex}")
            sender = FcmSender(app)
            payloads = await bodies(ports, request.id)
            token = server.issue_token()
            await bare_httpx(payloads[:500], token)  # warm-up: connections, OAuth grant
            await sender.send([])
            dispatched, bare = [], []
            for i in range(RUNS):
                progress(f"run {i + 1} of {RUNS}: dispatcher, then bare httpx ({TOKENS:,} messages each) ...")
                before = len(server.accepted)
                dispatched.append(await through_dispatcher(ports, sender))
                delivered = len(server.accepted) - before
                bare.append(await bare_httpx(payloads, token))
            await sender.aclose()
        return report(routing, min(dispatched), min(bare), delivered)
    finally:
        await client.drop_database(database)
        await client.close()


def report(routing: float, dispatched: float, bare: float, delivered: int) -> bool:
    print(f"\nPush fan-out, {TOKENS:,} device tokens ({USERS:,} notifications x {DEVICES_PER_USER} devices)")
    print(f"  routing one alert request into {USERS:,} notifications: {routing:.2f} s")
    print(
        f"  dispatcher (claim, devices, firebase-admin send, record): {dispatched:.2f} s, {TOKENS / dispatched:,.0f}/s"
    )
    print(f"  bare httpx, same bodies, same server, nothing recorded:  {bare:.2f} s, {TOKENS / bare:,.0f}/s")
    print(f"  ratio dispatcher / bare: {dispatched / bare:.2f}")
    ok = delivered == TOKENS
    print(f"  check: every token delivered by the dispatcher ({delivered:,} of {TOKENS:,}): {'ok' if ok else 'FAILED'}")
    return ok


def main() -> int:
    # The test loop routes fcm.googleapis.com to the local server (tests/network.py).
    with database_uri() as uri, asyncio.Runner(loop_factory=RoutingLoop) as runner:
        return 0 if runner.run(run(uri)) else 1


if __name__ == "__main__":
    sys.exit(main())
