"""Trusted documents over HTTP: with the mode on, only documents registered by SHA-256 run, named in the
request shape of Apollo's persisted queries, by GET or POST; with it off, everything runs as before.
Also the query-cost refusal as HTTP clients see it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli import main
from app.graphql_http import GRAPHQL_RESPONSE
from app.server import build_app
from app.settings import Settings
from app.trusted_documents import InvalidDocument, checked_directory, document_hash, register
from carecore.storage.store import Store
from schema.build import build_schema
from tests.app.servers import serving, subscribe
from tests.support import FakeClock

OPERATIONS = Path(__file__).resolve().parents[2] / "schema" / "operations"
INBOX = (OPERATIONS / "Inbox.graphql").read_text(encoding="utf-8")
UNKNOWN = "0" * 64


def persisted(sha: str, **payload: Any) -> dict[str, Any]:
    return {**payload, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}}


@pytest.fixture
async def trusted(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(dataclasses.replace(settings, trusted_documents=True))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://carecore.test") as client,
    ):
        yield client


@pytest.fixture
async def registered(store: Store, clock: FakeClock) -> None:
    await register(store, checked_directory(build_schema()._schema, OPERATIONS), at=clock.now())


def auth(token: str, accept: str = GRAPHQL_RESPONSE) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": accept}


@pytest.mark.usefixtures("registered")
async def test_a_registered_document_runs_by_its_hash_over_post_and_get(
    trusted: httpx.AsyncClient, coordinator_token: str
) -> None:
    sha = document_hash(INBOX)
    posted = await trusted.post(
        "/graphql", json=persisted(sha, variables={"first": 5}), headers=auth(coordinator_token)
    )
    extensions = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": sha}})
    got = await trusted.get("/graphql", params={"extensions": extensions}, headers=auth(coordinator_token))
    with_text = await trusted.post("/graphql", json=persisted(sha, query=INBOX), headers=auth(coordinator_token))

    for response in (posted, got, with_text):
        assert response.status_code == 200, response.text
        assert response.json() == {
            "data": {"notifications": {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}}
        }


@pytest.mark.usefixtures("registered")
async def test_an_unknown_hash_is_persisted_query_not_found_over_post_and_get(
    trusted: httpx.AsyncClient, coordinator_token: str
) -> None:
    posted = await trusted.post("/graphql", json=persisted(UNKNOWN), headers=auth(coordinator_token))
    extensions = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": "not-even-hex"}})
    got = await trusted.get(
        "/graphql", params={"extensions": extensions}, headers=auth(coordinator_token, "application/json")
    )

    assert posted.status_code == 400 and "data" not in posted.json()
    assert posted.json()["errors"][0]["extensions"] == {"code": "PERSISTED_QUERY_NOT_FOUND"}
    assert got.status_code == 200 and got.json()["errors"][0]["extensions"] == {"code": "PERSISTED_QUERY_NOT_FOUND"}


@pytest.mark.usefixtures("registered")
async def test_a_document_of_the_clients_own_does_not_run_in_trusted_mode(
    trusted: httpx.AsyncClient, coordinator_token: str, store: Store
) -> None:
    own = 'mutation { registerDevice(input: {installationId: "x", platform: ANDROID, locale: "ko"}) { __typename } }'
    plain = await trusted.post("/graphql", json={"query": own}, headers=auth(coordinator_token))
    swapped = await trusted.post(
        "/graphql", json=persisted(document_hash(INBOX), query=own), headers=auth(coordinator_token)
    )
    get = await trusted.get("/graphql", params={"query": "{ me { id } }"}, headers=auth(coordinator_token))

    assert plain.status_code == 400 and plain.json()["errors"][0]["extensions"] == {"code": "PERSISTED_QUERY_REQUIRED"}
    assert get.status_code == 400 and get.json()["errors"][0]["extensions"] == {"code": "PERSISTED_QUERY_REQUIRED"}
    assert swapped.status_code == 400 and swapped.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
    assert await store.db["devices"].count_documents({}) == 0


async def test_with_the_mode_off_documents_run_as_text_as_before(
    http: httpx.AsyncClient, coordinator_token: str
) -> None:
    ran = await http.post("/graphql", json={"query": "{ me { role } }"}, headers=auth(coordinator_token))
    hash_only = await http.post("/graphql", json=persisted(document_hash(INBOX)), headers=auth(coordinator_token))

    assert ran.status_code == 200 and ran.json() == {"data": {"me": {"role": "COORDINATOR"}}}
    assert hash_only.status_code == 400 and hash_only.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


@pytest.mark.usefixtures("registered")
async def test_over_websocket_too_only_registered_documents_run(settings: Settings, coordinator_token: str) -> None:
    app = build_app(dataclasses.replace(settings, trusted_documents=True))
    own = "subscription { incidentUpdates { id } }"
    sha = document_hash(INBOX)
    async with serving(app) as host:
        async with subscribe(host, coordinator_token, own) as sub:
            refused = await sub.next()
        async with subscribe(host, coordinator_token, "", extensions=persisted(UNKNOWN)["extensions"]) as sub:
            unknown = await sub.next()
        async with subscribe(host, coordinator_token, "", {"first": 5}, persisted(sha)["extensions"]) as sub:
            ran = await sub.next()

    assert refused["type"] == "error" and refused["payload"][0]["extensions"] == {"code": "PERSISTED_QUERY_REQUIRED"}
    assert unknown["type"] == "error" and unknown["payload"][0]["extensions"] == {"code": "PERSISTED_QUERY_NOT_FOUND"}
    assert ran["type"] == "next" and ran["payload"]["data"]["notifications"]["edges"] == [], ran


async def test_without_a_token_nothing_is_looked_up(trusted: httpx.AsyncClient) -> None:
    response = await trusted.post("/graphql", json=persisted(UNKNOWN))
    assert response.status_code == 401 and response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_the_cli_registers_a_directory_once_and_refuses_an_invalid_one_whole(
    settings: Settings,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CARECORE_ENV", "test")
    monkeypatch.setenv("MONGODB_URI", settings.mongodb_uri)
    monkeypatch.setenv("CARECORE_DATABASE", settings.database)
    await asyncio.to_thread(main, ["register-documents", str(OPERATIONS)])
    await asyncio.to_thread(main, ["register-documents", str(OPERATIONS)])
    printed = capsys.readouterr().out

    count = len(list(OPERATIONS.glob("*.graphql")))
    assert f"{count} new of {count} document(s)" in printed and f"0 new of {count} document(s)" in printed
    assert await store.trusted_documents.get(document_hash(INBOX)) == INBOX

    (tmp_path / "Good.graphql").write_text("query Good { me { id } }", encoding="utf-8")
    (tmp_path / "Bad.graphql").write_text("query Bad { me { noSuchField } }", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"Nothing registered: .*Bad\.graphql"):
        await asyncio.to_thread(main, ["register-documents", str(tmp_path)])
    assert await store.trusted_documents.get(document_hash("query Good { me { id } }")) is None


def test_a_document_over_budget_or_without_names_is_never_registered(tmp_path: Path) -> None:
    nested = """query Big { people(first: 100) { edges { node {
      shifts(from: "2026-12-01T00:00:00Z", to: "2026-12-02T00:00:00Z", first: 100) { edges { node { id } } } } } } }"""
    (tmp_path / "Big.graphql").write_text(nested, encoding="utf-8")
    with pytest.raises(InvalidDocument, match="costs 20301"):
        checked_directory(build_schema()._schema, tmp_path)
    (tmp_path / "Big.graphql").write_text("{ me { id } }", encoding="utf-8")
    with pytest.raises(InvalidDocument, match="needs a name"):
        checked_directory(build_schema()._schema, tmp_path)


async def test_over_budget_over_http_is_a_request_error_without_data(
    http: httpx.AsyncClient, coordinator_token: str
) -> None:
    query = """query ($n: Int) { people(first: $n) { edges { node {
      shifts(from: "2026-12-01T00:00:00Z", to: "2026-12-02T00:00:00Z", first: 100) { edges { node { id } } } } } } }"""
    refused = await http.post(
        "/graphql", json={"query": query, "variables": {"n": 100}}, headers=auth(coordinator_token)
    )
    smaller = await http.post(
        "/graphql", json={"query": query, "variables": {"n": 40}}, headers=auth(coordinator_token)
    )

    assert refused.status_code == 400 and "data" not in refused.json()
    assert refused.json()["errors"][0]["extensions"] == {"code": "MAX_COST_EXCEEDED", "cost": 20_301, "maxCost": 10_000}
    assert smaller.status_code == 200 and smaller.json() == {"data": {"people": {"edges": []}}}
