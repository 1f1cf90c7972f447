"""/fhir/R4 over HTTP with real Auth emulator tokens: metadata, read, search with paging, and who may use it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fhir.resources.R4B import get_fhir_model_class
from starlette.routing import Route

from app.server import build_app
from app.settings import Settings
from carecore.fhir.capability import SERVED
from carecore.storage.store import Store
from tests.app.fhir_scene import FHIR_JSON, FhirScene, get
from tests.support import FakeClock


def bundle_ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    body = response.json()
    get_fhir_model_class("Bundle").model_validate(body)
    return [e["resource"]["id"] for e in body["entry"]]


async def test_metadata_is_a_capability_statement_of_exactly_what_is_served(http: httpx.AsyncClient) -> None:
    response = await http.get("/fhir/R4/metadata")

    assert response.status_code == 200 and response.headers["content-type"].startswith(FHIR_JSON)
    body = response.json()
    get_fhir_model_class("CapabilityStatement").model_validate(body)
    assert body["fhirVersion"] == "4.0.1"
    resources = body["rest"][0]["resource"]
    served = {
        r["type"]: {i["code"] for i in r["interaction"]} | {o["name"] for o in r.get("operation", [])}
        for r in resources
    }
    assert served == {
        "Patient": {"read", "search-type"},
        "Observation": {"search-type", "create"},
        "CarePlan": {"search-type"},
        "Task": {"search-type"},
        "Group": {"export"},
    }
    assert served == {s.type: set(s.interactions) | {name for name, _ in s.operations} for s in SERVED}
    assert [i["code"] for i in body["rest"][0]["interaction"]] == ["transaction"]


async def test_a_coordinator_reads_a_patient_and_finds_them_by_the_agencys_reference(
    http: httpx.AsyncClient, fhir_scene: FhirScene, store: Store
) -> None:
    token = fhir_scene.tokens["coordinator"]

    read = await get(http, f"/fhir/R4/Patient/{fhir_scene.minji.id}", token)
    found = await get(http, f"/fhir/R4/Patient?identifier={fhir_scene.ref_system}|WC-0001", token)
    none = await get(http, f"/fhir/R4/Patient?identifier={fhir_scene.ref_system}|WC-9999", token)

    assert read.status_code == 200 and read.json()["resourceType"] == "Patient"
    assert {"system": fhir_scene.ref_system, "value": "WC-0001", "use": "secondary"} in read.json()["identifier"]
    assert bundle_ids(found) == [fhir_scene.minji.id] and bundle_ids(none) == []
    assert await store.db["audit"].count_documents({"action": "person.read", "object_id": fhir_scene.minji.id}) == 2


async def test_observation_search_pages_with_next_links_and_filters_by_code_and_date(
    http: httpx.AsyncClient, fhir_scene: FhirScene, clock: FakeClock
) -> None:
    token = fhir_scene.tokens["coordinator"]
    url: str | None = f"/fhir/R4/Observation?patient={fhir_scene.minji.id}&code=http://loinc.org|85354-9&_count=2"
    seen: list[str] = []
    while url is not None:
        response = await get(http, url, token)
        seen += bundle_ids(response)
        url = next((link["url"] for link in response.json()["link"] if link["relation"] == "next"), None)
    day = (clock.now() - timedelta(days=2)).date().isoformat()
    on_day = await get(http, f"/fhir/R4/Observation?patient=Patient/{fhir_scene.minji.id}&date={day}", token)
    since = await get(http, f"/fhir/R4/Observation?patient={fhir_scene.minji.id}&date=ge{day}&code=8867-4", token)

    assert len(seen) == len(set(seen)) == 5
    assert [r["resource"]["effectiveDateTime"][:10] for r in on_day.json()["entry"]] == [day, day]
    assert [r["resource"]["valueQuantity"]["value"] for r in since.json()["entry"]] == [70, 71, 72]


async def test_care_plan_and_task_searches_filter_by_status(http: httpx.AsyncClient, fhir_scene: FhirScene) -> None:
    token, pid = fhir_scene.tokens["coordinator"], fhir_scene.minji.id

    active = await get(http, f"/fhir/R4/CarePlan?patient={pid}&status=active", token)
    every = await get(http, f"/fhir/R4/CarePlan?patient={pid}", token)
    tasks = await get(http, f"/fhir/R4/Task?patient={pid}&status=ready", token)
    done = await get(http, f"/fhir/R4/Task?patient={pid}&status=completed", token)

    assert bundle_ids(active) == [fhir_scene.minji.active_care_plan_id]
    plans = every.json()["entry"]
    assert [p["resource"]["status"] for p in plans] == ["active", "revoked"]
    assert plans[0]["resource"]["replaces"] == [{"reference": f"CarePlan/{plans[1]['resource']['id']}"}]
    assert len(bundle_ids(tasks)) == 1 and bundle_ids(done) == []


@pytest.mark.parametrize(
    "query",
    ["/Patient?name=x", "/Observation?patient={pid}&code=1234-5", "/Task?patient={pid}&status=nope", "/Observation"],
)
async def test_bad_parameters_answer_400_operation_outcomes(
    http: httpx.AsyncClient, fhir_scene: FhirScene, query: str
) -> None:
    response = await get(http, "/fhir/R4" + query.format(pid=fhir_scene.minji.id), fhir_scene.tokens["coordinator"])

    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


def routes(scene: FhirScene) -> list[str]:
    pid = scene.minji.id
    return [
        f"/fhir/R4/Patient/{pid}",
        f"/fhir/R4/Patient?identifier={scene.ref_system}|WC-0001",
        f"/fhir/R4/Observation?patient={pid}",
        f"/fhir/R4/CarePlan?patient={pid}",
        f"/fhir/R4/Task?patient={pid}",
    ]


EXPECTED = {
    "coordinator": 200,
    "caregiver_on_team": 403,
    "guardian": 403,
    "ai_service": 403,
    "other_agency_coordinator": 404,
    "anonymous": 401,
}


@pytest.mark.parametrize("role", EXPECTED)
async def test_only_the_agencys_coordinators_use_fhir_everyone_else_gets_an_operation_outcome(
    http: httpx.AsyncClient, fhir_scene: FhirScene, role: str
) -> None:
    for url in routes(fhir_scene):
        response = await get(http, url, fhir_scene.tokens.get(role))

        assert response.status_code == EXPECTED[role], (url, response.text)
        body: dict[str, Any] = response.json()
        if EXPECTED[role] != 200:
            assert body["resourceType"] == "OperationOutcome", url
            get_fhir_model_class("OperationOutcome").model_validate(body)
        else:
            assert body["resourceType"] == "Patient" or body["entry"], url


# Where each FHIR route's refusals are proved, role by role (the read and search routes above).
COVERED = {
    "/fhir/R4/metadata": "public, as FHIR servers publish their capabilities",
    "/fhir/R4/Patient": "routes() above",
    "/fhir/R4/Patient/{id}": "routes() above",
    "/fhir/R4/Observation": "routes() above (GET); tests/app/test_fhir_intake.py (POST, signed services only)",
    "/fhir/R4/CarePlan": "routes() above",
    "/fhir/R4/Task": "routes() above",
    "/fhir/R4": "tests/app/test_fhir_intake.py (transactions, signed services only)",
    "/fhir/R4/Group/{agency}/$export": "tests/app/test_fhir_export.py, every role",
    "/fhir/R4/bulk/{id}": "tests/app/test_fhir_export.py, the requester only",
    "/fhir/R4/bulk/{id}/{file}.ndjson": "tests/app/test_fhir_export.py, the requester only",
}


def test_every_fhir_route_is_in_the_authorization_tests(settings: Settings) -> None:
    paths = {r.path for r in build_app(settings).routes if isinstance(r, Route) and r.path.startswith("/fhir/")}

    assert paths == set(COVERED)
