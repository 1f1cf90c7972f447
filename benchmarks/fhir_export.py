"""FHIR bulk export: resources per second against a bare cursor read of the same documents, and the
export's resident memory as the agency grows tenfold (it must stream, not build lists).

An agency of N people, each with 90 days of vitals (blood pressure and heart rate, mornings and evenings:
360 readings a person), is seeded straight into a throw-away database. Then, for each N:
1. the bare read: every accepted reading's document through one cursor, undecoded;
2. the export: `Group/{agency}/$export` for a coordinator, queued with the core's `start_export` and run
   by the `fhir-exports` job as an instance runs it (decode, map to FHIR, serialise, write to GridFS);
   resources per second are all resources of all files over the job's time;
3. memory: the process's resident set sampled every 10 ms during the export, the peak above the level
   before it started (freed heap handed back to the OS first, so seeding's garbage cannot hide it).
The check: the peak at 10N stays within twice the peak at N plus 16 MiB (a list of 10N resources would
not). The ratio is printed, not checked: the dev database's speed is not production's.

    python -m benchmarks.fhir_export            # N = 10 and 100 (small: 3,600 and 36,000 readings)
    python -m benchmarks.fhir_export 100 1000   # the issue's size: 360,000 readings at N = 1,000
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from benchmarks import database_uri
from carecore.access.principal import Role
from carecore.agencies.models import Agency
from carecore.clock import SystemClock
from carecore.fhir.export import run_exports, start_export
from carecore.fhir.resources import EXPORT_TYPES
from carecore.health.models import Component, Metric, Modality, Observation, ObservationStatus, Reading
from carecore.ids import new_id
from carecore.people.models import Person, PersonProfile
from carecore.ports import Ports
from carecore.storage.database import connect, ensure_indexes
from carecore.storage.observations import observation_to_doc
from carecore.storage.store import Store
from carecore.storage.users import user_to_doc
from carecore.users.models import User
from carecore.users.service import principal_for
from tests.support import RecordingClaims, RefusingTokens

DAYS = 90
SIZES = (10, 100)
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Measured:
    people: int
    readings: int
    bare_per_s: float
    resources: int
    export_per_s: float
    peak_rss_mib: float


def release_freed_memory() -> None:
    """Hands freed heap back to the OS, so seeding's garbage does not hide what the export takes."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


@contextlib.asynccontextmanager
async def rss_peak() -> AsyncIterator[list[float]]:
    """Samples the resident set every 10 ms; yields [peak above the starting level] once done."""
    start, peak = rss_mib(), [0.0]
    running = True

    async def sample() -> None:
        while running:
            peak[0] = max(peak[0], rss_mib() - start)
            await asyncio.sleep(0.01)

    task = asyncio.create_task(sample())
    try:
        yield peak
    finally:
        running = False
        await task


async def seed(store: Store, people: int, now: datetime) -> tuple[Agency, User]:
    agency = Agency(id=new_id(), name="벤치마크 기관")
    await store.agencies.upsert(agency)
    coordinator = User(new_id(), agency.id, f"bench-{uuid.uuid4().hex[:8]}", Role.COORDINATOR, "김지현", "ko",
                       None, None, True, 1, now, now)  # fmt: skip
    await store.db["users"].insert_one(user_to_doc(coordinator))
    batch = []
    for p in range(people):
        person = Person(new_id(), agency.id, PersonProfile(name=f"이용자 {p}"), (), (), None, 1, now, now)
        await store.people.insert(person)
        for day in range(DAYS):
            for hour in (8, 20):
                at = now - timedelta(days=day, hours=hour)
                bp = (Component("8480-6", 110 + (day + p) % 30), Component("8462-4", 70 + day % 15))
                hr = (Component("8867-4", 60 + (day * 7 + p) % 30),)
                for metric, values, unit in ((Metric.BLOOD_PRESSURE, bp, "mm[Hg]"), (Metric.HEART_RATE, hr, "/min")):
                    reading = Reading(person.id, metric, values, unit, at, Modality.SENSED, "cuff", None)
                    o = Observation(new_id(), agency.id, reading, ObservationStatus.ACCEPTED, at, "gateway", None, True)
                    batch.append(observation_to_doc(o))
                    if len(batch) == 2000:
                        await store.db["observations"].insert_many(batch)
                        batch = []
    if batch:
        await store.db["observations"].insert_many(batch)
    return agency, coordinator


async def measure(uri: str, people: int) -> Measured:
    client = connect(uri)
    name = f"bench_fhir_{uuid.uuid4().hex[:8]}"
    try:
        db = client[name]
        await ensure_indexes(db)
        store = Store(db)
        ports = Ports(store=store, clock=SystemClock(), claims=RecordingClaims(), tokens=RefusingTokens())
        agency, coordinator = await seed(store, people, datetime.now(UTC))

        started = time.perf_counter()
        readings = 0
        async for _ in store.export_reads.raw_observations(agency.id):
            readings += 1
        bare = readings / (time.perf_counter() - started)

        actor = await principal_for(ports, coordinator)
        job = await start_export(ports, actor, agency.id, types=EXPORT_TYPES, since=None, request_url="bench")
        release_freed_memory()
        async with rss_peak() as peak:
            started = time.perf_counter()
            await run_exports(ports, "bench")
            elapsed = time.perf_counter() - started
        done = await store.fhir_exports.get(job.id)
        assert done is not None and {f.type for f in done.files} == set(EXPORT_TYPES)
        resources = sum(f.count for f in done.files)
        return Measured(people, readings, bare, resources, resources / elapsed, peak[0])
    finally:
        await client.drop_database(name)
        await client.close()


async def run(uri: str, sizes: tuple[int, ...] = SIZES) -> bool:
    results = [await measure(uri, n) for n in sizes]
    print("fhir_export: people  readings  bare reads/s  export resources  resources/s  ratio  peak RSS MiB")
    for m in results:
        ratio = m.export_per_s / m.bare_per_s
        print(
            f"fhir_export: {m.people:6d}  {m.readings:8d}  {m.bare_per_s:12.0f}  {m.resources:16d}"
            f"  {m.export_per_s:11.0f}  {ratio:5.2f}  {m.peak_rss_mib:12.1f}"
        )
    small, large = results[0], results[-1]
    flat = large.peak_rss_mib <= 2 * small.peak_rss_mib + 16
    print(f"fhir_export: memory flat as the agency grows x{large.people // small.people}: {'ok' if flat else 'FAILED'}")
    return flat


def main() -> int:
    sizes = tuple(int(a) for a in sys.argv[1:]) or SIZES
    with database_uri() as uri:
        return 0 if asyncio.run(run(uri, sizes)) else 1


if __name__ == "__main__":
    sys.exit(main())
