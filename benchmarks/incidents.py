"""Signed webhook flags: throughput, and how soon each flag's first alert request is stored.

One agency of 200 people, each with a reference for the AI service. 1,000 signed flags (five types
per person, so each opens its own incident and its own first ladder step) go to POST /ingest/flags
through the real app (`build_app`, lifespan, background worker running), 50 in flight at a time.
For each flag: from just before the client sends it to the `created_at` the server stored on the
incident's first alert request (one clock: same machine). In the same run, a trivial GraphQL query
(`{ me { id } }`) is sent again and again while the flags stream in, and once more when all is idle;
the goal is a flag-to-alert p99 at most 10 times the trivial query's p99 under the same load.
In the same run, a PyMongo command listener counts the database commands each flag's request sends
(those issued while a POST /ingest/flags is handled, by name and collection; the background worker's
are not counted): the goal is at most COMMANDS_GOAL per new incident (issue 13).

    python -m benchmarks.incidents
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import dataclasses
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
from pymongo import monitoring
from starlette.types import ASGIApp, Receive, Scope, Send

from app.server import build_app
from benchmarks import bench_settings, database_uri
from benchmarks.people_list import AUTHORIZATION, COORDINATOR_UID, StandInTokens, graphql_endpoint, make_user
from carecore.access.principal import Role
from carecore.agencies.models import Agency
from carecore.clock import SystemClock
from carecore.ids import new_id
from carecore.incidents.ai_services import signed_headers
from carecore.incidents.models import AiService, IncidentType
from carecore.people.models import ExternalRef, Person, PersonProfile
from carecore.storage.database import connect, ensure_indexes
from carecore.storage.store import Store

PEOPLE = 200
FLAGS = int(os.environ.get("BENCH_FLAGS", "1000"))
IN_FLIGHT = 50
GOAL_RATIO = 10.0
IDLE_QUERIES = 200
SECRET = "benchmark-webhook-secret-0123456789abcdef"
SERVICE = "wellness-call"
TYPES = (
    IncidentType.FALL,
    IncidentType.SEIZURE,
    IncidentType.WANDERING,
    IncidentType.NO_RESPONSE,
    IncidentType.MEDICAL,
)
TRIVIAL = {"query": "{ me { id } }"}
COMMANDS_GOAL = 6
IN_FLAG_REQUEST: contextvars.ContextVar[bool] = contextvars.ContextVar("in_flag_request", default=False)


class FlagCommands(monitoring.CommandListener):
    """Counts the commands sent on behalf of a flag's request: the request's task and the tasks it starts
    (asyncio copies the context into them) see IN_FLAG_REQUEST set; nothing else does."""

    def __init__(self) -> None:
        self.by_command: collections.Counter[str] = collections.Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if IN_FLAG_REQUEST.get():
            self.by_command[f"{event.command_name} {event.command.get(event.command_name)}"] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


FLAG_COMMANDS = FlagCommands()
monitoring.register(FLAG_COMMANDS)  # before the app's client exists; counts nothing outside a flag's request


def counting_flags(app: ASGIApp) -> ASGIApp:
    async def counted(scope: Scope, receive: Receive, send: Send) -> None:
        token = IN_FLAG_REQUEST.set(scope["type"] == "http" and scope["path"] == "/ingest/flags")
        try:
            await app(scope, receive, send)
        finally:
            IN_FLAG_REQUEST.reset(token)

    return counted


class BenchmarkError(RuntimeError):
    """The benchmark's own checks failed: the figures would mean nothing."""


@dataclasses.dataclass(frozen=True, slots=True)
class Sent:
    external_id: str
    sent_at: datetime
    incident_id: str


async def seed(store: Store) -> AiService:
    now = SystemClock().now()
    agency = Agency(id=new_id(), name="벤치마크 돌봄 센터", region="경기도")
    await store.agencies.upsert(agency)
    coordinator = make_user(agency.id, Role.COORDINATOR, "김지현", now, uid=COORDINATOR_UID)
    service_user = make_user(agency.id, Role.AI_SERVICE, "안부전화 AI", now)
    for u in (coordinator, service_user):
        await store.users.insert(u)
    for i in range(PEOPLE):
        profile = PersonProfile(name=f"이용자 {i:03d}", external_refs=(ExternalRef(SERVICE, f"WC-{i:04d}"),))
        await store.people.insert(Person(new_id(), agency.id, profile, (), (), None, 1, now, now))
    service = AiService(service_user.id, agency.id, SERVICE, SECRET, now)
    await store.ai_services.put(service)
    return service


def signed(service: AiService, i: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "externalId": f"bench-{i}",
            "personRef": f"WC-{i % PEOPLE:04d}",
            "type": TYPES[i // PEOPLE % len(TYPES)].value,
            "confidence": 0.85,
            "detector": "bench-detector",
            "modelVersion": "1",
            "evidence": {"summary": "benchmark flag", "signals": [{"name": "i", "value": str(i)}]},
        }
    ).encode()
    return body, signed_headers(service.user_id, SECRET, body, at=int(time.time()))


async def send_flags(http: httpx.AsyncClient, service: AiService) -> tuple[list[Sent], float]:
    """Every flag, IN_FLIGHT at a time; returns what was answered and the seconds it all took."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(FLAGS):
        queue.put_nowait(i)
    sent: list[Sent] = []

    async def sender() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            body, headers = signed(service, i)
            at = datetime.now(UTC)
            response = await http.post("/ingest/flags", content=body, headers=headers)
            if response.status_code != 202 or response.json()["outcome"] != "CREATED":
                raise BenchmarkError(f"flag {i}: {response.status_code} {response.text[:300]}")
            sent.append(Sent(f"bench-{i}", at, response.json()["incidentId"]))

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(IN_FLIGHT)))
    return sent, time.perf_counter() - started


async def trivial_queries(http: httpx.AsyncClient, until: asyncio.Event | None, count: int = 0) -> list[float]:
    """Seconds per `{ me { id } }`, one after another, until `until` is set (or `count` of them)."""
    seconds: list[float] = []
    while (until is not None and not until.is_set()) or len(seconds) < count:
        started = time.perf_counter()
        response = await http.post("/graphql", json=TRIVIAL, headers=AUTHORIZATION)
        seconds.append(time.perf_counter() - started)
        if response.status_code != 200 or response.json().get("errors"):
            raise BenchmarkError(f"trivial query failed: {response.text[:300]}")
    return seconds


async def first_alert_latencies(store: Store, sent: list[Sent]) -> list[float]:
    latencies: list[float] = []
    for s in sent:
        alerts = await store.alert_requests.for_subject(s.incident_id)
        if not alerts:
            raise BenchmarkError(f"{s.external_id}: no alert request for incident {s.incident_id}")
        latencies.append((alerts[0].created_at - s.sent_at).total_seconds())
    return latencies


@contextlib.asynccontextmanager
async def running_app(uri: str, database: str, agency_id: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = bench_settings(uri, database, background_workers=True)
    app = build_app(settings)
    endpoint = graphql_endpoint(app)
    async with app.router.lifespan_context(app):
        started = endpoint.runtime.ports
        if started is None:
            raise BenchmarkError("the lifespan did not set the ports")
        endpoint.runtime.ports = dataclasses.replace(started, tokens=StandInTokens(agency_id))
        transport = httpx.ASGITransport(app=counting_flags(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", timeout=60) as http:
            yield http


def p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f}ms"


async def run(uri: str) -> bool:
    database = f"bench_incidents_{uuid.uuid4().hex[:8]}"
    client = connect(uri)
    try:
        store = Store(client[database])
        await ensure_indexes(store.db)
        service = await seed(store)
        print("incidents: sending 1,000 signed flags ...", file=sys.stderr, flush=True)
        FLAG_COMMANDS.by_command.clear()
        async with running_app(uri, database, service.agency_id) as http:
            idle = await trivial_queries(http, None, IDLE_QUERIES)
            done = asyncio.Event()
            under_load = asyncio.create_task(trivial_queries(http, done))
            sent, seconds = await send_flags(http, service)
            done.set()
            loaded = await under_load
        latencies = await first_alert_latencies(store, sent)
        incidents = await store.db["incidents"].count_documents({})
    finally:
        await client.drop_database(database)
        await client.close()
    report_commands(FLAG_COMMANDS.by_command, incidents)  # a goal, printed like the latency goal's
    return report(latencies, loaded, idle, seconds, incidents)


def report_commands(by_command: collections.Counter[str], incidents: int) -> None:
    per_incident = sum(by_command.values()) / max(incidents, 1)
    verdict = "met" if per_incident <= COMMANDS_GOAL else "NOT met"
    print(
        f"\nflag requests' database commands: {per_incident:.2f} per new incident (goal <= {COMMANDS_GOAL}: {verdict})"
    )
    for name, count in by_command.most_common():
        print(f"  {count / max(incidents, 1):5.2f}  {name}")


def report(latencies: list[float], loaded: list[float], idle: list[float], seconds: float, incidents: int) -> bool:
    print(f"\nsigned webhook flags: {FLAGS} for {PEOPLE} people, {IN_FLIGHT} in flight ({incidents} incidents)")
    print(f"  throughput: {FLAGS / seconds:.0f} flags/s ({seconds:.2f}s in all)")
    print(
        f"  flag sent -> first alert request stored: p50 {ms(p(latencies, 50))}, p90 {ms(p(latencies, 90))}, "
        f"p99 {ms(p(latencies, 99))}, max {ms(max(latencies))}"
    )
    print(f"  trivial query under the same load ({len(loaded)} sent): p50 {ms(p(loaded, 50))}, p99 {ms(p(loaded, 99))}")
    print(f"  trivial query idle ({len(idle)} sent): p50 {ms(p(idle, 50))}, p99 {ms(p(idle, 99))}")
    ratio = p(latencies, 99) / p(loaded, 99)
    verdict = "met" if ratio <= GOAL_RATIO else "NOT met"
    print(f"  p99 flag-to-alert / p99 trivial query under load = {ratio:.2f} (goal <= {GOAL_RATIO:g}: {verdict})")
    print(f"  p99 flag-to-alert / p99 trivial query idle = {p(latencies, 99) / p(idle, 99):.2f}")
    return incidents == FLAGS


def main() -> int:
    with database_uri() as uri:
        return 0 if asyncio.run(run(uri)) else 1


if __name__ == "__main__":
    sys.exit(main())
