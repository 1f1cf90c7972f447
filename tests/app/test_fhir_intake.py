"""Device gateways POST vital-sign Observations (one, or a transaction Bundle) into the health-check core:
same quality gate, idempotency by Observation.identifier, detection once per reading; all or nothing."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fhir.resources.R4B import get_fhir_model_class

from carecore.fhir import codes
from carecore.health import detection
from carecore.storage.store import Store
from fixtures.demo import DEMO_AGENCY_ID, demo_ids
from tests.app.test_ingest_flags import live_clock, signed, webhook  # noqa: F401 - fixtures shared with flags
from tests.support import FakeClock

GATEWAY_SYSTEM = "urn:example:gateway-07"
SUBJECT_SYSTEM = codes.external_ref_system(DEMO_AGENCY_ID, "wellness-call")


def heart_rate(at: datetime, value: float, point: str, *, ref: str = "WC-0001") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "identifier": [{"system": GATEWAY_SYSTEM, "value": point}],
        "status": "final",
        "category": [{"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": "vital-signs"}]}],
        "code": {"coding": [{"system": codes.LOINC, "code": "8867-4"}]},
        "subject": {"identifier": {"system": SUBJECT_SYSTEM, "value": ref}},
        "effectiveDateTime": at.isoformat(),
        "device": {"display": "watch-0042"},
        "valueQuantity": {"value": value, "unit": "/min", "system": codes.UCUM, "code": "/min"},
    }


def blood_pressure(at: datetime, systolic: float, diastolic: float, point: str, unit: str = "mm[Hg]") -> dict[str, Any]:
    def component(code: str, value: float) -> dict[str, Any]:
        quantity = {"value": value, "unit": unit, "system": codes.UCUM, "code": unit}
        return {"code": {"coding": [{"system": codes.LOINC, "code": code}]}, "valueQuantity": quantity}

    return {
        "resourceType": "Observation",
        "identifier": [{"system": GATEWAY_SYSTEM, "value": point}],
        "status": "final",
        "code": {"coding": [{"system": codes.LOINC, "code": "85354-9"}]},
        "subject": {"identifier": {"system": SUBJECT_SYSTEM, "value": "WC-0001"}},
        "effectiveDateTime": at.isoformat(),
        "component": [component("8480-6", systolic), component("8462-4", diastolic)],
    }


def transaction(resources: list[dict[str, Any]]) -> dict[str, Any]:
    entries = [{"resource": r, "request": {"method": "POST", "url": "Observation"}} for r in resources]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


async def gateway_readings(store: Store) -> list[dict[str, Any]]:
    """The readings this gateway sent (the demo agency has 60 days of its own)."""
    return await store.db["observations"].find({"device_id": {"$in": ["watch-0042", "wellness-call"]}}).to_list()


async def post(client: httpx.AsyncClient, path: str, body: dict[str, Any], clock: FakeClock) -> httpx.Response:
    raw = json.dumps(body).encode()
    return await client.post(path, content=raw, headers=signed(raw, clock))


@pytest.fixture
def detections(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times the real detection ran for each reading."""
    seen: Counter[str] = Counter()
    real = detection.detect

    def counting(history: Any, observation: Any, subject: Any) -> Any:
        seen[observation.id] += 1
        return real(history, observation, subject)

    monkeypatch.setattr(detection, "detect", counting)
    return seen


async def test_a_bundle_of_100_sent_twice_stores_100_readings_and_runs_detection_once_per_reading(
    webhook: httpx.AsyncClient,  # noqa: F811
    store: Store,
    live_clock: FakeClock,  # noqa: F811
    detections: Counter[str],
) -> None:
    now = live_clock.now()
    bundle = transaction([heart_rate(now - timedelta(minutes=5 * i), 60 + i % 20, f"hr-{i}") for i in range(100)])

    first = await post(webhook, "/fhir/R4", bundle, live_clock)
    again = await post(webhook, "/fhir/R4", bundle, live_clock)

    assert first.status_code == 200 and again.status_code == 200, first.text
    get_fhir_model_class("Bundle").model_validate(first.json())
    assert [e["response"]["status"] for e in first.json()["entry"]] == ["201 Created"] * 100
    assert [e["response"]["status"] for e in again.json()["entry"]] == ["200 OK"] * 100
    assert [e["response"]["location"] for e in again.json()["entry"]] == [
        e["response"]["location"] for e in first.json()["entry"]
    ]
    assert len(await gateway_readings(store)) == 100
    assert len(detections) == 100 and set(detections.values()) == {1}


async def test_one_observation_is_created_then_found_again_and_a_crisis_opens_an_incident(
    webhook: httpx.AsyncClient,  # noqa: F811
    store: Store,
    live_clock: FakeClock,  # noqa: F811
) -> None:
    resource = blood_pressure(live_clock.now(), 186, 112, "bp-1")

    created = await post(webhook, "/fhir/R4/Observation", resource, live_clock)
    resent = await post(webhook, "/fhir/R4/Observation", resource, live_clock)

    assert created.status_code == 201 and resent.status_code == 200, created.text
    body = created.json()
    get_fhir_model_class("Observation").model_validate(body)
    assert created.headers["location"].endswith(f"/fhir/R4/Observation/{body['id']}")
    assert body["subject"] == {"reference": f"Patient/{demo_ids().seizure_person}"}
    [stored] = await gateway_readings(store)
    assert stored["status"] == "ACCEPTED" and len(stored["incident_ids"]) == 1


async def test_the_quality_gate_keeps_a_reading_in_a_wrong_unit_and_says_why(
    webhook: httpx.AsyncClient,  # noqa: F811
    store: Store,
    live_clock: FakeClock,  # noqa: F811
) -> None:
    bundle = transaction([blood_pressure(live_clock.now(), 16, 11, "bp-kpa", unit="kPa")])

    response = await post(webhook, "/fhir/R4", bundle, live_clock)

    [entry] = response.json()["entry"]
    assert entry["response"]["status"] == "201 Created"
    assert entry["response"]["outcome"]["issue"][0]["severity"] == "warning"
    [stored] = await gateway_readings(store)
    assert stored["status"] == "REJECTED" and stored["rejection"]["reason"] == "UNIT"


def _without(resource: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k != key}


@pytest.mark.parametrize(
    "break_one",
    [
        lambda r: heart_rate(datetime.fromisoformat(r["effectiveDateTime"]), 70, "x", ref="WC-9999"),
        lambda r: _without(r, "code"),
        lambda r: _without(r, "subject"),
        lambda r: {**r, "status": "preliminary"},
        lambda r: {**r, "effectiveDateTime": "2026-12-02T10:00:00"},
        lambda r: {**r, "valueQuantity": {"value": "fast", "system": codes.UCUM, "code": "/min"}},
        lambda r: {**r, "subject": {"identifier": {"system": "urn:other", "value": "WC-0001"}}},
        lambda r: {**r, "resourceType": "Patient"},
    ],
    ids=["unknown person", "no code", "no subject", "status", "no zone", "not a number", "other system", "type"],
)
async def test_one_invalid_entry_refuses_the_whole_transaction_and_stores_nothing(
    webhook: httpx.AsyncClient,  # noqa: F811
    store: Store,
    live_clock: FakeClock,  # noqa: F811
    break_one: Any,
) -> None:
    now = live_clock.now()
    resources = [heart_rate(now - timedelta(minutes=i), 70, f"hr-{i}") for i in range(3)]
    resources[1] = break_one(resources[1])

    response = await post(webhook, "/fhir/R4", transaction(resources), live_clock)

    assert response.status_code == 400, response.text
    outcome = response.json()
    get_fhir_model_class("OperationOutcome").model_validate(outcome)
    assert "entry[1]" in outcome["issue"][0]["expression"][0]
    assert await gateway_readings(store) == []


async def test_an_unsigned_or_badly_signed_observation_is_refused(
    webhook: httpx.AsyncClient,  # noqa: F811
    live_clock: FakeClock,  # noqa: F811
) -> None:
    raw = json.dumps(heart_rate(live_clock.now(), 70, "hr-1")).encode()

    unsigned = await webhook.post("/fhir/R4/Observation", content=raw)
    forged = await webhook.post("/fhir/R4/Observation", content=raw, headers=signed(raw, live_clock, secret="x" * 40))

    assert unsigned.status_code == forged.status_code == 401
    assert unsigned.json()["resourceType"] == "OperationOutcome"
