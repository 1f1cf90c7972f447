"""The coordinator's people list: database round-trips per page, and the cost of the HTTP stack.

1. Round-trips. One agency of N people (N = 100 and 1,000), each with an active care plan, one or two
   guardians and a care team of two caregivers. A coordinator asks for a page (`first: 100`) with each
   person's active plan, guardians and care team. A PyMongo CommandListener on a dedicated client counts
   every command the request sends; keyset pagination and DataLoaders should make that count the same
   for every N and every page.
2. Overhead. The same document and data (N = 1,000) as (a) a full HTTP request through the Starlette app
   (lifespan, Authorization header, JSON in and out) and (b) `schema.execute` on the app's own schema,
   store and client; warm-up, then medians of interleaved iterations.

The app is the real one from `build_app`; once its lifespan has started, the benchmark replaces two of
its ports: `tokens` (a stand-in that accepts one fixed token, since real ID tokens need Firebase) and
`store` (the same database through the dedicated client that counts commands). Nothing is written
outside the throw-away databases, which are dropped at the end.

    python -m benchmarks.people_list
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any, TypeVar

import httpx
from pymongo import AsyncMongoClient, monitoring
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from app.server import CareGraphQL, build_app
from app.settings import Settings
from benchmarks import bench_settings, database_uri
from carecore.access.principal import Principal, Role
from carecore.agencies.models import Agency
from carecore.care_plans.models import (
    CarePlan,
    CarePlanStatus,
    Goal,
    PlanContent,
    RiskProtocol,
    SupportTask,
    TaskCategory,
    TaskSchedule,
)
from carecore.clock import SystemClock
from carecore.errors import Unauthenticated
from carecore.ids import new_id
from carecore.incidents.models import IncidentType
from carecore.people.models import (
    Allergy,
    CommunicationProfile,
    EmergencyContact,
    GuardianLink,
    GuardianPermission,
    HomeLocation,
    Person,
    PersonProfile,
    Protocol,
    SupportLevel,
    SupportWindow,
)
from carecore.ports import Ports
from carecore.storage.database import Document, connect, ensure_indexes
from carecore.storage.store import Store
from carecore.storage.users import user_to_doc
from carecore.users.models import User
from carecore.users.service import authenticate_token
from schema.context import Context

T = TypeVar("T")

SIZES = (100, 1_000)
TIMED_SIZE = 1_000
PAGE_SIZE = 100
WARMUP = 10  # the dev database is a JVM: its JIT needs a few rounds too
ITERATIONS = 30
GOAL_RATIO = 1.3
SEED_CONCURRENCY = 64

TOKEN = "benchmark-coordinator-token"
COORDINATOR_UID = "benchmark-coordinator"
AUTHORIZATION = {"Authorization": f"Bearer {TOKEN}"}

DOCUMENT = """
query PeopleList($first: Int!, $after: String) {
  people(first: $first, after: $after) {
    edges {
      node {
        id
        name
        activeCarePlan { id version tasks { title } }
        guardians { relationship user { displayName } }
        careTeam { displayName }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""


class BenchmarkError(RuntimeError):
    """The benchmark's own checks failed: the figures would mean nothing."""


# --- counting what the client sends ------------------------------------------------------------------


# MongoDB answers a find with at most 101 documents and sends the rest on getMore; the dev database
# sends everything at once, so a larger first batch marks a round-trip that production would add.
MONGODB_FIRST_BATCH = 101


class CommandLog(monitoring.CommandListener):
    """Every command a client starts, as (command, collection), and finds answered beyond 101 documents."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, str]] = []
        self.large_first_batches: list[tuple[str, int]] = []
        self._collections: dict[int, str] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        target = event.command.get("collection" if name == "getMore" else name)
        collection = target if isinstance(target, str) else ""
        self.commands.append((name, collection))
        # A find that names its batch size gets that many on MongoDB too; only the default stops at 101.
        self._collections[event.request_id] = "" if "batchSize" in event.command else collection

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        collection = self._collections.pop(event.request_id, "")
        if event.command_name == "find" and collection:
            size = len(event.reply.get("cursor", {}).get("firstBatch", []))
            if size > MONGODB_FIRST_BATCH:
                self.large_first_batches.append((collection, size))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._collections.pop(event.request_id, None)


class ConnectionLog(monitoring.ConnectionPoolListener):
    """Counts new connections: each costs handshake round-trips that no command event shows."""

    def __init__(self) -> None:
        self.created = 0

    def connection_created(self, event: monitoring.ConnectionCreatedEvent) -> None:
        self.created += 1

    def pool_created(self, event: monitoring.PoolCreatedEvent) -> None:
        pass

    def pool_ready(self, event: monitoring.PoolReadyEvent) -> None:
        pass

    def pool_cleared(self, event: monitoring.PoolClearedEvent) -> None:
        pass

    def pool_closed(self, event: monitoring.PoolClosedEvent) -> None:
        pass

    def connection_ready(self, event: monitoring.ConnectionReadyEvent) -> None:
        pass

    def connection_closed(self, event: monitoring.ConnectionClosedEvent) -> None:
        pass

    def connection_check_out_started(self, event: monitoring.ConnectionCheckOutStartedEvent) -> None:
        pass

    def connection_check_out_failed(self, event: monitoring.ConnectionCheckOutFailedEvent) -> None:
        pass

    def connection_checked_out(self, event: monitoring.ConnectionCheckedOutEvent) -> None:
        pass

    def connection_checked_in(self, event: monitoring.ConnectionCheckedInEvent) -> None:
        pass


@dataclasses.dataclass(frozen=True, slots=True)
class Traffic:
    """What one request sent to the database."""

    commands: tuple[tuple[str, str], ...]
    connections: int
    large_first_batches: tuple[tuple[str, int], ...]  # (collection, documents) of finds over 101

    @property
    def count(self) -> int:
        return len(self.commands)

    def breakdown(self) -> str:
        counts = Counter(f"{collection}.{name}" for name, collection in self.commands)
        return ", ".join(f"{key} {n}" if n > 1 else key for key, n in counts.items())


class Monitor:
    """The listeners of the dedicated client; `take()` returns and forgets what was seen since."""

    def __init__(self) -> None:
        self.command_log = CommandLog()
        self.connection_log = ConnectionLog()

    def client(self, uri: str) -> AsyncMongoClient[Document]:
        return AsyncMongoClient(uri, event_listeners=[self.command_log, self.connection_log], tz_aware=True)

    def take(self) -> Traffic:
        log = self.command_log
        traffic = Traffic(tuple(log.commands), self.connection_log.created, tuple(log.large_first_batches))
        log.commands = []
        log.large_first_batches = []
        self.connection_log.created = 0
        return traffic


# --- data --------------------------------------------------------------------------------------------

SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN_NAMES = ("민지", "지호", "서연", "도윤", "하은", "준서", "수아", "예준", "지우", "시우", "하린", "주원")
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)


@dataclasses.dataclass(frozen=True, slots=True)
class Seeded:
    """What the requests need to know about the seeded agency."""

    coordinator: User
    users: int


class StandInTokens:
    """Accepts one fixed token as the seeded coordinator, at no cost: verifying real ID tokens needs Firebase."""

    def __init__(self, agency_id: str) -> None:
        self._claims: dict[str, object] = {"role": Role.COORDINATOR.value, "agency": agency_id}

    async def verify(self, token: str) -> tuple[str, dict[str, object]]:
        if token != TOKEN:
            raise Unauthenticated("Invalid or expired ID token.")
        return COORDINATOR_UID, dict(self._claims)


def make_user(agency_id: str, role: Role, name: str, now: datetime, *, uid: str | None = None) -> User:
    user_id = new_id()
    return User(
        id=user_id,
        agency_id=agency_id,
        firebase_uid=uid or f"uid-{user_id}",
        role=role,
        display_name=name,
        locale="ko",
        email=None,
        phone=None,
        active=True,
        revision=1,
        created_at=now,
        updated_at=now,
    )


def make_person(
    agency_id: str, name: str, guardians: Sequence[User], care_team: Sequence[User], now: datetime
) -> Person:
    """A person with a profile of realistic size, so decoding costs what it would."""
    profile = PersonProfile(
        name=name,
        date_of_birth=date(1995, 3, 14),
        communication=CommunicationProfile(verbal=False, aac="그림 카드", distress_signs="손등을 깨문다"),
        support_level=SupportLevel.INTENSIVE,
        support_hours=(SupportWindow(EVERY_DAY, clock_time(0), clock_time(0)),),
        allergies=(Allergy("땅콩", "두드러기", severe=True),),
        protocols=(Protocol(IncidentType.SEIZURE, "5분 넘게 계속되면 119", 5),),
        emergency_contacts=(EmergencyContact("보호자", "어머니", "010-0000-0000"),),
        home=HomeLocation("경기도 수원시 팔달구", 37.2636, 127.0286),
    )
    relationships = ("어머니", "아버지")
    return Person(
        id=new_id(),
        agency_id=agency_id,
        profile=profile,
        guardians=tuple(
            GuardianLink(g.id, relationships[i % 2], frozenset(GuardianPermission)) for i, g in enumerate(guardians)
        ),
        care_team=tuple(c.id for c in care_team),
        active_care_plan_id=None,
        revision=1,
        created_at=now,
        updated_at=now,
    )


def plan_content(now: datetime) -> PlanContent:
    def task(category: TaskCategory, title: str, schedule: TaskSchedule, critical: bool = False) -> SupportTask:
        return SupportTask(new_id(), category, title, "지원 방법은 계획서를 따른다", schedule, critical)

    return PlanContent(
        summary="일상생활 전반 지원, 발작 관찰",
        goals=(
            Goal(new_id(), "스스로 식사하기", "주 5회 이상", now.date() + timedelta(days=180)),
            Goal(new_id(), "그림 카드로 요구 표현하기", "하루 3회 이상"),
        ),
        tasks=(
            task(TaskCategory.MEDICATION, "항경련제 복용", TaskSchedule((clock_time(8), clock_time(20))), True),
            task(TaskCategory.MEAL, "식사 지원", TaskSchedule((clock_time(8), clock_time(12), clock_time(18)))),
            task(TaskCategory.MONITORING, "자세 변경", TaskSchedule(every_hours=2)),
        ),
        risk_protocols=(RiskProtocol(IncidentType.SEIZURE, "시간을 재고 5분이 넘으면 119"),),
        review_date=now.date() + timedelta(days=90),
    )


async def in_chunks(items: Sequence[T], action: Callable[[T], Awaitable[object]]) -> None:
    for start in range(0, len(items), SEED_CONCURRENCY):
        await asyncio.gather(*(action(item) for item in items[start : start + SEED_CONCURRENCY]))


async def seed(store: Store, n: int) -> Seeded:
    """N people through the store: users in bulk (its own codec), people and plans by its insert methods."""
    now = SystemClock().now()
    rng = random.Random(n)
    agency = Agency(id=new_id(), name="벤치마크 돌봄 센터", region="경기도")
    await store.agencies.upsert(agency)
    coordinator = make_user(agency.id, Role.COORDINATOR, "김지현", now, uid=COORDINATOR_UID)
    caregivers = [make_user(agency.id, Role.CAREGIVER, f"요양보호사 {i:03d}", now) for i in range(max(2, n // 5))]
    families: list[User] = []
    people: list[Person] = []
    for i in range(n):
        guardians = [make_user(agency.id, Role.FAMILY, f"보호자 {i:04d}-{g}", now) for g in range(1 + i % 2)]
        team = rng.sample(caregivers, 2)
        name = f"{rng.choice(SURNAMES)}{rng.choice(GIVEN_NAMES)} {i:04d}"
        families.extend(guardians)
        people.append(make_person(agency.id, name, guardians, team, now))
    users = [coordinator, *caregivers, *families]
    await store.db["users"].insert_many([user_to_doc(u) for u in users])
    await in_chunks(people, store.people.insert)

    async def activate(person: Person) -> None:
        plan = CarePlan(
            id=new_id(),
            agency_id=agency.id,
            person_id=person.id,
            version=await store.people.next_plan_version(person.id),
            status=CarePlanStatus.ACTIVE,
            based_on_id=None,
            content=plan_content(now),
            revision=1,
            created_by=coordinator.id,
            created_at=now,
            updated_at=now,
            approved_by=coordinator.id,
            approved_at=now,
        )
        await store.care_plans.insert(plan)
        if not await store.people.swap_active_plan(person.id, expected=None, new=plan.id):
            raise BenchmarkError(f"could not activate the plan of {person.id}")

    await in_chunks(people, activate)
    return Seeded(coordinator=coordinator, users=len(users))


# --- the app and the two ways to run the document ----------------------------------------------------


def graphql_endpoint(app: Starlette) -> CareGraphQL:
    # HTTP reaches it through the GraphQL door (app.graphql_http); the WebSocket route holds it as is.
    for route in app.routes:
        if isinstance(route, WebSocketRoute) and route.path == "/graphql" and isinstance(route.endpoint, CareGraphQL):
            return route.endpoint
    raise BenchmarkError("build_app has no CareGraphQL route at /graphql")


@dataclasses.dataclass(frozen=True, slots=True)
class Direct:
    """The document on the app's own schema, without HTTP; the context is built as get_context does."""

    endpoint: CareGraphQL
    ports: Ports

    async def execute(self, principal: Principal, after: str | None = None) -> dict[str, Any]:
        result = await self.endpoint.schema.execute(
            DOCUMENT,
            variable_values=variables(after),
            context_value=Context(ports=self.ports, principal_or_none=principal),
        )
        return {"data": result.data, "errors": result.errors}


@contextlib.asynccontextmanager
async def serve(
    settings: Settings, store: Store, tokens: StandInTokens
) -> AsyncIterator[tuple[httpx.AsyncClient, Direct]]:
    """The real app with its lifespan: an HTTP client for it, and direct execution on its schema and ports."""
    app = build_app(settings)
    endpoint = graphql_endpoint(app)
    async with app.router.lifespan_context(app):
        started = endpoint.runtime.ports
        if started is None:
            raise BenchmarkError("the lifespan did not set the ports")
        ports = dataclasses.replace(started, store=store, tokens=tokens)
        endpoint.runtime.ports = ports
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            yield http, Direct(endpoint, ports)


def variables(after: str | None = None) -> dict[str, Any]:
    return {"first": PAGE_SIZE, "after": after}


async def over_http(http: httpx.AsyncClient, after: str | None = None) -> httpx.Response:
    return await http.post("/graphql", json={"query": DOCUMENT, "variables": variables(after)}, headers=AUTHORIZATION)


def page_from_response(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise BenchmarkError(f"HTTP {response.status_code}: {response.text[:500]}")
    body: dict[str, Any] = response.json()
    return page_from(body.get("data"), body.get("errors"))


def page_from(data: dict[str, Any] | None, errors: object) -> dict[str, Any]:
    """The `people` connection, after checking that everything asked for was resolved."""
    if errors or data is None:
        raise BenchmarkError(f"the query failed: {errors}")
    page: dict[str, Any] = data["people"]
    for edge in page["edges"]:
        node = edge["node"]
        plan = node["activeCarePlan"]
        if plan is None or len(plan["tasks"]) != 3:
            raise BenchmarkError(f"{node['id']}: active plan missing or incomplete")
        if not 1 <= len(node["guardians"]) <= 2 or any(g["user"] is None for g in node["guardians"]):
            raise BenchmarkError(f"{node['id']}: guardians not resolved")
        if len(node["careTeam"]) != 2:
            raise BenchmarkError(f"{node['id']}: care team not resolved")
    return page


# --- benchmark 1: round-trips ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class RoundTrips:
    n: int
    users: int
    seed_seconds: float
    pages: list[Traffic]  # every page over HTTP, first: 100, cold client on the first
    direct: Traffic  # the first page by schema.execute: no authentication


async def paginate(http: httpx.AsyncClient, monitor: Monitor, n: int) -> list[Traffic]:
    pages: list[Traffic] = []
    seen = 0
    after: str | None = None
    for _ in range(n // PAGE_SIZE + 2):  # bounded: a loop past the last page is a bug we report
        monitor.take()
        response = await over_http(http, after)
        pages.append(monitor.take())
        page = page_from_response(response)
        seen += len(page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    else:
        raise BenchmarkError(f"N={n}: pagination did not end after {len(pages)} pages")
    if seen != n:
        raise BenchmarkError(f"N={n}: paginated through {seen} people")
    return pages


# --- benchmark 2: HTTP against direct execution ------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Timing:
    label: str
    seconds: list[float]
    commands: set[int]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def decile(self, k: int) -> float:
        return statistics.quantiles(self.seconds, n=10)[k - 1]

    def paired_ratio(self, other: Timing) -> float:
        """Median of the ratios within each round: steadier than a ratio of medians when the server drifts."""
        return statistics.median(a / b for a, b in zip(self.seconds, other.seconds, strict=True))


Run = Callable[[], Awaitable[Callable[[], dict[str, Any]]]]


async def compare(http: httpx.AsyncClient, direct: Direct, monitor: Monitor, coordinator: Principal) -> list[Timing]:
    """Each path returns a check to run outside the timed part (parsing the HTTP body is the client's work)."""

    async def full_http() -> Callable[[], dict[str, Any]]:
        response = await over_http(http)
        return lambda: page_from_response(response)

    async def execute() -> Callable[[], dict[str, Any]]:
        body = await direct.execute(coordinator)
        return lambda: page_from(body["data"], body["errors"])

    async def authenticate_and_execute() -> Callable[[], dict[str, Any]]:
        principal = await authenticate_token(direct.ports, TOKEN)
        body = await direct.execute(principal)
        return lambda: page_from(body["data"], body["errors"])

    paths: dict[str, Run] = {
        "(a) HTTP: httpx -> ASGI -> Starlette -> Strawberry": full_http,
        "(b) schema.execute": execute,
        "(b') authenticate_token + schema.execute": authenticate_and_execute,
    }
    names = list(paths)
    for _ in range(WARMUP):
        for name in names:
            (await paths[name]())()
    seconds: dict[str, list[float]] = {name: [] for name in names}
    commands: dict[str, set[int]] = {name: set() for name in names}
    for i in range(ITERATIONS):
        rotation = i % len(names)  # interleaved, each path first in turn
        for name in names[rotation:] + names[:rotation]:
            gc.collect()
            monitor.take()
            started = time.perf_counter()
            check = await paths[name]()
            elapsed = time.perf_counter() - started
            commands[name].add(monitor.take().count)
            if len(check()["edges"]) != PAGE_SIZE:
                raise BenchmarkError(f"{name}: not a full page")
            seconds[name].append(elapsed)
    return [Timing(name, seconds[name], commands[name]) for name in names]


# --- running and reporting ---------------------------------------------------------------------------


@dataclasses.dataclass
class Results:
    round_trips: list[RoundTrips] = dataclasses.field(default_factory=list)
    timings: list[Timing] = dataclasses.field(default_factory=list)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def measure(uri: str, n: int, results: Results) -> None:
    database = f"bench_people_{n}_{uuid.uuid4().hex[:8]}"
    monitor = Monitor()
    settings = bench_settings(uri, database)
    async with contextlib.AsyncExitStack() as stack:
        seeding = connect(uri)
        stack.push_async_callback(seeding.close)
        stack.push_async_callback(seeding.drop_database, database)
        counted = monitor.client(uri)
        stack.push_async_callback(counted.close)

        await ensure_indexes(seeding[database])
        progress(f"people_list: seeding N={n} ...")
        started = time.perf_counter()
        seeded = await seed(Store(seeding[database]), n)
        seed_seconds = time.perf_counter() - started
        coordinator = seeded.coordinator

        tokens = StandInTokens(coordinator.agency_id)
        http, direct = await stack.enter_async_context(serve(settings, Store(counted[database]), tokens))
        pages = await paginate(http, monitor, n)
        monitor.take()
        body = await direct.execute(coordinator.principal())
        direct_traffic = monitor.take()
        page_from(body["data"], body["errors"])
        results.round_trips.append(RoundTrips(n, seeded.users, seed_seconds, pages, direct_traffic))

        if n == TIMED_SIZE:
            progress(f"people_list: timing N={n}: {WARMUP} warm-ups, then {ITERATIONS} interleaved iterations ...")
            results.timings = await compare(http, direct, monitor, coordinator.principal())


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f}ms"


def report(results: Results) -> bool:
    """Prints the tables; False when a round-trip invariant does not hold (the timing goal only reports)."""
    print(f"\npeople list as a coordinator, first: {PAGE_SIZE}: database commands per request")
    header = f"{'N':>5} {'users':>6} {'seeded':>7} {'HTTP':>5} {'direct':>7} {'new conns':>10}"
    print(f"  {header}  HTTP page 1, by collection")
    for r in results.round_trips:
        first = r.pages[0]
        seeded = f"{r.seed_seconds:>6.1f}s"
        row = f"{r.n:>5} {r.users:>6} {seeded} {first.count:>5} {r.direct.count:>7} {first.connections:>10}"
        print(f"  {row}  {first.breakdown()}")
    for r in results.round_trips:
        per_page = " ".join(str(p.count) for p in r.pages)
        later = sum(p.connections for p in r.pages[1:])
        print(
            f"  N={r.n}: {len(r.pages)} pages over HTTP, commands per page: {per_page} (new conns after 1st: {later})"
        )
    counts = sorted({p.count for r in results.round_trips for p in r.pages})
    auth = sorted({r.pages[0].count - r.direct.count for r in results.round_trips})
    print(f"  same count for every N and every page: {'yes' if len(counts) == 1 else f'NO: {counts}'}")
    print(f"  HTTP minus direct (the users lookup of authentication): {', '.join(map(str, auth))}")
    for r in results.round_trips:
        sizes: dict[str, list[int]] = {}
        for page in r.pages:
            for collection, size in page.large_first_batches:
                sizes.setdefault(collection, []).append(size)
        for collection, found in sizes.items():
            print(
                f"  N={r.n}: {collection}.find answered {min(found)}-{max(found)} documents in one batch on "
                f"{len(found)} of {len(r.pages)} pages; MongoDB 7/8 stops at {MONGODB_FIRST_BATCH}: +1 getMore each"
            )
    ok = len(counts) == 1 and auth == [1]

    if results.timings:
        print(
            f"\nHTTP stack against direct execution, N={TIMED_SIZE}, first: {PAGE_SIZE} "
            f"({WARMUP} warm-ups, {ITERATIONS} interleaved iterations)"
        )
        width = max(len(t.label) for t in results.timings)
        print(f"  {'path':<{width}}  {'median':>8} {'p10':>8} {'p90':>8}  commands")
        for t in results.timings:
            figures = f"{ms(t.median):>8} {ms(t.decile(1)):>8} {ms(t.decile(9)):>8}"
            print(f"  {t.label:<{width}}  {figures}  {'/'.join(map(str, sorted(t.commands)))}")
        a, b, b_auth = results.timings
        verdict = "met" if a.median / b.median <= GOAL_RATIO else "NOT met"
        print(
            f"  (a)/(b)  = {a.median / b.median:.3f}  (goal <= {GOAL_RATIO}: {verdict}; "
            f"paired per round {a.paired_ratio(b):.3f}; a - b = {ms(a.median - b.median)})"
        )
        print(
            f"  (a)/(b') = {a.median / b_auth.median:.3f}  (paired {a.paired_ratio(b_auth):.3f}; "
            "HTTP, ASGI and JSON alone, with authentication on both sides)"
        )
        print("  token check: a free stand-in here; production adds firebase-admin's verify_id_token in a thread")
    return ok


async def run(uri: str) -> bool:
    results = Results()
    for n in SIZES:
        await measure(uri, n, results)
    return report(results)


def main() -> int:
    with database_uri() as uri:
        return 0 if asyncio.run(run(uri)) else 1


if __name__ == "__main__":
    sys.exit(main())
