"""POST /ingest/flags: HMAC-signed flags from AI services, refused before anything is stored."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.server import build_app
from app.settings import Settings
from carecore.clock import SystemClock
from carecore.incidents.ai_services import signed_headers
from carecore.storage.store import Store
from fixtures.demo import demo_ids, load_demo
from fixtures.demo_incidents import DEMO_WEBHOOK_SECRET
from tests.support import FakeClock


@pytest.fixture
def live_clock() -> FakeClock:
    """The server's clock, starting at the real time so real signatures are fresh, moved by the test."""
    return FakeClock(SystemClock().now())


@pytest.fixture
async def webhook(
    mongo_uri: str, database_name: str, store: Store, live_clock: FakeClock
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        environment="test",
        mongodb_uri=mongo_uri,
        database=database_name,
        firebase_project_id="demo-carecore-test",
        auth_emulator_host=None,
        graphiql=False,
        introspection=False,
        background_workers=False,
    )
    await load_demo(store, live_clock.now() - timedelta(hours=1))  # its own seizure flag is long past
    app = build_app(settings, clock=live_clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://carecore.test") as client,
    ):
        yield client


def body(external_id: str = "seizure-77", ref: str = "WC-0001", type: str = "SEIZURE") -> bytes:
    flag: dict[str, Any] = {
        "externalId": external_id,
        "personRef": ref,
        "type": type,
        "confidence": 0.9,
        "detector": "wearable-seizure",
        "modelVersion": "2.1",
        "evidence": {"summary": "Rhythmic movement for 90 s", "signals": [{"name": "duration_s", "value": "90"}]},
    }
    return json.dumps(flag).encode()


def signed(raw: bytes, clock: FakeClock, *, secret: str = DEMO_WEBHOOK_SECRET) -> dict[str, str]:
    headers = signed_headers(demo_ids().ai_service, secret, raw, at=int(clock.now().timestamp()))
    return {**headers, "Content-Type": "application/json"}


async def _incidents(store: Store) -> int:
    return await store.db["incidents"].count_documents(
        {"source": "AI", "detection.detector": "wearable-seizure", "summary": "Rhythmic movement for 90 s"}
    )


async def test_a_signed_flag_for_a_demo_person_opens_a_critical_incident_once(
    webhook: httpx.AsyncClient, store: Store, live_clock: FakeClock
) -> None:
    raw = body()
    response = await webhook.post("/ingest/flags", content=raw, headers=signed(raw, live_clock))

    assert response.status_code == 202, response.text
    assert response.json()["outcome"] == "CREATED"
    incident_id = response.json()["incidentId"]
    incident = await store.incidents.get(incident_id)
    assert incident is not None and incident.severity == "CRITICAL" and incident.person_id == demo_ids().seizure_person
    assert len(await store.alert_requests.for_subject(incident_id)) == 1

    again = await webhook.post("/ingest/flags", content=raw, headers=signed(raw, live_clock))

    assert again.status_code == 202 and again.json() == {**response.json(), "outcome": "DUPLICATE"}
    assert await _incidents(store) == 1


async def test_a_replay_after_five_minutes_is_refused(
    webhook: httpx.AsyncClient, store: Store, live_clock: FakeClock
) -> None:
    raw = body("replayed")
    headers = signed(raw, live_clock)
    live_clock.advance(timedelta(minutes=5, seconds=1))

    response = await webhook.post("/ingest/flags", content=raw, headers=headers)

    assert response.status_code == 401
    assert "5 minutes" in response.json()["error"]["message"]
    assert await _incidents(store) == 0


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("wrong secret", 401),
        ("tampered body", 401),
        ("unknown service", 401),
        ("unknown person", 422),
        ("malformed", 400),
        ("bad type", 400),
    ],
)
async def test_a_bad_request_is_refused_with_a_clear_message_and_stores_nothing(
    webhook: httpx.AsyncClient, store: Store, live_clock: FakeClock, case: str, status: int
) -> None:
    raw = body()
    headers = signed(raw, live_clock)
    match case:
        case "wrong secret":
            headers = signed(raw, live_clock, secret="not-the-secret-0123456789abcdefghij")
        case "tampered body":
            raw = body("tampered")
        case "unknown service":
            headers["X-Carecore-Service"] = "0" * 24
        case "unknown person":
            raw = body(ref="WC-9999")
            headers = signed(raw, live_clock)
        case "malformed":
            raw = b'{"externalId": "x", '
            headers = signed(raw, live_clock)
        case "bad type":
            raw = body(type="EARTHQUAKE")
            headers = signed(raw, live_clock)
    before = await store.db["incident_flags"].count_documents({})

    response = await webhook.post("/ingest/flags", content=raw, headers=headers)

    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]
    assert await store.db["incident_flags"].count_documents({}) == before
    assert await _incidents(store) == 0
