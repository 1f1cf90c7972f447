"""The console's Now page against the GraphQL query that fetches the same data (issue 11).

One agency of 1,000 people (benchmarks.people_list's seed) with N unacknowledged incidents (N = 100 and
1,000, a quarter of each severity, half of them due to the authority). Measured:

1. Round-trips: the database commands of one GET /console/now, counted by a PyMongo CommandListener on a
   dedicated client; paging keeps the count the same for both N.
2. Server time: GET /console/now (session check, the core's reads, the Jinja2 render) against POST /graphql
   with a document asking for the same sections, pages and names (not who was alerted per incident, which
   GraphQL does not offer; the page reads it in one more query); both through the real app over ASGI,
   interleaved after a warm-up; median and p95. Goal: the page within 1.5 times the query.

The session and the ID token are stand-ins (verifying real ones needs Firebase); everything else is the
real app from build_app. The throw-away database is dropped at the end.

    python -m benchmarks.console_now
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from app.server import build_app
from benchmarks import bench_settings, database_uri
from benchmarks.people_list import (
    AUTHORIZATION,
    COORDINATOR_UID,
    CommandLog,
    StandInTokens,
    graphql_endpoint,
    seed,
)
from carecore.access.principal import Role
from carecore.clock import SystemClock
from carecore.ids import new_id
from carecore.incidents.models import (
    Escalation,
    Incident,
    IncidentSource,
    IncidentStatus,
    IncidentType,
    Severity,
    TimelineAction,
    TimelineEntry,
)
from carecore.storage.database import Document, connect, ensure_indexes
from carecore.storage.store import Store
from console.auth import SESSION_COOKIE

PEOPLE = 1_000
SIZES = (100, 1_000)
WARMUP = 10
ITERATIONS = 30
GOAL_RATIO = 1.5
PAGE = 10  # the console's page of each section

_GAPS = "edges { node { kind start end person { name } } }"
_SECTION = "edges { node { id type severity summary createdAt nextEscalationAt reportDueAt person { name } } }"
_UNREACHABLE = "person { name } reachability { state unanswered unreachableSince } lastHumanContact { at kind }"
DOCUMENT = f"""
query Now($from: DateTime!, $to: DateTime!, $recent: DateTime!) {{
  critical: incidents(filter: {{statuses: [OPEN, ESCALATED], severities: [CRITICAL]}}, first: {PAGE}) {{ {_SECTION} }}
  high: incidents(filter: {{statuses: [OPEN, ESCALATED], severities: [HIGH]}}, first: {PAGE}) {{ {_SECTION} }}
  medium: incidents(filter: {{statuses: [OPEN, ESCALATED], severities: [MEDIUM]}}, first: {PAGE}) {{ {_SECTION} }}
  low: incidents(filter: {{statuses: [OPEN, ESCALATED], severities: [LOW]}}, first: {PAGE}) {{ {_SECTION} }}
  reportsDue(first: {PAGE}) {{ {_SECTION} }}
  visits: coverageGaps(from: $recent, to: $from, first: 100) {{ {_GAPS} }}
  gaps: coverageGaps(from: $from, to: $to, first: {PAGE}) {{ {_GAPS} }}
  openShifts(first: {PAGE}) {{ edges {{ node {{ id start end person {{ name }} }} }} }}
  unreachablePeople {{ {_UNREACHABLE} }}
}}
"""


class BenchmarkError(RuntimeError):
    """The benchmark's own checks failed: the figures would mean nothing."""


class StandInSessions:
    """Accepts any session cookie as the seeded coordinator's."""

    def __init__(self, agency_id: str) -> None:
        self._claims: dict[str, Any] = {"role": Role.COORDINATOR.value, "agency": agency_id}

    async def create_session(self, id_token: str, lifetime: timedelta) -> str:
        return "benchmark-session"

    async def verify_session(self, cookie: str) -> tuple[str, dict[str, Any]]:
        return COORDINATOR_UID, dict(self._claims)

    async def revoke_sessions(self, firebase_uid: str) -> None:
        return None


async def seed_incidents(store: Store, agency_id: str, n: int) -> None:
    now = SystemClock().now()
    people = [d["_id"] async for d in store.db["people"].find({"agency_id": agency_id}, {"_id": 1})]
    severities = list(Severity)
    for i in range(n):
        severity = severities[i % 4]
        created = now - timedelta(minutes=i)
        incident = Incident(
            id=new_id(),
            agency_id=agency_id,
            person_id=people[i % len(people)],
            type=IncidentType.FALL,
            severity=severity,
            status=IncidentStatus.OPEN,
            source=IncidentSource.CAREGIVER,
            summary=f"넘어짐 {i:04d}",
            created_at=created,
            updated_at=created,
            report_due_at=created + timedelta(hours=24) if i % 2 else None,
            escalation=Escalation(round=1, step=1, started_at=created, due_at=now + timedelta(minutes=2)),
            timeline=(TimelineEntry(created, TimelineAction.CREATED, None, IncidentStatus.OPEN),),
        )
        await store.incidents.insert(incident)


@contextlib.asynccontextmanager
async def serve(uri: str, database: str, store: Store, agency_id: str) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(bench_settings(uri, database))
    endpoint = graphql_endpoint(app)
    async with app.router.lifespan_context(app):
        started = endpoint.runtime.ports
        if started is None:
            raise BenchmarkError("the lifespan did not set the ports")
        endpoint.runtime.ports = dataclasses.replace(started, store=store, tokens=StandInTokens(agency_id))
        endpoint.runtime.firebase = StandInSessions(agency_id)  # type: ignore[assignment]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1") as http:
            http.cookies.set(SESSION_COOKIE, "benchmark-session", domain="127.0.0.1", path="/console")
            yield http


def _variables() -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "recent": (now - timedelta(hours=12)).isoformat(),
        "from": now.isoformat(),
        "to": (now + timedelta(hours=24)).isoformat(),
    }


async def console_page(http: httpx.AsyncClient) -> None:
    response = await http.get("/console/now")
    if response.status_code != 200 or 'data-incident="' not in response.text:
        raise BenchmarkError(f"/console/now answered {response.status_code}: {response.text[:300]}")


async def graphql_query(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": DOCUMENT, "variables": _variables()}, headers=AUTHORIZATION)
    body = response.json()
    if response.status_code != 200 or body.get("errors") or not body["data"]["critical"]["edges"]:
        raise BenchmarkError(f"the query failed: {str(body)[:500]}")


async def timed(action: Callable[[], Awaitable[None]]) -> float:
    start = time.perf_counter()
    await action()
    return time.perf_counter() - start


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


async def run(uri: str) -> bool:
    log = CommandLog()
    counted: AsyncMongoClient[Document] = AsyncMongoClient(uri, event_listeners=[log], tz_aware=True)
    plain = connect(uri)
    ok = True
    commands: dict[int, Counter[tuple[str, str]]] = {}
    try:
        for n in SIZES:
            database = f"bench_console_{uuid.uuid4().hex[:8]}"
            try:
                store = Store(plain[database])
                await ensure_indexes(plain[database])
                seeded = await seed(store, PEOPLE)
                await seed_incidents(store, seeded.coordinator.agency_id, n)
                async with serve(uri, database, Store(counted[database]), seeded.coordinator.agency_id) as http:
                    await console_page(http)  # caches warm
                    log.commands.clear()
                    await console_page(http)
                    commands[n] = Counter(log.commands)
                    if n == SIZES[-1]:
                        ok = await compare(http) and ok
            finally:
                await plain.drop_database(database)
    finally:
        await counted.close()
        await plain.close()
    counts = {n: sum(c.values()) for n, c in commands.items()}
    print(f"console_now: database commands of one GET /console/now: {counts}")
    for n, c in commands.items():
        print(f"  N={n}: {dict(sorted(c.items()))}")
    if len(set(counts.values())) != 1:
        print("console_now: FAIL the number of round-trips grows with the number of open items")
        ok = False
    return ok


async def compare(http: httpx.AsyncClient) -> bool:
    for _ in range(WARMUP):
        await console_page(http)
        await graphql_query(http)
    page: list[float] = []
    query: list[float] = []
    for _ in range(ITERATIONS):
        page.append(await timed(lambda: console_page(http)))
        query.append(await timed(lambda: graphql_query(http)))
    ratio = statistics.median(page) / statistics.median(query)
    print(
        f"console_now: N={SIZES[-1]} open items, {PEOPLE} people, {ITERATIONS} interleaved requests each\n"
        f"  GET /console/now   median {statistics.median(page) * 1000:.1f} ms, p95 {p95(page) * 1000:.1f} ms\n"
        f"  POST /graphql      median {statistics.median(query) * 1000:.1f} ms, p95 {p95(query) * 1000:.1f} ms\n"
        f"  ratio {ratio:.2f} (goal <= {GOAL_RATIO}), at p95 {p95(page) / p95(query):.2f}"
    )
    return ratio <= GOAL_RATIO


def main() -> int:
    with database_uri() as uri:
        return 0 if asyncio.run(run(uri)) else 1


if __name__ == "__main__":
    sys.exit(main())
