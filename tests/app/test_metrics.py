"""Prometheus scrapes /metrics with its token: request and operation latency, the outbox, the event
consumers, dispatch results, escalation lag and lease take-overs."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from app.server import build_app
from app.settings import Settings
from carecore.access.principal import Role
from carecore.alerts.models import Audience
from carecore.alerts.router import route_due
from carecore.alerts.service import request_alert
from carecore.events.consumers import CONSUMERS
from carecore.incidents.escalation import run_due_steps
from carecore.incidents.ingestion import ingest_flag
from carecore.incidents.models import AiService
from carecore.ports import Ports
from tests.app.conftest import MakeAccount
from tests.carecore.incidents.conftest import ai, flag
from tests.conftest import World
from tests.notifications.support import incident_alert
from tests.support import FakeClock

__all__ = ["ai"]
TOKEN = "scrape-0123456789"


@pytest.fixture
async def scraped_app(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(dataclasses.replace(settings, metrics_token=TOKEN, background_workers=False))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://carecore.test") as client,
    ):
        yield client


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_a_scrape_with_the_token_shows_latency_outbox_and_consumer_lag(
    scraped_app: httpx.AsyncClient, make_account: MakeAccount, world: World, ports: Ports
) -> None:
    _, token = await make_account(Role.COORDINATOR, world.agency.id)
    await scraped_app.post(
        "/graphql", json={"query": "query Me { me { id } }"}, headers={"Authorization": f"Bearer {token}"}
    )
    await request_alert(ports, incident_alert(world, ports.clock.now(), audiences=(Audience.GUARDIANS,)))
    await route_due(ports, owner="router")  # one notification for the guardian, waiting in the outbox

    assert (await scraped_app.get("/metrics")).status_code == 401
    assert (await scraped_app.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
    response = await scraped_app.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 200
    found = samples(response.text)
    assert found[("carecore_graphql_operation_duration_seconds_count", (("operation", "Me"), ("type", "query")))] >= 1
    assert any(
        name == "carecore_http_request_duration_seconds_count" and ("route", "/graphql") in labels
        for name, labels in found
    )
    assert found[("carecore_outbox_depth", ())] == 1
    assert found[("carecore_outbox_oldest_age_seconds", ())] >= 0
    assert {labels for name, labels in found if name == "carecore_event_consumer_lag_seconds"} == {
        (("consumer", c.name),) for c in CONSUMERS
    }
    assert found[("carecore_metrics_refresh_ok", ())] == 1


async def test_escalation_lag_and_a_lease_take_over_are_counted(
    ports: Ports, world: World, clock: FakeClock, ai: AiService
) -> None:
    def value(name: str, labels: dict[str, str] | None = None) -> float:
        return REGISTRY.get_sample_value(name, labels or {}) or 0.0

    lag_before = value("carecore_escalation_lag_seconds_sum")
    takeovers_before = value("carecore_lease_takeovers_total", {"work": "incidents"})
    await ingest_flag(ports, world.ai_service.principal(), ai, flag())  # step 0 runs in the request
    clock.advance(timedelta(minutes=3))  # step 1 was due at 2 minutes
    assert await ports.store.incidents.claim_step(now=clock.now(), owner="dies", lease=timedelta(seconds=15))
    clock.advance(timedelta(seconds=20))  # its worker died holding it; another takes it over

    assert await run_due_steps(ports, "survivor") >= 1

    assert value("carecore_escalation_lag_seconds_sum") - lag_before >= 80  # 60 s late, then 20 s more
    assert value("carecore_lease_takeovers_total", {"work": "incidents"}) - takeovers_before == 1
