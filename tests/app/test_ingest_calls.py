"""The wellness-call service's doors: signed call outcomes, the token callback URL for providers that
cannot sign, and signed batches of signs of life."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx

from carecore.incidents.ai_services import signed_headers
from carecore.ports import Ports
from carecore.reachability.service import issue_callback_token
from carecore.storage.store import Store
from fixtures.demo import demo_ids
from fixtures.demo_incidents import DEMO_WEBHOOK_SECRET
from tests.app.test_ingest_flags import live_clock, signed, webhook  # noqa: F401 - fixtures shared with flags
from tests.support import FakeClock, RecordingClaims, RefusingTokens


def outcome(clock: FakeClock, *, attempt: int = 1, result: str = "NOT_ANSWERED", **extra: Any) -> bytes:
    body = {
        "personRef": demo_ids().seizure_person_wellness_ref,
        "session": "weekly-2026-48",
        "attempt": attempt,
        "outcome": result,
        "at": clock.now().isoformat(),
        **extra,
    }
    return json.dumps(body, ensure_ascii=False).encode()


async def contacts(store: Store) -> int:
    """The seizure person's contacts (the demo has calls of its own for someone else)."""
    return await store.db["reachability_contacts"].count_documents({"person_id": demo_ids().seizure_person})


async def test_a_signed_outcome_counts_once_however_often_it_is_sent(
    webhook: httpx.AsyncClient,  # noqa: F811
    store: Store,
    live_clock: FakeClock,  # noqa: F811
) -> None:
    raw = outcome(live_clock)
    first = await webhook.post("/ingest/calls", content=raw, headers=signed(raw, live_clock))
    again = await webhook.post("/ingest/calls", content=raw, headers=signed(raw, live_clock))

    assert first.status_code == 202, first.text
    assert first.json()["state"] == "UNANSWERED" and first.json()["duplicate"] is False
    assert again.json() == {**first.json(), "duplicate": True}
    reach = await store.reachability.get(demo_ids().seizure_person)
    assert reach is not None and reach.unanswered == 1


async def test_risk_words_through_the_webhook_open_an_incident(
    webhook: httpx.AsyncClient,  # noqa: F811
    store: Store,
    live_clock: FakeClock,  # noqa: F811
) -> None:
    raw = outcome(live_clock, result="ANSWERED", riskWords=["아프다"], mood="low")
    response = await webhook.post("/ingest/calls", content=raw, headers=signed(raw, live_clock))

    assert response.status_code == 202 and response.json()["state"] == "OK"
    query = {"person_id": demo_ids().seizure_person, "summary": "Risk words in a wellness call."}
    assert await store.db["incidents"].count_documents(query) == 1


async def test_a_bad_or_unsigned_outcome_is_refused_and_stores_nothing(
    webhook: httpx.AsyncClient,  # noqa: F811
    store: Store,
    live_clock: FakeClock,  # noqa: F811
) -> None:
    raw = outcome(live_clock)
    forged = signed(raw, live_clock, secret="not-the-secret-0123456789abcdefghij")
    stale = signed_headers(demo_ids().ai_service, DEMO_WEBHOOK_SECRET, raw, at=int(live_clock.now().timestamp()) - 600)
    machine = outcome(live_clock, result="VOICEMAIL")
    nobody = json.dumps({**json.loads(raw), "personRef": "WC-9999"}).encode()

    assert (await webhook.post("/ingest/calls", content=raw, headers=forged)).status_code == 401
    assert (await webhook.post("/ingest/calls", content=raw, headers=stale)).status_code == 401
    bad = await webhook.post("/ingest/calls", content=machine, headers=signed(machine, live_clock))
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "outcome"
    unknown = await webhook.post("/ingest/calls", content=nobody, headers=signed(nobody, live_clock))
    assert unknown.status_code == 422
    assert await contacts(store) == 0


async def test_a_provider_that_cannot_sign_posts_to_its_agencys_unguessable_callback_url(
    webhook: httpx.AsyncClient,  # noqa: F811
    store: Store,
    live_clock: FakeClock,  # noqa: F811
) -> None:
    ports = Ports(store=store, clock=live_clock, claims=RecordingClaims(), tokens=RefusingTokens())
    coordinator = await store.users.get(demo_ids().coordinator)
    assert coordinator is not None
    token = await issue_callback_token(ports, coordinator.principal(), demo_ids().ai_service)
    raw = outcome(live_clock, attempt=2)

    accepted = await webhook.post(f"/callbacks/calls/{token}", content=raw)
    guessed = await webhook.post(f"/callbacks/calls/{token[:-2]}xx", content=outcome(live_clock, attempt=3))

    assert accepted.status_code == 202, accepted.text
    assert guessed.status_code == 401
    assert await contacts(store) == 1
    settings = await store.db["reachability_settings"].find_one({"_id": demo_ids().agency})
    assert settings is not None and token not in json.dumps(settings, default=str)  # only its hash is stored

    newer = await issue_callback_token(ports, coordinator.principal(), demo_ids().ai_service)
    replaced = await webhook.post(f"/callbacks/calls/{token}", content=outcome(live_clock, attempt=4))
    assert newer != token and replaced.status_code == 401


async def test_signs_of_life_come_in_signed_batches_with_a_result_each(
    webhook: httpx.AsyncClient,  # noqa: F811
    store: Store,
    live_clock: FakeClock,  # noqa: F811
) -> None:
    ref = demo_ids().seizure_person_wellness_ref
    at = (live_clock.now() - timedelta(minutes=3)).isoformat()
    signs = [
        {"personRef": ref, "kind": "PHONE_USED", "at": at, "sourceId": "p-1"},
        {"personRef": ref, "kind": "DOOR", "at": at, "sourceId": "d-1"},
        {"personRef": "WC-9999", "kind": "DOOR", "at": at},
        {"personRef": ref, "kind": "DANCING", "at": at},
    ]
    raw = json.dumps({"signs": signs}).encode()
    response = await webhook.post("/ingest/signs", content=raw, headers=signed(raw, live_clock))

    assert response.status_code == 202, response.text
    results = response.json()["results"]
    assert [r.get("state") for r in results] == ["OK", "OK", None, None]
    assert results[2]["error"]["field"] == "personRef" and results[3]["error"]["field"] == "kind"
    reach = await store.reachability.get(demo_ids().seizure_person)
    assert reach is not None and reach.last_sign_at is not None
