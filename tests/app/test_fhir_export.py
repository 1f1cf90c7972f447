"""Bulk Data export over HTTP: kick-off, polling with X-Progress, the manifest, the NDJSON files, cancel,
and that only the coordinator who asked sees any of it."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
from fhir.resources.R4B import get_fhir_model_class

from carecore.clock import SystemClock
from carecore.fhir.export import clean_up_exports, run_exports
from carecore.ports import Ports
from carecore.storage.fhir_exports import BUCKET
from carecore.storage.store import Store
from tests.app.fhir_scene import FhirScene, get
from tests.support import FakeClock, RecordingClaims, RefusingTokens

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


def worker(store: Store, clock: SystemClock | FakeClock | None = None) -> Ports:
    """Another instance on the same database, on the app's clock (the app under test runs on real time)."""
    return Ports(store=store, clock=clock or SystemClock(), claims=RecordingClaims(), tokens=RefusingTokens())


async def kick_off(http: httpx.AsyncClient, scene: FhirScene, token: str, query: str = "") -> httpx.Response:
    url = f"/fhir/R4/Group/{scene.agency.id}/$export{query}"
    return await http.get(url, headers={**ASYNC, "Authorization": f"Bearer {token}"})


def status_path(response: httpx.Response) -> str:
    assert response.status_code == 202, response.text
    return httpx.URL(response.headers["content-location"]).path


async def test_an_export_runs_in_the_background_and_its_manifest_lists_one_ndjson_file_per_type(
    http: httpx.AsyncClient, fhir_scene: FhirScene, store: Store
) -> None:
    token = fhir_scene.tokens["coordinator"]
    kicked = await kick_off(http, fhir_scene, token, "?_type=Patient,Observation,Task")
    status = status_path(kicked)

    waiting = await get(http, status, token)
    await run_exports(worker(store), "worker-1")
    done = await get(http, status, token)

    assert waiting.status_code == 202 and waiting.headers["x-progress"] == "0/3 files"
    assert done.status_code == 200 and done.headers["content-type"].startswith("application/json")
    manifest = done.json()
    assert manifest["requiresAccessToken"] is True and manifest["error"] == []
    counts = {o["type"]: o["count"] for o in manifest["output"]}
    assert counts == {"Patient": 1, "Observation": 10, "Task": 1}
    for output in manifest["output"]:
        file = await get(http, httpx.URL(output["url"]).path, token)
        assert file.status_code == 200 and file.headers["content-type"].startswith("application/fhir+ndjson")
        lines = file.content.splitlines()
        assert len(lines) == output["count"]
        model = get_fhir_model_class(output["type"])
        assert all(model.model_validate(json.loads(line)) for line in lines)
    actions = await store.db["audit"].distinct("action", {"action": {"$regex": "^fhir"}})
    assert sorted(actions) == ["fhir.export", "fhir.export.download"]


async def test_since_narrows_the_export_to_what_changed_after_it(
    http: httpx.AsyncClient, fhir_scene: FhirScene, store: Store
) -> None:
    token = fhir_scene.tokens["coordinator"]
    status = status_path(await kick_off(http, fhir_scene, token, "?_type=Observation&_since=2099-01-01T00:00:00Z"))
    await run_exports(worker(store), "worker-1")

    manifest = (await get(http, status, token)).json()

    assert manifest["output"] == [{"type": "Observation", "url": manifest["output"][0]["url"], "count": 0}]


async def test_nobody_but_the_requester_polls_downloads_or_cancels_and_the_rest_are_refused(
    http: httpx.AsyncClient, fhir_scene: FhirScene, store: Store
) -> None:
    token = fhir_scene.tokens["coordinator"]
    status = status_path(await kick_off(http, fhir_scene, token, "?_type=Patient"))
    await run_exports(worker(store), "worker-1")
    file_url = httpx.URL((await get(http, status, token)).json()["output"][0]["url"]).path

    for role, expected in {"other_coordinator": 404, "other_agency_coordinator": 404, "caregiver_on_team": 404}.items():
        for url in (status, file_url):
            refused = await get(http, url, fhir_scene.tokens[role])
            assert refused.status_code == expected and refused.json()["resourceType"] == "OperationOutcome", role
    for role, expected in {"caregiver_on_team": 403, "guardian": 403, "ai_service": 403}.items():
        kicked = await kick_off(http, fhir_scene, fhir_scene.tokens[role])
        assert kicked.status_code == expected and kicked.json()["resourceType"] == "OperationOutcome", role
    other_agency = await kick_off(http, fhir_scene, fhir_scene.tokens["other_agency_coordinator"])
    assert other_agency.status_code == 404
    anonymous = await http.get(f"/fhir/R4/Group/{fhir_scene.agency.id}/$export", headers=ASYNC)
    assert anonymous.status_code == 401
    without_prefer = await http.get(
        f"/fhir/R4/Group/{fhir_scene.agency.id}/$export", headers={"Authorization": f"Bearer {token}"}
    )
    assert without_prefer.status_code == 400 and without_prefer.json()["resourceType"] == "OperationOutcome"


async def test_a_cancelled_export_is_gone_at_once_and_its_files_with_the_next_clean_up(
    http: httpx.AsyncClient, fhir_scene: FhirScene, store: Store
) -> None:
    token = fhir_scene.tokens["coordinator"]
    status = status_path(await kick_off(http, fhir_scene, token, "?_type=Patient,Observation"))
    await run_exports(worker(store), "worker-1")

    cancelled = await http.delete(status, headers={"Authorization": f"Bearer {token}"})
    after = await get(http, status, token)
    later = FakeClock(SystemClock().now() + timedelta(minutes=3))
    await clean_up_exports(worker(store, later), "worker-1")

    assert cancelled.status_code == 202 and after.status_code == 404
    assert await store.db["fhir_exports"].count_documents({}) == 0
    assert await store.db[f"{BUCKET}.chunks"].count_documents({}) == 0
    assert await store.db[f"{BUCKET}.files"].count_documents({}) == 0
