"""Bad input gets a typed error or a GraphQL error, and writes nothing."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from carecore.access.principal import Role
from carecore.agencies.models import Agency
from carecore.ids import new_id
from carecore.storage.store import Store
from tests.app.conftest import Gql, MakeAccount

CREATE_PERSON = """
mutation ($input: CreatePersonInput!) {
  createPerson(input: $input) { __typename ... on UserError { message field } }
}"""


@pytest.fixture
def coordinator(coordinator_token: str) -> str:
    return coordinator_token


async def writes(store: Store) -> dict[str, int]:
    """Documents per collection, except the audit trail of reads; a collection created empty holds none."""
    names = [n for n in await store.db.list_collection_names() if n != "audit"]
    counts = {n: await store.db[n].count_documents({}) for n in names}
    return {n: count for n, count in counts.items() if count}


@pytest.mark.parametrize(
    ("person", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "가" * 10_000}, "name"),
        ({"name": "최민지", "communication": {"notes": "x" * 10_000}}, "communication.notes"),
        ({"name": "최민지", "dateOfBirth": "2199-01-01"}, "dateOfBirth"),
        ({"name": "최민지", "home": {"address": "수원", "latitude": 123.0, "longitude": 127.0}}, "home.latitude"),
        (
            {"name": "최민지", "supportHours": [{"weekdays": [9], "start": "09:00", "end": "18:00"}]},
            "supportHours.weekdays",
        ),
    ],
)
async def test_a_person_breaking_a_rule_gets_a_validation_error_naming_the_field(
    gql: Gql, coordinator: str, store: Store, person: dict[str, Any], field: str
) -> None:
    before = await writes(store)
    body = await gql(CREATE_PERSON, {"input": {"person": person}}, token=coordinator)
    assert body["data"]["createPerson"]["__typename"] == "ValidationError"
    assert body["data"]["createPerson"]["field"] == field
    assert await writes(store) == before


@pytest.mark.parametrize(
    "person",
    [
        {"name": "최민지", "supportLevel": "SUPREME"},
        {"name": 42},
        {"name": "최민지", "dateOfBirth": "not-a-date"},
    ],
)
async def test_a_value_of_the_wrong_type_is_refused_before_anything_runs(
    gql: Gql, coordinator: str, store: Store, person: dict[str, Any]
) -> None:
    before = await writes(store)
    body = await gql(CREATE_PERSON, {"input": {"person": person}}, token=coordinator)
    assert body.get("data") is None and body["errors"]
    assert await writes(store) == before


async def test_a_malformed_or_unknown_id_answers_not_found(gql: Gql, coordinator: str, store: Store) -> None:
    before = await writes(store)
    for person_id in ("not-an-id", "'; db.dropDatabase()", new_id()):
        assert (await gql("query ($id: ID!) { person(id: $id) { id } }", {"id": person_id}, token=coordinator))[
            "data"
        ] == {"person": None}
        body = await gql(
            "mutation ($i: UpdatePersonInput!) { updatePerson(input: $i) { __typename } }",
            {"i": {"id": person_id, "expectedRevision": 1, "person": {"name": "x"}}},
            token=coordinator,
        )
        assert body["data"]["updatePerson"]["__typename"] == "NotFoundError"
    assert await writes(store) == before


async def test_a_query_with_too_many_aliases_or_tokens_is_refused(gql: Gql, coordinator: str) -> None:
    aliased = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(30)) + " }"
    body = await gql(aliased, token=coordinator)
    assert body["errors"] and "aliases" in body["errors"][0]["message"]
    huge = "{ me { " + " ".join(["id"] * 3000) + " } }"
    body = await gql(huge, token=coordinator)
    assert body["errors"] and "token" in body["errors"][0]["message"].lower()


def _forge(token: str, **claims: Any) -> str:
    header, payload, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    decoded.update(claims)
    forged = base64.urlsafe_b64encode(json.dumps(decoded).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


async def test_missing_garbage_and_forged_tokens_are_unauthenticated_and_write_nothing(
    gql: Gql, make_account: MakeAccount, store: Store
) -> None:
    agency = Agency(id=new_id(), name="경기 함께돌봄 센터")
    await store.agencies.upsert(agency)
    _, family = await make_account(Role.FAMILY, agency.id, "최영희")
    before = await writes(store)
    for token in (
        None,
        "garbage",
        "a.b.c",
        _forge(family, role="coordinator"),  # the claims no longer match the profile
        _forge(family, aud="another-project"),
    ):
        body = await gql(CREATE_PERSON, {"input": {"person": {"name": "침입자"}}}, token=token)
        assert "data" not in body  # refused at the door (401), before the document was parsed
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body
    assert await writes(store) == before
