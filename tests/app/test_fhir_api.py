"""/fhir/R4 over HTTP with real Auth emulator tokens: metadata, read, search with paging, and who may use it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fhir.resources.R4B import get_fhir_model_class

from carecore.access.principal import Role
from carecore.agencies.models import Agency
from carecore.fhir import codes
from carecore.fhir.capability import SERVED
from carecore.health.models import Component, Metric, Modality, Reading
from carecore.health.service import record_observation
from carecore.ids import new_id
from carecore.incidents.ingestion import report_incident
from carecore.incidents.models import HumanReport, IncidentType
from carecore.people.models import ExternalRef, Person
from carecore.ports import Ports
from carecore.storage.store import Store
from carecore.users.service import principal_for
from tests.app.conftest import MakeAccount
from tests.support import ALL_PERMISSIONS, FakeClock, link, person, put_active_plan

FHIR_JSON = "application/fhir+json"


@dataclass
class FhirScene:
    agency: Agency
    minji: Person
    tokens: dict[str, str]  # role name -> ID token

    @property
    def ref_system(self) -> str:
        return codes.external_ref_system(self.agency.id, "wellness-call")


@pytest.fixture
async def scene(store: Store, ports: Ports, clock: FakeClock, make_account: MakeAccount) -> FhirScene:
    now = clock.now()
    agency, other = Agency(id=new_id(), name="경기 함께돌봄 센터"), Agency(id=new_id(), name="다른 기관")
    for a in (agency, other):
        await store.agencies.upsert(a)
    coordinator, coordinator_token = await make_account(Role.COORDINATOR, agency.id, "김지현")
    caregiver, caregiver_token = await make_account(Role.CAREGIVER, agency.id, "박서준")
    guardian, guardian_token = await make_account(Role.FAMILY, agency.id, "최영희")
    _, ai_token = await make_account(Role.AI_SERVICE, agency.id, "안부전화 AI")
    _, other_token = await make_account(Role.COORDINATOR, other.id, "한지민")
    minji = person(agency.id, "최민지", now=now, external_refs=(ExternalRef("wellness-call", "WC-0001"),))
    await store.people.insert(minji)
    await store.people.set_care_team(minji.id, [caregiver.id], now)
    await link(store, minji, guardian, ALL_PERMISSIONS, now)
    await put_active_plan(store, minji, coordinator, now)
    minji = await store.people.get(minji.id) or minji
    await put_active_plan(store, minji, coordinator, now)  # v2 supersedes v1
    actor = await principal_for(ports, coordinator)
    for minutes in range(5):
        at = now - timedelta(days=minutes)
        bp = (Component("8480-6", 120 + minutes), Component("8462-4", 80))
        hr = (Component("8867-4", 70 + minutes),)
        for metric, values, unit in ((Metric.BLOOD_PRESSURE, bp, "mm[Hg]"), (Metric.HEART_RATE, hr, "/min")):
            await record_observation(ports, actor, Reading(minji.id, metric, values, unit, at, Modality.SENSED))
    await report_incident(ports, actor, HumanReport(minji.id, IncidentType.FALL, "욕실에서 넘어짐"))
    tokens = {
        "coordinator": coordinator_token,
        "caregiver_on_team": caregiver_token,
        "guardian": guardian_token,
        "ai_service": ai_token,
        "other_agency_coordinator": other_token,
    }
    return FhirScene(agency, await store.people.get(minji.id) or minji, tokens)


async def get(http: httpx.AsyncClient, url: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await http.get(url, headers=headers)


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
    served = {r["type"]: {i["code"] for i in r["interaction"]} for r in body["rest"][0]["resource"]}
    assert served == {s.type: set(s.interactions) for s in SERVED}


async def test_a_coordinator_reads_a_patient_and_finds_them_by_the_agencys_reference(
    http: httpx.AsyncClient, scene: FhirScene, store: Store
) -> None:
    token = scene.tokens["coordinator"]

    read = await get(http, f"/fhir/R4/Patient/{scene.minji.id}", token)
    found = await get(http, f"/fhir/R4/Patient?identifier={scene.ref_system}|WC-0001", token)
    none = await get(http, f"/fhir/R4/Patient?identifier={scene.ref_system}|WC-9999", token)

    assert read.status_code == 200 and read.json()["resourceType"] == "Patient"
    assert {"system": scene.ref_system, "value": "WC-0001", "use": "secondary"} in read.json()["identifier"]
    assert bundle_ids(found) == [scene.minji.id] and bundle_ids(none) == []
    assert await store.db["audit"].count_documents({"action": "person.read", "object_id": scene.minji.id}) == 2


async def test_observation_search_pages_with_next_links_and_filters_by_code_and_date(
    http: httpx.AsyncClient, scene: FhirScene, clock: FakeClock
) -> None:
    token = scene.tokens["coordinator"]
    url: str | None = f"/fhir/R4/Observation?patient={scene.minji.id}&code=http://loinc.org|85354-9&_count=2"
    seen: list[str] = []
    while url is not None:
        response = await get(http, url, token)
        seen += bundle_ids(response)
        url = next((link["url"] for link in response.json()["link"] if link["relation"] == "next"), None)
    day = (clock.now() - timedelta(days=2)).date().isoformat()
    on_day = await get(http, f"/fhir/R4/Observation?patient=Patient/{scene.minji.id}&date={day}", token)
    since = await get(http, f"/fhir/R4/Observation?patient={scene.minji.id}&date=ge{day}&code=8867-4", token)

    assert len(seen) == len(set(seen)) == 5
    assert [r["resource"]["effectiveDateTime"][:10] for r in on_day.json()["entry"]] == [day, day]
    assert [r["resource"]["valueQuantity"]["value"] for r in since.json()["entry"]] == [70, 71, 72]


async def test_care_plan_and_task_searches_filter_by_status(http: httpx.AsyncClient, scene: FhirScene) -> None:
    token, pid = scene.tokens["coordinator"], scene.minji.id

    active = await get(http, f"/fhir/R4/CarePlan?patient={pid}&status=active", token)
    every = await get(http, f"/fhir/R4/CarePlan?patient={pid}", token)
    tasks = await get(http, f"/fhir/R4/Task?patient={pid}&status=ready", token)
    done = await get(http, f"/fhir/R4/Task?patient={pid}&status=completed", token)

    assert bundle_ids(active) == [scene.minji.active_care_plan_id]
    plans = every.json()["entry"]
    assert [p["resource"]["status"] for p in plans] == ["active", "revoked"]
    assert plans[0]["resource"]["replaces"] == [{"reference": f"CarePlan/{plans[1]['resource']['id']}"}]
    assert len(bundle_ids(tasks)) == 1 and bundle_ids(done) == []


@pytest.mark.parametrize(
    "query",
    ["/Patient?name=x", "/Observation?patient={pid}&code=1234-5", "/Task?patient={pid}&status=nope", "/Observation"],
)
async def test_bad_parameters_answer_400_operation_outcomes(
    http: httpx.AsyncClient, scene: FhirScene, query: str
) -> None:
    response = await get(http, "/fhir/R4" + query.format(pid=scene.minji.id), scene.tokens["coordinator"])

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
    http: httpx.AsyncClient, scene: FhirScene, role: str
) -> None:
    for url in routes(scene):
        response = await get(http, url, scene.tokens.get(role))

        assert response.status_code == EXPECTED[role], (url, response.text)
        body: dict[str, Any] = response.json()
        if EXPECTED[role] != 200:
            assert body["resourceType"] == "OperationOutcome", url
            get_fhir_model_class("OperationOutcome").model_validate(body)
        else:
            assert body["resourceType"] == "Patient" or body["entry"], url
