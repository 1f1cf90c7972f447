"""The server process is killed (SIGKILL) while signed flags stream in, then started again.

Every flag answered 202 must be an incident afterwards, and the ladders must carry on: each step
once, never before its time, and no later than its time (or the restart) plus the lease of a step
the dead process was holding.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from carecore.access.principal import Role
from carecore.agencies.models import Agency
from carecore.alerts.models import Audience
from carecore.ids import new_id
from carecore.incidents.ai_services import signed_headers
from carecore.incidents.models import AiService, IncidentType, Severity
from carecore.incidents.policy import DEFAULT_POLICY, LadderStep
from carecore.people.models import ExternalRef, Protocol
from carecore.storage.store import Store
from tests.support import FakeClock, person, user

ROOT = Path(__file__).resolve().parents[2]
SECRET = "kill-test-secret-0123456789abcdef0123"
PEOPLE = 40
SENDERS = 8
ANSWERED_BEFORE_KILL = 60  # killed with flags of all 8 senders in flight
STEP_1, STEP_2 = timedelta(seconds=3), timedelta(seconds=6)
LEASE_SECONDS = 2.0
LADDER = (
    LadderStep(timedelta(0), (Audience.ON_SHIFT_CAREGIVERS, Audience.COORDINATORS_ON_DUTY)),
    LadderStep(STEP_1, (Audience.ALL_COORDINATORS,)),
    LadderStep(STEP_2, (Audience.EMERGENCY_CONTACT,), escalate=True),
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def server_process(mongo_uri: str, database: str, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "MONGODB_URI": mongo_uri,
        "CARECORE_DATABASE": database,
        "CARECORE_ENV": "test",
        "FIREBASE_PROJECT_ID": "demo-carecore-test",
        "CARECORE_WORKER_POLL_SECONDS": "0.2",
        "CARECORE_ESCALATION_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


async def wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError(f"the server exited; see {log}")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise RuntimeError(f"the server did not become ready; see {log}")


async def seed(store: Store, clock: FakeClock) -> AiService:
    agency = Agency(id=new_id(), name="재시작 시험 기관")
    await store.agencies.upsert(agency)
    service_user = user(agency.id, Role.AI_SERVICE, "시험 AI", now=clock.now())
    await store.users.insert(service_user)
    seizure = Protocol(IncidentType.SEIZURE, "119 after 5 minutes", call_emergency_after_minutes=5)
    for i in range(PEOPLE):
        await store.people.insert(
            person(
                agency.id,
                f"이용자 {i:02d}",
                now=clock.now(),
                external_refs=(ExternalRef("ai", f"P-{i:02d}"),),
                protocols=(seizure,),
            )
        )
    policy = replace(DEFAULT_POLICY, ladders={**DEFAULT_POLICY.ladders, Severity.CRITICAL: LADDER})
    assert await store.incident_policies.put(agency.id, policy, expected_revision=0)
    service = AiService(service_user.id, agency.id, "ai", SECRET, clock.now())
    await store.ai_services.put(service)
    return service


def signed_flag(service: AiService, i: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "externalId": f"kill-{i}",
            "personRef": f"P-{i % PEOPLE:02d}",
            "type": "SEIZURE",
            "confidence": 0.8,
            "detector": "wearable",
            "modelVersion": "1",
        }
    ).encode()
    return body, signed_headers(service.user_id, SECRET, body, at=int(time.time()))


async def stream(
    base: str, service: AiService, answered: dict[str, str], stop: asyncio.Event, enough: asyncio.Event
) -> None:
    """Sends flags from several senders until `stop`; records each flag answered 202 with its incident."""
    counter = iter(range(1_000_000))

    async def sender(client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            i = next(counter)
            body, headers = signed_flag(service, i)
            try:
                response = await client.post("/ingest/flags", content=body, headers=headers)
            except httpx.TransportError:
                await asyncio.sleep(0.01)
                continue
            if response.status_code == 202:
                answered[f"kill-{i}"] = response.json()["incidentId"]
                if len(answered) >= ANSWERED_BEFORE_KILL:
                    enough.set()

    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        await asyncio.gather(*(sender(client) for _ in range(SENDERS)))


@pytest.mark.filterwarnings("ignore::ResourceWarning")
async def test_every_flag_answered_202_survives_a_kill_and_its_ladder_resumes_on_time(
    mongo_uri: str, database_name: str, store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    service = await seed(store, clock)
    port, log = _free_port(), tmp_path / "server.log"
    base = f"http://127.0.0.1:{port}"
    answered: dict[str, str] = {}
    with server_process(mongo_uri, database_name, port, log) as first:
        await wait_ready(base, first, log)
        stop, enough = asyncio.Event(), asyncio.Event()
        streaming = asyncio.create_task(stream(base, service, answered, stop, enough))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(enough.wait(), timeout=20)
        os.kill(first.pid, signal.SIGKILL)
        killed_at = datetime.now(UTC)
        await asyncio.sleep(0.3)
        stop.set()
        await streaming
    assert len(answered) >= ANSWERED_BEFORE_KILL, "the stream was too short to mean anything"

    with server_process(mongo_uri, database_name, port, log) as second:
        await wait_ready(base, second, log)
        ready_at = datetime.now(UTC)
        incident_ids = set(answered.values())
        found = await store.incidents.get_many(incident_ids)
        assert set(found) == incident_ids, "a flag answered 202 has no incident"
        for external_id, incident_id in answered.items():
            flag = await store.db["incident_flags"].find_one({"incident_id": incident_id, "_id": {"$exists": True}})
            assert flag is not None, external_id
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            counts = [len(await store.alert_requests.for_subject(i)) for i in incident_ids]
            if all(c == 3 for c in counts):
                break
            await asyncio.sleep(0.2)

    slack = timedelta(seconds=LEASE_SECONDS + 1.5)
    for incident in (await store.incidents.get_many(incident_ids)).values():
        alerts = await store.alert_requests.for_subject(incident.id)
        assert len(alerts) == 3, f"{incident.id}: {len(alerts)} ladder steps, killed at {killed_at}"
        started = incident.escalation.started_at
        assert started is not None
        for alert, offset in zip(alerts, (timedelta(0), STEP_1, STEP_2), strict=True):
            due = started + offset
            assert alert.created_at >= due - timedelta(milliseconds=5), "a step ran early"
            assert alert.created_at <= max(due, ready_at) + slack, f"a step ran late: due {due}, at {alert.created_at}"
        assert incident.status == "ESCALATED"
