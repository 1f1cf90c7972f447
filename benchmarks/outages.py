"""Requests while the database is frozen (issue 14): how long they take to fail and with what, how fast
/readyz says so, and how long the same app takes to serve again after the database thaws.

A dedicated mongo-java-server is frozen with SIGSTOP for FREEZE seconds while a client sends a GraphQL
query and a readiness probe every half second; then it is thawed. The app is the real one from
build_app with the default deadlines (5 s per request, 0.5 s per probe) and Auth emulator tokens.
Checks: no 500 and no hang; every request during the freeze answers 503 UNAVAILABLE within its
deadline plus a second; every probe within a second; served again within 15 s of the thaw.

    python -m benchmarks.outages
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import Awaitable

import httpx

from app.server import build_app
from app.settings import Settings
from carecore.access.principal import Role
from carecore.agencies.models import Agency
from carecore.clock import SystemClock
from carecore.ids import new_id
from carecore.storage.database import connect, ensure_indexes
from carecore.storage.store import Store
from carecore.users.models import User
from devtools.auth_emulator import AuthEmulator, create_user, sign_in
from devtools.devdb import DevDatabase

PROJECT = "demo-carecore-bench"
FREEZE = 20.0
ME = {"query": "query Me { me { id } }"}


async def _seed(uri: str, auth_host: str) -> str:
    client = connect(uri)
    try:
        store = Store(client["outages"])
        await ensure_indexes(store.db)
        agency = Agency(id=new_id(), name="벤치마크 기관")
        await store.agencies.upsert(agency)
        uid = f"bench-{uuid.uuid4().hex[:12]}"
        email, password = f"{uid}@bench.carecore.kr", "password-123"
        claims = {"role": Role.COORDINATOR.value, "agency": agency.id}
        create_user(auth_host, PROJECT, uid=uid, email=email, password=password, display_name="b", custom_claims=claims)
        now = SystemClock().now()
        await store.users.insert(
            User(
                id=new_id(),
                agency_id=agency.id,
                firebase_uid=uid,
                role=Role.COORDINATOR,
                display_name="b",
                locale="ko",
                email=None,
                phone=None,
                active=True,
                revision=1,
                created_at=now,
                updated_at=now,
            )
        )
        return sign_in(auth_host, email=email, password=password)
    finally:
        await client.close()


async def _timed(request: Awaitable[httpx.Response]) -> tuple[float, int, str]:
    started = time.perf_counter()
    response = await request
    code = ""
    if response.headers.get("content-type", "").startswith("application/json"):
        errors = response.json().get("errors") or [{}]
        code = str(errors[0].get("extensions", {}).get("code", "")) if isinstance(errors, list) else ""
    return time.perf_counter() - started, response.status_code, code


async def measure(database: DevDatabase, auth_host: str) -> bool:
    token = await _seed(database.uri, auth_host)
    settings = Settings(
        environment="test",
        mongodb_uri=database.uri,
        database="outages",
        firebase_project_id=PROJECT,
        auth_emulator_host=auth_host,
        graphiql=False,
        introspection=False,
    )
    app = build_app(settings)
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=120) as http,
    ):
        before = [await _timed(http.post("/graphql", json=ME, headers=headers)) for _ in range(20)]
        database.freeze()
        frozen_at = time.perf_counter()
        queries, probes = [], []
        while time.perf_counter() - frozen_at < FREEZE:
            queries.append(asyncio.create_task(_timed(http.post("/graphql", json=ME, headers=headers))))
            probes.append(asyncio.create_task(_timed(http.get("/readyz"))))
            await asyncio.sleep(0.5)
        during = await asyncio.gather(*queries)
        probed = await asyncio.gather(*probes)
        database.thaw()
        thawed_at = time.perf_counter()
        while (await _timed(http.post("/graphql", json=ME, headers=headers)))[1] != 200:
            if time.perf_counter() - thawed_at > 60:
                break
            await asyncio.sleep(0.1)
        recovery = time.perf_counter() - thawed_at

    statuses: dict[str, int] = {}
    for _, status, code in during:
        statuses[f"{status} {code}".strip()] = statuses.get(f"{status} {code}".strip(), 0) + 1
    slowest = max(t for t, _, _ in during)
    slowest_probe = max(t for t, _, _ in probed)
    print(f"outages: before the freeze, median {sorted(t for t, _, _ in before)[10] * 1000:.0f} ms per query")
    print(f"outages: {len(during)} queries during a {FREEZE:.0f} s freeze: {statuses}; slowest {slowest:.2f} s")
    probe_statuses = sorted({s for _, s, _ in probed})
    print(f"outages: {len(probed)} /readyz probes: slowest {slowest_probe:.2f} s, statuses {probe_statuses}")
    print(f"outages: served again {recovery:.2f} s after the thaw")
    ok = (
        all(status in (200, 503) for _, status, _ in during)
        and slowest <= settings.request_timeout_seconds + 1
        and slowest_probe <= 1.0
        and recovery <= 15
    )
    print(f"outages: {'OK' if ok else 'FAILED'}")
    return ok


async def run(_: str) -> bool:
    """`make bench` entry: this benchmark brings its own database, since it freezes it."""
    with DevDatabase() as database, AuthEmulator(project_id=PROJECT) as emulator:
        previous = os.environ.get("FIREBASE_AUTH_EMULATOR_HOST")
        os.environ["FIREBASE_AUTH_EMULATOR_HOST"] = emulator.host
        try:
            return await measure(database, emulator.host)
        finally:
            if previous is None:
                os.environ.pop("FIREBASE_AUTH_EMULATOR_HOST", None)
            else:
                os.environ["FIREBASE_AUTH_EMULATOR_HOST"] = previous


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(run("")) else 1)
