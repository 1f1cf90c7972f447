"""Over HTTP with real emulator tokens: a guardian's acknowledgement silences nobody else (invariant I4).

The app runs its own background loops (ladder, router, second channel) on a clock the test moves, and
calls out through the local Twilio server.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from app.server import build_app
from app.settings import Settings
from carecore.access.principal import Role
from carecore.agencies.models import Agency
from carecore.alerts.router import SECOND_CHANNEL_AFTER
from carecore.ids import new_id
from carecore.storage.store import Store
from carecore.users.models import User
from tests.app.conftest import MakeAccount
from tests.notifications.test_second_channel import phone_of, twilio_server
from tests.notifications.twilio_server import ACCOUNT_SID, AUTH_TOKEN, TwilioServer
from tests.support import ALL_PERMISSIONS, FakeClock, link, person

__all__ = ["twilio_server"]

REPORT = """mutation ($input: ReportIncidentInput!) {
  reportIncident(input: $input) { ... on IncidentPayload { incident { id status } } ... on UserError { message } }
}"""
INBOX = "{ notifications(first: 10) { nodes { id subjectId acknowledgedAt subjectAcknowledgedAt } } }"
ACK = """mutation ($id: ID!) {
  acknowledgeNotification(input: {id: $id}) {
    ... on AcknowledgeNotificationPayload { subjectAcknowledged notification { acknowledgedAt } }
  }
}"""
INCIDENT = "query ($id: ID!) { incident(id: $id) { status acknowledgedAt } }"

Call = Callable[[str, str, dict[str, Any] | None], Awaitable[dict[str, Any]]]


@pytest.fixture
async def app_http(settings: Settings, clock: FakeClock, twilio_server: TwilioServer) -> AsyncIterator[Call]:
    """The app with its background loops and the second channel on, its clock the test's."""
    with_twilio = dataclasses.replace(
        settings,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from_number="+15005550006",
        twilio_api_base=twilio_server.url,
        public_url="https://api.carecore.test",
        worker_poll_seconds=0.02,
    )
    app = build_app(with_twilio, clock=clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://carecore.test") as client,
    ):

        async def call(token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": variables or {}},
                headers={"Authorization": f"Bearer {token}"},
            )
            body: dict[str, Any] = response.json()
            assert "errors" not in body, body
            return dict(body["data"])

        yield call


async def eventually(check: Callable[[], Awaitable[Any]], seconds: float = 10.0) -> Any:
    for _ in range(int(seconds / 0.02)):
        if found := await check():
            return found
        await asyncio.sleep(0.02)
    raise AssertionError("the background loops did not get there in time")


async def with_phone(store: Store, clock: FakeClock, profile: User) -> User:
    updated = await store.users.update(profile.id, {"phone": phone_of(profile)}, expected_revision=1, now=clock.now())
    assert updated is not None
    return updated


async def test_a_guardians_acknowledgement_leaves_the_incident_open_and_the_staffs_call_armed(
    app_http: Call, store: Store, clock: FakeClock, make_account: MakeAccount, twilio_server: TwilioServer
) -> None:
    agency = Agency(id=new_id(), name="경기 함께돌봄 센터")
    await store.agencies.upsert(agency)
    coordinator, coordinator_token = await make_account(Role.COORDINATOR, agency.id, "김지현")
    guardian, guardian_token = await make_account(Role.FAMILY, agency.id, "최영희")
    coordinator, guardian = await with_phone(store, clock, coordinator), await with_phone(store, clock, guardian)
    minji = person(agency.id, "최민지", now=clock.now())
    await store.people.insert(minji)
    await link(store, minji, guardian, ALL_PERMISSIONS, clock.now())
    report = {"personId": minji.id, "type": "SEIZURE", "severity": "CRITICAL", "summary": "이웃 신고: 발작"}
    incident = (await app_http(coordinator_token, REPORT, {"input": report}))["reportIncident"]["incident"]

    async def inbox_of(token: str) -> list[dict[str, Any]]:
        nodes = (await app_http(token, INBOX, None))["notifications"]["nodes"]
        return [n for n in nodes if n["subjectId"] == incident["id"]]

    [guardians] = await eventually(lambda: inbox_of(guardian_token))  # step 0 of the ladder, routed
    acked = (await app_http(guardian_token, ACK, {"id": guardians["id"]}))["acknowledgeNotification"]
    [coordinators] = await inbox_of(coordinator_token)
    seen = (await app_http(coordinator_token, INCIDENT, {"id": incident["id"]}))["incident"]

    assert acked["subjectAcknowledged"] is False and acked["notification"]["acknowledgedAt"] is not None
    assert seen == {"status": "OPEN", "acknowledgedAt": None}
    assert coordinators["subjectAcknowledgedAt"] is None and coordinators["acknowledgedAt"] is None

    clock.advance(SECOND_CHANNEL_AFTER)

    await eventually(lambda: _called(twilio_server, coordinator))
    await asyncio.sleep(0.2)  # a few more rounds of the loops: the guardian, who answered, is not called
    assert phone_of(guardian) not in {c["To"] for c in twilio_server.calls}
    assert {m["To"] for m in twilio_server.messages} == {phone_of(coordinator)}
    # The app wires the incidents' acknowledger: staff's word does stop the ladder.
    staff = (await app_http(coordinator_token, ACK, {"id": coordinators["id"]}))["acknowledgeNotification"]
    handled = (await app_http(coordinator_token, INCIDENT, {"id": incident["id"]}))["incident"]
    assert staff["subjectAcknowledged"] is True and handled["status"] == "ACKNOWLEDGED"


async def _called(twilio_server: TwilioServer, u: User) -> bool:
    return phone_of(u) in {c["To"] for c in twilio_server.calls}
