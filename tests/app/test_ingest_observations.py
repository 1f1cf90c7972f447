"""POST /ingest/observations: signed batches of readings, one result per reading, resends harmless."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx

from carecore.storage.store import Store
from fixtures.demo import demo_ids
from tests.app.test_ingest_flags import live_clock, signed, webhook  # noqa: F401 - fixtures shared with flags
from tests.support import FakeClock


def bp(ref: str, at: str, systolic: float, diastolic: float, point: str) -> dict[str, Any]:
    values = [{"code": "8480-6", "value": systolic}, {"code": "8462-4", "value": diastolic}]
    return {
        "personRef": ref,
        "code": "85354-9",
        "unit": "mm[Hg]",
        "effectiveAt": at,
        "values": values,
        "deviceId": "cuff-0042",
        "sourceDataPointId": point,
    }


async def test_a_batch_answers_each_reading_and_a_confirmed_crisis_opens_one_critical_incident(
    webhook: httpx.AsyncClient,  # noqa: F811
    store: Store,
    live_clock: FakeClock,  # noqa: F811
) -> None:
    now = live_clock.now()
    ref = demo_ids().seizure_person_wellness_ref
    readings = [
        bp(ref, (now - timedelta(minutes=6)).isoformat(), 188, 112, "r-1"),
        bp(ref, (now - timedelta(minutes=1)).isoformat(), 191, 115, "r-2"),
        bp(ref, now.isoformat(), 330, 90, "r-3"),
        {**bp("WC-9999", now.isoformat(), 120, 80, "r-4")},
        {"personRef": ref, "code": "8867-4", "unit": "/min", "effectiveAt": now.isoformat(), "value": "fast"},
        {"personRef": ref, "code": "8867-4", "unit": "/min", "effectiveAt": now.isoformat(), "value": 72},
    ]
    raw = json.dumps({"readings": readings}).encode()

    response = await webhook.post("/ingest/observations", content=raw, headers=signed(raw, live_clock))

    assert response.status_code == 202, response.text
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["RECORDED", "RECORDED", "REJECTED", "INVALID", "INVALID", "RECORDED"]
    assert results[2]["reason"] == "IMPLAUSIBLE" and results[4]["error"]["field"] == "value"
    [incident_id] = set(results[0]["incidentIds"]) | set(results[1]["incidentIds"])
    incident = await store.incidents.get(incident_id)
    assert incident is not None and incident.severity == "CRITICAL" and incident.person_id == demo_ids().seizure_person

    again = await webhook.post("/ingest/observations", content=raw, headers=signed(raw, live_clock))

    assert [r["outcome"] for r in again.json()["results"]] == ["DUPLICATE"] * 3 + ["INVALID"] * 2 + ["DUPLICATE"]
    minji = demo_ids().seizure_person  # the demo's own readings are of two other people
    assert await store.db["observations"].count_documents({"person_id": minji}) == 4
    assert (
        await store.db["incidents"].count_documents({"detection.service": "carecore-health", "person_id": minji}) == 1
    )


async def test_an_unsigned_or_oversized_batch_is_refused_and_stores_nothing(
    webhook: httpx.AsyncClient,  # noqa: F811
    store: Store,
    live_clock: FakeClock,  # noqa: F811
) -> None:
    ref = demo_ids().seizure_person_wellness_ref
    one = json.dumps({"readings": [bp(ref, live_clock.now().isoformat(), 120, 80, "x")]}).encode()
    forged = signed(one, live_clock, secret="not-the-secret-0123456789abcdefghij")
    many = json.dumps({"readings": [bp(ref, live_clock.now().isoformat(), 120, 80, str(i)) for i in range(1001)]})

    unsigned = await webhook.post("/ingest/observations", content=one, headers=forged)
    too_many = await webhook.post("/ingest/observations", content=many, headers=signed(many.encode(), live_clock))

    assert unsigned.status_code == 401 and too_many.status_code == 400
    assert "1000" in too_many.json()["error"]["message"]
    assert await store.db["observations"].count_documents({"person_id": demo_ids().seizure_person}) == 0
