"""The door of /graphql refuses whole classes of hostile requests before GraphQL parses anything:
no token, malformed bodies, huge bodies, GET, ambiguous or subscription operations, and documents
whose fragments multiply; each refusal is a 4xx with a GraphQL error body and writes nothing."""

from __future__ import annotations

import logging

import httpx
import pytest
from graphql import OperationDefinitionNode, parse

from app.graphql_http import ACCESS_LOG_FILTER, GRAPHQL_RESPONSE, MAX_BODY, expanded_fields
from carecore.storage.store import Store
from tests.app.test_bad_input import writes


def doubling_fragments(levels: int) -> str:
    """Under 1 KB for 20 levels; each fragment spreads the previous one twice: 2^levels fields."""
    parts = ["fragment F0 on Query { me { id } }"]
    parts += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1)]
    return f"query {{ ...F{levels} }}\n" + "\n".join(parts)


@pytest.fixture
def token(coordinator_token: str) -> str:
    return coordinator_token


def test_fragments_are_sized_once_each_however_often_they_are_spread() -> None:
    document = parse(doubling_fragments(60))
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    assert expanded_fields(document, operation) == 2 * 2**60  # `me` and `id`, 2^60 times: never expanded


async def test_a_document_whose_fragments_double_twenty_times_is_refused_before_validation(
    http: httpx.AsyncClient, token: str
) -> None:
    query = doubling_fragments(20)
    assert len(query) < 1024
    headers = {"Authorization": f"Bearer {token}", "Accept": GRAPHQL_RESPONSE, "Accept-Language": "en"}
    response = await http.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/graphql-response+json"
    assert response.json() == {
        "errors": [
            {
                "message": "연산이 요청하는 필드가 5000개를 넘습니다.",  # the profile's language wins over the header
                "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
            }
        ]
    }


async def test_without_a_token_even_an_unparsable_document_is_refused_as_unauthenticated(
    http: httpx.AsyncClient,
) -> None:
    for query in ("{ me { id } }", "{{{{ not graphql", doubling_fragments(30)):
        response = await http.post("/graphql", json={"query": query})
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "body",
    [
        b"42",
        b"null",
        b"true",
        b'"{ me { id } }"',
        b"[]",
        b"\xff\xfe{",
        b"{not json",
        b'{"query": 7}',
        b'{"query": "{ me { id } }", "variables": [1]}',
        b'{"query": "{ me { id } }", "operationName": 3}',
        b'{"query": "{ me { id } }", "operationName": false}',
        b'{"query": "{ me { id } }", "variables": 0}',
        b'{"query": "{ me { id } }", "extensions": "x"}',
    ],
)
async def test_a_malformed_body_gets_400_with_an_error_body_and_the_connection_still_serves(
    http: httpx.AsyncClient, token: str, store: Store, body: bytes
) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    before = await writes(store)
    response = await http.post("/graphql", content=body, headers=headers)
    assert response.status_code == 400, response.text
    refused = response.json()
    assert "data" not in refused and refused["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    after = await http.post("/graphql", json={"query": "{ me { displayName } }"}, headers=headers)
    assert after.status_code == 200 and after.json()["data"]["me"]["displayName"] == "김지현"
    assert await writes(store) == before


async def test_a_body_over_the_limit_gets_413(http: httpx.AsyncClient, token: str) -> None:
    comment = "#" + "x" * MAX_BODY + "\n"
    response = await http.post(
        "/graphql", json={"query": comment + "{ me { id } }"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 413


async def test_get_runs_queries_but_never_mutations_and_other_methods_are_refused(
    http: httpx.AsyncClient, token: str, store: Store
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    query = await http.get("/graphql", params={"query": "{ me { displayName } }"}, headers=headers)
    assert query.status_code == 200 and query.json()["data"]["me"]["displayName"] == "김지현"
    before = await writes(store)
    mutation = 'mutation { createPerson(input: {person: {name: "GET"}}) { __typename } }'
    refused = await http.get("/graphql", params={"query": mutation}, headers=headers)
    assert refused.status_code == 405 and refused.headers["allow"] == "GET, POST"
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert (await http.put("/graphql", json={"query": "{ me { id } }"}, headers=headers)).status_code == 405
    assert await writes(store) == before


async def test_a_body_that_is_not_json_is_refused_as_unsupported(http: httpx.AsyncClient, token: str) -> None:
    response = await http.post(
        "/graphql",
        content=b'{"query": "{ me { id } }"}',
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
    )
    assert response.status_code == 415


@pytest.mark.parametrize(
    ("query", "operation_name", "message"),
    [
        ("query A { me { id } } query B { me { id } }", None, "실행할 연산의 이름(`operationName`)을 지정하세요."),
        ("query A { me { id } }", "B", '"B"(이)라는 연산이 없습니다.'),
        ("subscription { incidentUpdates { id } }", None, "구독은 WebSocket(graphql-transport-ws)으로 실행됩니다."),
    ],
)
async def test_what_http_cannot_run_unambiguously_is_refused(
    http: httpx.AsyncClient, token: str, query: str, operation_name: str | None, message: str
) -> None:
    response = await http.post(
        "/graphql",
        json={"query": query, "operationName": operation_name},
        headers={"Authorization": f"Bearer {token}", "Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == message


def test_the_access_log_never_shows_a_query_string() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", '/graphql?query={person(id:"p1"){name}}', "1.1", 200),
        None,
    )
    assert ACCESS_LOG_FILTER.filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /graphql HTTP/1.1" 200'
