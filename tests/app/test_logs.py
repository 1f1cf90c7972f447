"""Logs are JSON lines with the request id on every line, the caller's user and agency but no personal
data; an expected refusal is one line without a traceback; the access log has no query string; the
events a request publishes carry its id to the background work that handles them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from app.logs import JsonFormatter
from carecore import tracing
from carecore.access.principal import Role
from carecore.events.models import DomainEvent
from carecore.events.service import publish
from carecore.ids import new_id
from carecore.ports import Ports
from tests.app.conftest import MakeAccount
from tests.conftest import World


@pytest.fixture
def json_lines(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """What the process would write to stderr: the root handler with the app's formatter."""
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.WARNING, logger="httpx")  # the test's own client, as configure_logging does
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    yield out
    logging.getLogger().removeHandler(handler)


def lines_of(out: io.StringIO, request_id: str) -> list[dict[str, Any]]:
    return [entry for entry in map(json.loads, out.getvalue().splitlines()) if entry.get("request_id") == request_id]


async def post(http: httpx.AsyncClient, query: str, token: str, path: str = "/graphql") -> httpx.Response:
    return await http.post(path, json={"query": query}, headers={"Authorization": f"Bearer {token}"})


async def test_a_refused_request_logs_json_lines_with_its_id_and_caller_one_refusal_line_and_no_query(
    http: httpx.AsyncClient, make_account: MakeAccount, world: World, json_lines: io.StringIO
) -> None:
    caregiver, token = await make_account(Role.CAREGIVER, world.agency.id, name="박서준")
    response = await post(http, "{ users { edges { node { id displayName } } } }", token, "/graphql?name=박서준")
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    request_id = response.headers["x-request-id"]
    lines = lines_of(json_lines, request_id)
    refusals = [e for e in lines if "refused" in e["message"]]
    assert len(refusals) == 1 and "exception" not in refusals[0], lines
    assert refusals[0]["user_id"] == caregiver.id and refusals[0]["agency_id"] == world.agency.id
    [access] = [e for e in lines if e["logger"] == "carecore.access"]
    assert access["http"]["path"] == "/graphql" and access["http"]["status"] == 200
    everything = json_lines.getvalue()
    assert "name=" not in everything and "박서준" not in everything and caregiver.firebase_uid not in everything


async def test_a_request_id_offered_by_the_load_balancer_is_kept(
    http: httpx.AsyncClient, make_account: MakeAccount, world: World, json_lines: io.StringIO
) -> None:
    _, token = await make_account(Role.COORDINATOR, world.agency.id)
    response = await http.post(
        "/graphql",
        json={"query": "{ me { id } }"},
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "lb-0123456789"},
    )
    assert response.status_code == 200 and response.headers["x-request-id"] == "lb-0123456789"
    assert lines_of(json_lines, "lb-0123456789")


async def test_an_event_published_in_a_request_carries_its_id_to_its_consumers(ports: Ports, world: World) -> None:
    with tracing.scope("req-0123456789"):
        event = DomainEvent(
            id=new_id(),
            agency_id=world.agency.id,
            kind="incident.updated",
            subject_type="Incident",
            subject_id=new_id(),
            at=datetime.now(UTC),
        )
        assert await publish(ports, event)
    [stored] = await ports.store.events.unclaimed("tests", ["incident.updated"], now=datetime.now(UTC), limit=10)
    assert stored.request_id == "req-0123456789"
