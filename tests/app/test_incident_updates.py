"""incidentUpdates over graphql-transport-ws, across two instances sharing one database."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from app.server import build_app
from app.settings import Settings
from carecore.access.principal import Role
from carecore.agencies.models import Agency
from carecore.clock import Clock, SystemClock
from carecore.ids import new_id
from carecore.storage.store import Store
from carecore.users.models import User
from tests.app.conftest import MakeAccount
from tests.app.servers import Subscription, serving, subscribe
from tests.support import ALL_PERMISSIONS, FakeClock, link, person

UPDATES = "subscription ($personId: ID) { incidentUpdates(personId: $personId) { id personId status severity } }"
REPORT = """mutation ($input: ReportIncidentInput!) {
  reportIncident(input: $input) { ... on IncidentPayload { incident { id } } ... on UserError { message } }
}"""


@dataclasses.dataclass
class Family:
    agency: Agency
    coordinator_token: str
    guardian: User
    guardian_token: str
    minji: str
    jiho: str


@pytest.fixture
async def family(store: Store, clock: FakeClock, make_account: MakeAccount) -> Family:
    agency = Agency(id=new_id(), name="경기 함께돌봄 센터")
    await store.agencies.upsert(agency)
    _, coordinator_token = await make_account(Role.COORDINATOR, agency.id, "김지현")
    guardian, guardian_token = await make_account(Role.FAMILY, agency.id, "최영희")
    minji, jiho = person(agency.id, "최민지", now=clock.now()), person(agency.id, "정지호", now=clock.now())
    for p in (minji, jiho):
        await store.people.insert(p)
    await link(store, minji, guardian, ALL_PERMISSIONS, clock.now())
    return Family(agency, coordinator_token, guardian, guardian_token, minji.id, jiho.id)


@contextlib.asynccontextmanager
async def two_instances(
    settings: Settings, *, clock: Clock | None = None, **overrides: Any
) -> AsyncIterator[tuple[str, str]]:
    fast = dataclasses.replace(settings, event_poll_seconds=0.05, background_workers=False, **overrides)
    async with serving(build_app(fast, clock=clock)) as a, serving(build_app(fast)) as b:
        yield a, b


async def report(host: str, token: str, person_id: str, summary: str) -> str:
    variables: dict[str, Any] = {"input": {"personId": person_id, "type": "FALL", "summary": summary}}
    async with httpx.AsyncClient(base_url=f"http://{host}") as client:
        response = await client.post(
            "/graphql", json={"query": REPORT, "variables": variables}, headers={"Authorization": f"Bearer {token}"}
        )
    incident_id: str = response.json()["data"]["reportIncident"]["incident"]["id"]
    return incident_id


async def test_a_subscriber_on_one_instance_receives_an_incident_created_on_another(
    settings: Settings, family: Family
) -> None:
    async with two_instances(settings) as (a, b), subscribe(a, family.coordinator_token, UPDATES) as updates:
        await asyncio.sleep(0.2)  # the subscription is registered once its first poll ran
        created = await report(b, family.coordinator_token, family.minji, "욕실에서 넘어짐")

        message = await updates.next()

    assert message["type"] == "next", message
    assert message["payload"]["data"]["incidentUpdates"]["id"] == created


async def test_a_guardians_subscription_never_receives_another_persons_incident(
    settings: Settings, family: Family
) -> None:
    async with two_instances(settings) as (a, b), subscribe(a, family.guardian_token, UPDATES) as updates:
        await asyncio.sleep(0.2)
        others = await report(b, family.coordinator_token, family.jiho, "지호 낙상")
        mine = await report(b, family.coordinator_token, family.minji, "민지 낙상")

        received = [(await updates.next())["payload"]["data"]["incidentUpdates"]["id"]]
        with contextlib.suppress(TimeoutError):
            while True:
                received.append((await updates.next(wait=0.5))["payload"]["data"]["incidentUpdates"]["id"])

    assert mine in received and others not in received


async def test_a_subscription_to_a_person_outside_your_scope_is_refused(settings: Settings, family: Family) -> None:
    async with (
        two_instances(settings) as (a, _),
        subscribe(a, family.guardian_token, UPDATES, {"personId": family.jiho}) as updates,
    ):
        message = await updates.next()

    assert message["type"] == "error" or message["payload"].get("errors"), message


async def test_a_websocket_without_a_valid_token_is_closed_before_any_subscription(
    settings: Settings, family: Family
) -> None:
    async with (
        two_instances(settings) as (a, _),
        connect(
            f"ws://{a}/graphql",
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        ) as ws,
    ):
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": "Bearer forged"}}))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)

    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def closed_with(updates: Subscription, wait: float = 5.0) -> tuple[int, str]:
    """Reads until the server closes the socket; fails on any update delivered before that."""
    with pytest.raises(ConnectionClosed) as closed:
        message = await updates.next(wait=wait)
        pytest.fail(f"delivered after the identity lapsed: {message}")
    assert closed.value.rcvd is not None, "the socket was not closed by the server"
    return closed.value.rcvd.code, closed.value.rcvd.reason


@pytest.mark.parametrize("change", [{"active": False}, {"role": Role.CAREGIVER.value}], ids=["deactivated", "role"])
async def test_a_subscriber_whose_user_is_deactivated_or_changes_role_is_cut_off_within_the_recheck(
    settings: Settings, family: Family, store: Store, change: dict[str, Any]
) -> None:
    async with (
        two_instances(settings, ws_recheck_seconds=0.5) as (a, b),
        subscribe(a, family.guardian_token, UPDATES) as updates,
    ):
        await asyncio.sleep(0.2)
        await report(b, family.coordinator_token, family.minji, "민지 낙상")
        assert (await updates.next())["type"] == "next"

        g = family.guardian
        await store.users.update(g.id, change, expected_revision=g.revision, now=SystemClock().now())

        code, reason = await closed_with(updates)

    assert code == 4403 and reason


async def test_each_update_checks_the_subscriber_again_before_it_goes_out(
    settings: Settings, family: Family, store: Store
) -> None:
    async with (
        two_instances(settings, ws_recheck_seconds=600) as (a, b),  # no periodic check within the test
        subscribe(a, family.guardian_token, UPDATES) as updates,
    ):
        await asyncio.sleep(0.2)
        g = family.guardian
        await store.users.update(g.id, {"active": False}, expected_revision=g.revision, now=SystemClock().now())

        await report(b, family.coordinator_token, family.minji, "민지 낙상")

        code, _ = await closed_with(updates)

    assert code == 4403


async def test_a_subscription_whose_token_expires_is_closed_with_4401(settings: Settings, family: Family) -> None:
    clock = FakeClock(SystemClock().now())
    async with (
        two_instances(settings, clock=clock, ws_recheck_seconds=0.3) as (a, _),
        subscribe(a, family.guardian_token, UPDATES) as updates,
    ):
        await asyncio.sleep(0.5)
        assert updates.ws.close_code is None  # still valid: nothing closed it
        clock.advance(timedelta(hours=1, minutes=1))  # emulator ID tokens live an hour

        code, _ = await closed_with(updates)

    assert code == 4401


async def test_an_idle_socket_is_kept_alive_with_pings(settings: Settings, family: Family) -> None:
    async with (
        two_instances(settings, ws_keep_alive_seconds=0.2) as (a, _),
        subscribe(a, family.guardian_token, UPDATES) as updates,
    ):
        message = json.loads(await asyncio.wait_for(updates.ws.recv(), 5))
        await updates.ws.send(json.dumps({"type": "pong"}))

        assert message == {"type": "ping"}
        await asyncio.sleep(0.5)
        assert updates.ws.close_code is None


async def test_only_the_graphql_transport_ws_subprotocol_is_accepted(settings: Settings, family: Family) -> None:
    async with two_instances(settings) as (a, _):
        try:
            async with connect(f"ws://{a}/graphql", subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 5)
                refused = closed.value.rcvd is not None and closed.value.rcvd.code == 4406
        except InvalidHandshake:
            refused = True

    assert refused
