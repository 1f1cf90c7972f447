"""Coverage gaps over 14 days and the coordinator's shifts view: round-trips, and the cost of the database.

1. Round-trips. One agency of N people (N = 100 and 1,000) with support hours of three kinds (round the
   clock, weekday office hours, mornings and evenings), N / 5 caregivers, and 14 days of shifts (two a
   day per person, one in fifty open). A coordinator asks, over HTTP through the real app, for
   `coverageGaps` (14 days, first: 100, with each gap's person and shift) and for `shifts` (14 days,
   first: 100, with each shift's person and caregiver). A PyMongo CommandListener on a dedicated client
   counts the commands; batch reads and DataLoaders should make the count the same for every N. (A
   page of gaps that shows no shift at all saves the read of the shifts it shows; the period starts
   with open shifts so that both pages show some.)
2. Time. At N = 1,000: the core's `coverage_gaps` (two reads, the computation, one audit write) against
   the same computation (`carecore.shifts.coverage.coverage_gaps`) on the same data already in memory;
   warm-up, then medians of interleaved iterations, and their ratio.

The shifts are written in bulk with the store's own codec: reads do not depend on how they were
placed, and 28,000 placements through the service would only slow the seeding down.

    python -m benchmarks.shifts
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
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from benchmarks import bench_settings, database_uri
from benchmarks.people_list import (
    AUTHORIZATION,
    COORDINATOR_UID,
    MONGODB_FIRST_BATCH,
    BenchmarkError,
    Monitor,
    StandInTokens,
    Traffic,
    in_chunks,
    make_user,
    ms,
    progress,
    serve,
)
from carecore.access.principal import Principal, Role
from carecore.agencies.models import Agency
from carecore.clock import SystemClock
from carecore.ids import new_id
from carecore.pagination import PageRequest
from carecore.people.models import Person, PersonProfile, SupportWindow
from carecore.ports import Ports
from carecore.shifts.coverage import coverage_gaps as compute_gaps
from carecore.shifts.models import HistoryAction, HistoryEntry, Shift, ShiftStatus
from carecore.shifts.queries import coverage_gaps
from carecore.storage.database import Document, connect, ensure_indexes
from carecore.storage.shift_codec import shift_to_doc
from carecore.storage.store import Store
from carecore.storage.users import user_to_doc

SIZES = (100, 1_000)
TIMED_SIZE = 1_000
DAYS = 14
PAGE_SIZE = 100
WARMUP = 5
ITERATIONS = 20
CHUNK = 1_000
SEOUL = ZoneInfo("Asia/Seoul")
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)
SUPPORT_HOURS = (
    (SupportWindow(EVERY_DAY, clock_time(0), clock_time(0)),),
    (SupportWindow((0, 1, 2, 3, 4), clock_time(9), clock_time(18)),),
    (SupportWindow(EVERY_DAY, clock_time(7), clock_time(10)), SupportWindow(EVERY_DAY, clock_time(18), clock_time(22))),
)
SHIFT_TIMES = ((clock_time(8), 6), (clock_time(16), 6))  # local start, hours
OPEN_EVERY = 50

COVERAGE = """
query Coverage($from: DateTime!, $to: DateTime!, $first: Int!) {
  coverageGaps(from: $from, to: $to, first: $first) {
    edges { node { kind start end person { name } shift { id status } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
SHIFTS = """
query Shifts($filter: ShiftFilterInput!, $first: Int!) {
  shifts(filter: $filter, first: $first) {
    edges { node { id start end status person { name } caregiver { displayName } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@dataclasses.dataclass(frozen=True, slots=True)
class Seeded:
    coordinator: Principal
    people: int
    shifts: int
    start: datetime  # tomorrow 08:00 in Seoul: the 14 days measured


def make_person(agency_id: str, i: int, now: datetime) -> Person:
    return Person(
        id=new_id(),
        agency_id=agency_id,
        profile=PersonProfile(name=f"이용자 {i:04d}", support_hours=SUPPORT_HOURS[i % len(SUPPORT_HOURS)]),
        guardians=(),
        care_team=(),
        active_care_plan_id=None,
        revision=1,
        created_at=now,
        updated_at=now,
    )


def shift_doc(agency_id: str, person_id: str, caregiver: str | None, start: datetime, hours: int, by: str) -> Document:
    now = SystemClock().now()
    shift = Shift(
        id=new_id(),
        agency_id=agency_id,
        person_id=person_id,
        caregiver_id=caregiver,
        status=ShiftStatus.SCHEDULED if caregiver else ShiftStatus.OPEN,
        start=start,
        end=start + timedelta(hours=hours),
        required_qualifications=(),
        notes="",
        revision=2,
        created_by=by,
        created_at=now,
        updated_at=now,
        history=(HistoryEntry(HistoryAction.CREATED, now, by), HistoryEntry(HistoryAction.ASSIGNED, now, by)),
        booking_token=new_id() if caregiver else None,
    )
    return shift_to_doc(shift)


async def seed(store: Store, n: int) -> Seeded:
    now = SystemClock().now()
    rng = random.Random(n)  # who works which shift; which are open is fixed, see OPEN_EVERY
    agency = Agency(id=new_id(), name="벤치마크 돌봄 센터", region="경기도")
    await store.agencies.upsert(agency)
    coordinator = make_user(agency.id, Role.COORDINATOR, "김지현", now, uid=COORDINATOR_UID)
    caregivers = [make_user(agency.id, Role.CAREGIVER, f"요양보호사 {i:03d}", now) for i in range(max(2, n // 5))]
    await store.db["users"].insert_many([user_to_doc(u) for u in [coordinator, *caregivers]])
    people = [make_person(agency.id, i, now) for i in range(n)]
    await in_chunks(people, store.people.insert)
    first_day = now.astimezone(SEOUL).date() + timedelta(days=1)
    shifts: list[Document] = []
    for day in range(DAYS):
        for i, p in enumerate(people):
            for slot, (at, hours) in enumerate(SHIFT_TIMES):
                start = datetime.combine(first_day + timedelta(days=day), at, tzinfo=SEOUL)
                is_open = (i + 2 * day + slot) % OPEN_EVERY == 0
                caregiver = None if is_open else rng.choice(caregivers).id
                shifts.append(shift_doc(agency.id, p.id, caregiver, start, hours, coordinator.id))
    for i in range(0, len(shifts), CHUNK):
        await store.db["shifts"].insert_many(shifts[i : i + CHUNK])
    # From the first shifts on, so that the first page shows open shifts (N / 50 of them) for every N.
    start = datetime.combine(first_day, SHIFT_TIMES[0][0], tzinfo=SEOUL)
    return Seeded(coordinator.principal(), n, len(shifts), start)


def period(seeded: Seeded) -> dict[str, str]:
    return {"from": seeded.start.isoformat(), "to": (seeded.start + timedelta(days=DAYS)).isoformat()}


async def over_http(http: httpx.AsyncClient, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": document, "variables": variables}, headers=AUTHORIZATION)
    if response.status_code != 200:
        raise BenchmarkError(f"HTTP {response.status_code}: {response.text[:300]}")
    body: dict[str, Any] = response.json()
    data: dict[str, Any] | None = body.get("data")
    if body.get("errors") or not data:
        raise BenchmarkError(f"the query failed: {body.get('errors')}")
    return data


def check_page(data: dict[str, Any], root: str) -> None:
    edges = data[root]["edges"]
    if len(edges) != PAGE_SIZE:
        raise BenchmarkError(f"{root}: {len(edges)} items instead of a full page")
    if any(e["node"]["person"] is None for e in edges):
        raise BenchmarkError(f"{root}: a person was not resolved")


@dataclasses.dataclass(frozen=True, slots=True)
class RoundTrips:
    n: int
    shifts: int
    coverage: Traffic
    shifts_view: Traffic


@dataclasses.dataclass(frozen=True, slots=True)
class Timing:
    label: str
    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@dataclasses.dataclass
class Results:
    round_trips: list[RoundTrips] = dataclasses.field(default_factory=list)
    timings: list[Timing] = dataclasses.field(default_factory=list)
    gaps: int = 0


async def time_gaps(store: Store, seeded: Seeded, results: Results) -> None:
    """The core's coverage_gaps against the same computation on data already in memory."""
    start, end = seeded.start, seeded.start + timedelta(days=DAYS)
    ports = Ports(store=store, clock=SystemClock(), claims=_Unused(), tokens=_Unused())
    hours = await store.people.support_hours(seeded.coordinator.agency_id)
    shifts = await store.shifts.in_period(seeded.coordinator.agency_id, start, end)

    async def with_database() -> int:
        page = await coverage_gaps(ports, seeded.coordinator, start, end, PageRequest(first=PAGE_SIZE))
        return len(page.items)

    async def in_memory() -> int:
        gaps = compute_gaps(hours, shifts, start, end, SEOUL, SystemClock().now())
        results.gaps = len(gaps)
        return len(gaps[:PAGE_SIZE])

    paths = {
        "core coverage_gaps, first page (3 reads + compute + audit)": with_database,
        "computation on data in memory": in_memory,
    }
    counts = {name: await run() for name, run in paths.items()}
    if len(set(counts.values())) != 1:
        raise BenchmarkError(f"the two paths disagree: {counts}")
    for _ in range(WARMUP):
        for run in paths.values():
            await run()
    seconds: dict[str, list[float]] = {name: [] for name in paths}
    names = list(paths)
    for i in range(ITERATIONS):
        for name in names[i % 2 :] + names[: i % 2]:
            gc.collect()
            started = time.perf_counter()
            await paths[name]()
            seconds[name].append(time.perf_counter() - started)
    results.timings = [Timing(name, seconds[name]) for name in names]


class _Unused:
    async def set_claims(self, firebase_uid: str, claims: dict[str, str]) -> None:
        raise BenchmarkError("not used")

    async def verify(self, token: str) -> tuple[str, dict[str, object]]:
        raise BenchmarkError("not used")


async def measure(uri: str, n: int, results: Results) -> None:
    database = f"bench_shifts_{n}_{uuid.uuid4().hex[:8]}"
    monitor = Monitor()
    settings = bench_settings(uri, database)
    async with contextlib.AsyncExitStack() as stack:
        seeding = connect(uri)
        stack.push_async_callback(seeding.close)
        stack.push_async_callback(seeding.drop_database, database)
        counted = monitor.client(uri)
        stack.push_async_callback(counted.close)
        await ensure_indexes(seeding[database])
        progress(f"shifts: seeding N={n} ...")
        seeded = await seed(Store(seeding[database]), n)
        tokens = StandInTokens(seeded.coordinator.agency_id)
        http, _ = await stack.enter_async_context(serve(settings, Store(counted[database]), tokens))
        first = {"first": PAGE_SIZE}
        for document, variables in (
            (COVERAGE, {**period(seeded), **first}),
            (SHIFTS, {"filter": period(seeded), **first}),
        ):
            await over_http(http, document, variables)  # warm: the first request opens connections
        monitor.take()
        check_page(await over_http(http, COVERAGE, {**period(seeded), **first}), "coverageGaps")
        coverage_traffic = monitor.take()
        check_page(await over_http(http, SHIFTS, {"filter": period(seeded), **first}), "shifts")
        shifts_traffic = monitor.take()
        results.round_trips.append(RoundTrips(n, seeded.shifts, coverage_traffic, shifts_traffic))
        if n == TIMED_SIZE:
            progress(f"shifts: timing N={n}: {WARMUP} warm-ups, then {ITERATIONS} interleaved iterations ...")
            await time_gaps(Store(seeding[database]), seeded, results)


def _coverage(r: RoundTrips) -> Traffic:
    return r.coverage


def _shifts_view(r: RoundTrips) -> Traffic:
    return r.shifts_view


PICKS: tuple[tuple[str, Callable[[RoundTrips], Traffic]], ...] = (("coverageGaps", _coverage), ("shifts", _shifts_view))


def report(results: Results) -> bool:
    print(f"\ncoverage gaps and shifts view, {DAYS} days, first: {PAGE_SIZE}: database commands per HTTP request")
    for label, pick in PICKS:
        counts = []
        for r in results.round_trips:
            traffic: Traffic = pick(r)
            counts.append(traffic.count)
            print(f"  {label:<13} N={r.n:>5} ({r.shifts:>6} shifts): {traffic.count:>2}  {traffic.breakdown()}")
            for collection, size in traffic.large_first_batches:
                print(
                    f"    {collection}.find answered {size} documents in one batch; MongoDB 7/8 stops at "
                    f"{MONGODB_FIRST_BATCH} and sends the rest on getMore (about 16 MB each)"
                )
        print(f"  {label}: same count for every N: {'yes' if len(set(counts)) == 1 else f'NO: {counts}'}")
    same = all(len({pick(r).count for r in results.round_trips}) == 1 for _, pick in PICKS)
    if results.timings:
        db, memory = results.timings
        rounds = f"{WARMUP} warm-ups, {ITERATIONS} rounds"
        print(f"\ncoverage gaps, N={TIMED_SIZE}, {DAYS} days ({results.gaps} gaps; {rounds})")
        for t in results.timings:
            print(f"  {t.label:<60} median {ms(t.median):>10}")
        print(f"  with the database / in memory = {db.median / memory.median:.2f}")
    return same


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
