"""The database frozen or gone: requests answer UNAVAILABLE (503 before execution) instead of hanging and
answering 500, /readyz says so at once, and the same app recovers, background loops included, when the
database is back. Each test runs its own mongo-java-server, since it freezes or kills it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from pymongo.errors import PyMongoError
from starlette.applications import Starlette

from app.server import build_app, subject_acknowledgers
from app.settings import Settings
from carecore.access.principal import Role
from carecore.alerts.models import Audience
from carecore.alerts.service import request_alert
from carecore.ports import Ports
from carecore.storage.database import connect, deadline, ensure_indexes, is_outage
from carecore.storage.store import Store
from devtools.auth_emulator import sign_in
from devtools.devdb import DevDatabase
from schema.build import build_schema
from schema.context import Context
from tests.app.conftest import sign_up
from tests.app.test_alert_delivery import app_settings, eventually
from tests.conftest import PROJECT_ID, World, build_world
from tests.notifications.support import incident_alert
from tests.support import FakeClock, RecordingClaims, RefusingTokens, user

ME = "query Me { me { id role } }"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def own_database(tmp_path: Path) -> Iterator[DevDatabase]:
    """An H2 file, so what was written before a kill is there after the restart; a fixed port to restart on."""
    with DevDatabase(backend=str(tmp_path / "outage.h2"), port=free_port()) as database:
        yield database


@pytest.fixture
async def own_ports(own_database: DevDatabase) -> AsyncIterator[Ports]:
    client = connect(own_database.uri)  # the test's own writes wait as long as they must
    db = client["outages"]
    await ensure_indexes(db)
    yield Ports(
        store=Store(db),
        clock=FakeClock(),
        claims=RecordingClaims(),
        tokens=RefusingTokens(),
        acknowledgers=subject_acknowledgers(),
    )
    await client.close()


@pytest.fixture
async def own_world(own_ports: Ports) -> World:
    clock = own_ports.clock
    assert isinstance(clock, FakeClock)
    return await build_world(own_ports.store, clock)


def outage_settings(uri: str, auth_host: str) -> Settings:
    return Settings(
        environment="test",
        mongodb_uri=uri,
        database="outages",
        firebase_project_id=PROJECT_ID,
        auth_emulator_host=auth_host,
        graphiql=False,
        introspection=False,
        worker_poll_seconds=0.05,
        request_timeout_seconds=3.0,
        readiness_timeout_seconds=0.5,
        database_timeout_seconds=2.0,
    )


async def coordinator_token(ports: Ports, auth_host: str, agency_id: str) -> str:
    uid, email, password = sign_up(auth_host, claims={"role": Role.COORDINATOR.value, "agency": agency_id})
    await ports.store.users.insert(user(agency_id, Role.COORDINATOR, "김지현", uid=uid, now=ports.clock.now()))
    return sign_in(auth_host, email=email, password=password)


@contextlib.asynccontextmanager
async def serve(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://carecore.test") as client,
    ):
        yield client


async def me(http: httpx.AsyncClient, token: str) -> httpx.Response:
    # A hang guard only: the request's own deadline (3 s here) is what ends it.
    return await asyncio.wait_for(
        http.post("/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"}), 30
    )


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"]
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAVAILABLE"


async def ready(http: httpx.AsyncClient) -> bool:
    return (await asyncio.wait_for(http.get("/readyz"), 30)).status_code == 200


async def test_a_frozen_database_answers_503_unavailable_then_the_same_app_recovers(
    own_database: DevDatabase,
    own_ports: Ports,
    own_world: World,
    auth_host: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = await coordinator_token(own_ports, auth_host, own_world.agency.id)
    app = build_app(outage_settings(own_database.uri, auth_host))
    async with serve(app) as http:
        assert (await me(http, token)).json()["data"]["me"]["role"] == "COORDINATOR"

        own_database.freeze()
        try:
            caplog.clear()
            assert_unavailable(await me(http, token))  # the door's sign-in look-up timed out
            probe = await asyncio.wait_for(http.get("/readyz"), 30)
            assert probe.status_code == 503 and probe.json() == {"status": "unavailable"}
        finally:
            own_database.thaw()

        await eventually(lambda: ready(http))
        assert (await me(http, token)).json()["data"]["me"]["role"] == "COORDINATOR"
    tracebacks = [r for r in caplog.records if r.exc_info and r.name.startswith("carecore")]
    assert not tracebacks, [r.getMessage() for r in tracebacks]


async def test_a_killed_database_answers_503_and_its_restart_needs_no_app_restart(
    own_database: DevDatabase, own_ports: Ports, own_world: World, auth_host: str
) -> None:
    token = await coordinator_token(own_ports, auth_host, own_world.agency.id)
    app = build_app(outage_settings(own_database.uri, auth_host))
    async with serve(app) as http:
        assert (await me(http, token)).status_code == 200

        own_database.kill()
        assert_unavailable(await me(http, token))
        assert not await ready(http)

        own_database.start()  # same file, same port
        await eventually(lambda: ready(http), seconds=30)
        assert (await me(http, token)).json()["data"]["me"]["role"] == "COORDINATOR"

        # The background loops failed pass after pass during the outage and carry on by themselves.
        await eventually(lambda: _answers(own_ports))  # the test's own client drops its dead connections
        request = incident_alert(own_world, datetime.now(UTC), audiences=(Audience.GUARDIANS,))
        await request_alert(own_ports, request)
        await eventually(lambda: _routed(own_ports, request.id), seconds=30)


async def _answers(ports: Ports) -> bool:
    try:
        await ports.store.db.command("ping")
    except PyMongoError:
        return False
    return True


async def _routed(ports: Ports, request_id: str) -> bool:
    return bool(await ports.store.notifications.for_request(request_id))


async def test_an_outage_during_execution_is_a_graphql_error_coded_unavailable(
    own_database: DevDatabase, own_ports: Ports, own_world: World, caplog: pytest.LogCaptureFixture
) -> None:
    schema = build_schema(is_outage=is_outage)
    principal = own_world.coordinator.principal()
    context = Context(ports=own_ports, principal_or_none=principal)
    own_database.freeze()
    try:
        with deadline(1.0):
            result: Any = await asyncio.wait_for(
                schema.execute("{ people { edges { node { id } } } }", context_value=context), 30
            )
    finally:
        own_database.thaw()
    [error] = result.errors
    assert error.extensions == {"code": "UNAVAILABLE"}
    assert not any(r.exc_info for r in caplog.records if r.levelno >= logging.WARNING)


def service_account_file(directory: Path, project_id: str) -> Path:
    """Credentials as production has them (they are never used here: no call needs a grant)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    account = {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": "outage-test",
        "private_key": pem,
        "client_email": f"carecore@{project_id}.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path = directory / "service-account.json"
    path.write_text(json.dumps(account))
    return path


def signed_id_token(project_id: str) -> str:
    """An ID token shaped like Firebase's (RS256, a key id): checking it needs Google's public keys."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(datetime.now(UTC).timestamp())
    claims = {
        "iss": f"https://securetoken.google.com/{project_id}",
        "aud": project_id,
        "sub": "uid-outage",
        "iat": now,
        "exp": now + 3600,
        "auth_time": now,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "key-of-the-day"})


async def test_firebase_keys_out_of_reach_answer_unavailable_not_unauthenticated(
    mongo_uri: str, database_name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An app told UNAUTHENTICATED signs its user out; during an Auth outage it must wait and retry instead."""
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)  # real verification: keys are fetched
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(service_account_file(tmp_path, PROJECT_ID)))
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{free_port()}")  # nothing listens: the fetch fails
    app = build_app(app_settings(mongo_uri, database_name, firebase_project_id=PROJECT_ID))
    async with serve(app) as http:
        assert_unavailable(await me(http, signed_id_token(PROJECT_ID)))
        unsigned = await me(http, "not-a-token")
        assert unsigned.status_code == 401  # a token that is plainly bad is still refused as such
