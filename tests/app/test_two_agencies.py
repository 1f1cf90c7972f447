"""Agency B against agency A's people at the webhooks and over subscriptions: not found, nothing written.

Agency B's AI service is configured under the same service name as agency A's (the demo's), so a
reference lookup that forgot the agency would find A's person. The doors and subscription fields are
enumerated from the app and the schema: a new one without a case here fails the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from app.server import build_app
from app.settings import Settings
from carecore.access.principal import Role
from carecore.agencies.models import Agency
from carecore.alerts.inbox import notification_for_update
from carecore.alerts.router import route_request
from carecore.ids import new_id
from carecore.incidents.ai_services import signed_headers
from carecore.incidents.models import AiService
from carecore.ports import Ports
from carecore.reachability.service import issue_callback_token
from carecore.shifts.open_shifts import offer_for_update
from carecore.storage.store import Store
from carecore.vocabulary import Audience
from fixtures.demo import demo_ids
from fixtures.demo_people import WELLNESS_CALL
from schema.build import build_schema
from tests.app.conftest import MakeAccount
from tests.app.servers import subscribe
from tests.app.test_incident_updates import UPDATES, report, two_instances
from tests.app.test_ingest_flags import body as flag_body
from tests.app.test_ingest_flags import live_clock, webhook  # noqa: F401 - fixtures shared with flags
from tests.app.test_ingest_observations import bp
from tests.conftest import World
from tests.notifications.support import incident_alert
from tests.schema.test_live_updates import open_shift_offered, routed_events
from tests.support import FakeClock, person, user

B_SECRET = "agency-b-webhook-secret-0123456789abcdef"
A_REF = demo_ids().seizure_person_wellness_ref  # agency A's (the demo's) reference for its person


def bodies(now: str) -> dict[str, bytes]:
    """What agency B's service sends each door, naming agency A's person."""
    call = {"personRef": A_REF, "session": "s", "attempt": 1, "outcome": "NOT_ANSWERED", "at": now}
    return {
        "/ingest/flags": flag_body(external_id="b-1", ref=A_REF),
        "/ingest/observations": json.dumps({"readings": [bp(A_REF, now, 190, 125, "b-1")]}).encode(),
        "/ingest/calls": json.dumps(call).encode(),
        "/ingest/signs": json.dumps({"signs": [{"personRef": A_REF, "kind": "DOOR", "at": now}]}).encode(),
        "/callbacks/calls/{token}": json.dumps(call).encode(),
    }


async def snapshot(store: Store) -> dict[str, list[dict[str, Any]]]:
    names = [n for n in await store.db.list_collection_names() if n != "audit"]
    return {n: [d async for d in store.db[n].find().sort("_id", 1)] for n in sorted(names)}


def refused_as_unknown(response: httpx.Response) -> bool:
    """A single item answers 404/422; a batch answers each item with an unknown-person error."""
    if response.status_code in (404, 422):
        return True
    results: list[dict[str, Any]] = (response.json().get("results") or []) if response.status_code == 202 else []

    def unknown(error: dict[str, Any]) -> bool:
        # Observations' error names no field (signs' names personRef); both say who was not found.
        return error.get("field") == "personRef" or "No person has this reference" in error.get("message", "")

    return bool(results) and all(unknown(r.get("error") or {}) for r in results)


async def test_agency_bs_ai_service_finds_no_person_of_agency_a_at_any_door(
    webhook: httpx.AsyncClient,  # noqa: F811
    store: Store,
    ports: Ports,
    live_clock: FakeClock,  # noqa: F811
) -> None:
    b = Agency(id=new_id(), name="다른 기관")
    await store.agencies.upsert(b)
    coordinator = user(b.id, Role.COORDINATOR, "다른 기관 코디", now=live_clock.now())
    service = user(b.id, Role.AI_SERVICE, "다른 기관 AI", now=live_clock.now())
    for u in (coordinator, service):
        await store.users.insert(u)
    await store.ai_services.put(AiService(service.id, b.id, WELLNESS_CALL, B_SECRET, live_clock.now()))
    token = await issue_callback_token(ports, coordinator.principal(), service.id)
    app = build_app(
        Settings(
            environment="test",
            mongodb_uri="x",
            database="x",
            firebase_project_id="x",
            auth_emulator_host=None,
            graphiql=False,
            introspection=False,
        )
    )
    doors = [r.path for r in app.routes if isinstance(r, Route) and r.path.startswith(("/ingest", "/callbacks"))]
    now = (live_clock.now() - timedelta(minutes=1)).isoformat()
    cases = bodies(now)
    assert set(doors) <= set(cases), f"webhooks without a two-agency case: {sorted(set(doors) - set(cases))}"
    before = await snapshot(store)

    for door in doors:
        raw = cases[door]
        if "{token}" in door:
            response = await webhook.post(door.replace("{token}", token), content=raw)
        else:
            at = int(live_clock.now().timestamp())
            response = await webhook.post(door, content=raw, headers=signed_headers(service.id, B_SECRET, raw, at=at))
        assert refused_as_unknown(response), (door, response.status_code, response.text)

    after = await snapshot(store)
    assert after == before, "agency B's service changed something of agency A"


# Each subscription field, with the test that shows agency B's subscribers never receive agency A's updates.
SUBSCRIPTIONS: dict[str, str] = {
    "incidentUpdates": "test_agency_bs_subscribers_never_receive_agency_as_updates",
    "inbox": "test_agency_bs_users_get_no_inbox_update_or_offer_of_agency_a",
    "openShiftOffers": "test_agency_bs_users_get_no_inbox_update_or_offer_of_agency_a",
}


def test_every_subscription_has_a_two_agency_case() -> None:
    fields = build_schema()._schema.subscription_type
    assert fields is not None
    assert set(fields.fields) <= set(SUBSCRIPTIONS), f"not covered: {sorted(set(fields.fields) - set(SUBSCRIPTIONS))}"


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.CAREGIVER, Role.FAMILY])
async def test_agency_bs_subscribers_never_receive_agency_as_updates(
    role: Role, settings: Settings, store: Store, make_account: MakeAccount, clock: FakeClock
) -> None:
    a, b = Agency(id=new_id(), name="A 기관"), Agency(id=new_id(), name="B 기관")
    for agency in (a, b):
        await store.agencies.upsert(agency)
    _, a_coordinator = await make_account(Role.COORDINATOR, a.id, "A 코디")
    _, b_coordinator = await make_account(Role.COORDINATOR, b.id, "B 코디")
    _, subscriber = (b, b_coordinator) if role is Role.COORDINATOR else await make_account(role, b.id, "B 사용자")
    minji, b_person = person(a.id, "최민지", now=clock.now()), person(b.id, "B 이용자", now=clock.now())
    for p in (minji, b_person):
        await store.people.insert(p)

    async with two_instances(settings) as (one, two):
        async with subscribe(one, subscriber, UPDATES, {"personId": minji.id}) as aimed:
            message = await aimed.next()
        errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors", [])
        assert {(e.get("extensions") or {}).get("code") for e in errors} == {"NOT_FOUND"}, message

        async with subscribe(one, subscriber, UPDATES) as updates:
            await asyncio.sleep(0.2)
            theirs = await report(two, a_coordinator, minji.id, "A 기관 낙상")
            own = await report(two, b_coordinator, b_person.id, "B 기관 낙상")
            received: list[str] = []
            with contextlib.suppress(TimeoutError):
                while own not in received:
                    received.append((await updates.next(wait=1.5))["payload"]["data"]["incidentUpdates"]["id"])
    assert theirs not in received
    if role is Role.COORDINATOR:
        assert own in received  # the stream works: B's own incident arrives, A's never did


async def test_agency_bs_users_get_no_inbox_update_or_offer_of_agency_a(world: World, ports: Ports) -> None:
    """The per-event filters behind `inbox` and `openShiftOffers`, for every role of agency B."""
    b, now = world.other_agency_coordinator.agency_id, ports.clock.now()
    agency_b = [world.other_agency_coordinator] + [
        user(b, role, f"B {role.value}", now=now) for role in (Role.CAREGIVER, Role.FAMILY, Role.AI_SERVICE)
    ]
    for u in agency_b[1:]:
        await ports.store.users.insert(u)
    await route_request(ports, incident_alert(world, now, audiences=(Audience.GUARDIANS, Audience.ALL_COORDINATORS)))
    await open_shift_offered(world, ports)
    events = await routed_events(ports)
    assert len(events) >= 2, "agency A's alert and offer were routed"

    for event in events:
        for u in agency_b:
            assert await notification_for_update(ports, u.principal(), event) is None, (u.role, event.data)
            assert await offer_for_update(ports, u.principal(), event) is None, (u.role, event.data)
