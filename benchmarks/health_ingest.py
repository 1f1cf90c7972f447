"""Vital-sign ingest: readings per second through the signed webhook against a bare `insert_many`.

One agency of 500 people, each with a reference for the device service. 100,000 blood pressure readings
(unremarkable values, two a day per person going back in time, each with its own sourceDataPointId) go
to POST /ingest/observations through the real app (`build_app`, lifespan) in signed batches of 1,000,
IN_FLIGHT batches at a time. Every reading is gated, stored, settled against same-moment copies,
evaluated against the person's 56 days of history and audited, as in production. The same documents
(as the service stores them) then go into another collection of the same database with bare
`insert_many` batches of 1,000: the ratio says what the pipeline costs over the database's raw write.

    python -m benchmarks.health_ingest            (BENCH_READINGS=10000 for a shorter run;
                                                   BENCH_BATCH_TIMEOUT_SECONDS=600 on a loaded machine)
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import random
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx

from app.server import build_app
from benchmarks import bench_settings, database_uri
from benchmarks.incidents import BenchmarkError
from benchmarks.people_list import make_user
from carecore.access.principal import Role
from carecore.agencies.models import Agency
from carecore.clock import SystemClock
from carecore.health.models import DIASTOLIC, SYSTOLIC, Component, Metric, Modality, Observation, ObservationStatus
from carecore.health.models import Reading as DomainReading
from carecore.health.service import observation_id
from carecore.ids import new_id
from carecore.incidents.ai_services import signed_headers
from carecore.incidents.models import AiService
from carecore.people.models import ExternalRef, Person, PersonProfile
from carecore.storage.database import connect, ensure_indexes
from carecore.storage.observations import observation_to_doc
from carecore.storage.store import Store

PEOPLE = 500
READINGS = int(os.environ.get("BENCH_READINGS", "100000"))
BATCH = 1000
IN_FLIGHT = 2
SECRET = "benchmark-device-secret-0123456789abcdef"
SERVICE = "bp-cuffs"
SEED = 20261202


async def seed(store: Store) -> AiService:
    now = SystemClock().now()
    agency = Agency(id=new_id(), name="벤치마크 건강돌봄", region="경기도")
    await store.agencies.upsert(agency)
    service_user = make_user(agency.id, Role.AI_SERVICE, "혈압계 연동", now)
    await store.users.insert(service_user)
    people = [
        Person(
            new_id(),
            agency.id,
            PersonProfile(name=f"이용자 {i:03d}", external_refs=(ExternalRef(SERVICE, f"BP-{i:04d}"),)),
            (),
            (),
            None,
            1,
            now,
            now,
        )
        for i in range(PEOPLE)
    ]
    for person in people:
        await store.people.insert(person)
    service = AiService(service_user.id, agency.id, SERVICE, SECRET, now)
    await store.ai_services.put(service)
    return service


def readings() -> list[dict[str, Any]]:
    """READINGS readings, person by person round-robin, each person's going forward twice a day."""
    rng = random.Random(SEED)
    start = SystemClock().now() - timedelta(hours=12 * (READINGS // PEOPLE + 1))
    out = []
    for i in range(READINGS):
        person, n = i % PEOPLE, i // PEOPLE
        systolic = round(rng.gauss(126, 7))
        out.append(
            {
                "personRef": f"BP-{person:04d}",
                "code": Metric.BLOOD_PRESSURE.value,
                "unit": "mm[Hg]",
                "effectiveAt": (start + timedelta(hours=12 * n, minutes=rng.uniform(0, 30))).isoformat(),
                "values": [{"code": SYSTOLIC, "value": systolic}, {"code": DIASTOLIC, "value": round(systolic * 0.62)}],
                "deviceId": f"cuff-{person:04d}",
                "sourceDataPointId": f"r-{i}",
                "modality": "SENSED",
            }
        )
    return out


async def send(http: httpx.AsyncClient, service: AiService, items: list[dict[str, Any]]) -> float:
    """Every batch, IN_FLIGHT at a time; the seconds it all took."""
    batches = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
    queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
    for b in batches:
        queue.put_nowait(b)

    async def sender() -> None:
        while not queue.empty():
            batch = queue.get_nowait()
            body = json.dumps({"readings": batch}).encode()
            headers = signed_headers(service.user_id, SECRET, body, at=int(time.time()))
            response = await http.post("/ingest/observations", content=body, headers=headers)
            if response.status_code != 202:
                raise BenchmarkError(f"batch: {response.status_code} {response.text[:300]}")
            outcomes = {r["outcome"] for r in response.json()["results"]}
            if outcomes != {"RECORDED"}:
                raise BenchmarkError(f"batch outcomes {outcomes}: {response.text[:300]}")
            done = READINGS - queue.qsize() * BATCH
            print(f"\r  webhook: about {done} readings sent", end="", file=sys.stderr, flush=True)

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(IN_FLIGHT)))
    print(file=sys.stderr)
    return time.perf_counter() - started


async def bare_insert(store: Store, service: AiService, items: list[dict[str, Any]]) -> float:
    """The same documents as the service stores them, with bare insert_many batches of BATCH."""
    people = {
        ref.reference: p.id
        for p in [
            await store.people.by_external_ref(service.agency_id, ExternalRef(SERVICE, f"BP-{i:04d}"))
            for i in range(PEOPLE)
        ]
        if p is not None
        for ref in p.profile.external_refs
    }
    now = SystemClock().now()
    docs = []
    for item in items:
        reading = DomainReading(
            person_id=people[item["personRef"]],
            metric=Metric.BLOOD_PRESSURE,
            components=tuple(Component(v["code"], float(v["value"])) for v in item["values"]),
            unit=item["unit"],
            effective_at=datetime.fromisoformat(item["effectiveAt"]),
            modality=Modality.SENSED,
            device_id=item["deviceId"],
            source_data_point_id=item["sourceDataPointId"],
        )
        oid = observation_id(service.agency_id, item["deviceId"], reading)
        doc = observation_to_doc(
            Observation(
                oid, service.agency_id, reading, ObservationStatus.ACCEPTED, now, service.user_id, evaluated=True
            )
        )
        docs.append({**doc, "evaluate_due_at": None})
    collection = store.db["observations_bare"]
    started = time.perf_counter()
    for i in range(0, len(docs), BATCH):
        await collection.insert_many(docs[i : i + BATCH], ordered=False)
    return time.perf_counter() - started


@contextlib.asynccontextmanager
async def running_app(uri: str, database: str) -> AsyncIterator[httpx.AsyncClient]:
    """The real app with its lifespan; background workers off: the request evaluates each reading itself."""
    # A loaded machine may take longer than production's batch budget for one batch of 1,000.
    budget = float(os.environ.get("BENCH_BATCH_TIMEOUT_SECONDS", "60"))
    app = build_app(dataclasses.replace(bench_settings(uri, database), batch_timeout_seconds=budget))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", timeout=600) as http:
            yield http


async def run(uri: str) -> bool:
    database = f"bench_health_ingest_{uuid.uuid4().hex[:8]}"
    client = connect(uri)
    try:
        store = Store(client[database])
        await ensure_indexes(store.db)
        service = await seed(store)
        items = readings()
        print(f"health_ingest: {READINGS} readings in signed batches of {BATCH} ...", file=sys.stderr, flush=True)
        async with running_app(uri, database) as http:
            webhook = await send(http, service, items)
        stored = await store.db["observations"].count_documents({"status": "ACCEPTED", "evaluated": True})
        bare = await bare_insert(store, service, items)
        raw = await store.db["observations_bare"].count_documents({})
    finally:
        await client.drop_database(database)
        await client.close()
    webhook_rate, bare_rate = READINGS / webhook, READINGS / bare
    print(f"\nvital-sign ingest: {READINGS} readings for {PEOPLE} people, batches of {BATCH}, {IN_FLIGHT} in flight")
    print(f"  webhook (gate, store, dedupe, detection, audit): {webhook_rate:.0f} readings/s ({webhook:.1f}s)")
    print(f"  bare insert_many of the same documents: {bare_rate:.0f} readings/s ({bare:.1f}s)")
    print(f"  webhook / bare insert_many = {webhook_rate / bare_rate:.3f}")
    return stored == READINGS and raw == READINGS


def main() -> int:
    with database_uri() as uri:
        return 0 if asyncio.run(run(uri)) else 1


if __name__ == "__main__":
    sys.exit(main())
