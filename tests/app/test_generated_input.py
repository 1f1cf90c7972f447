"""Generated input against every query and mutation of the schema, over HTTP, as a coordinator and as a
caregiver: hostile scalar values (lone surrogates, NaN, 1e308, years 1 and 9999, times without an
offset, wrong types, unknown fields, nulls), as variables or literals, and garbage documents.

The invariant, whatever the input: no 5xx, no INTERNAL_SERVER_ERROR, every error coded from the one
table, no message that names a Python exception or shows a Python repr, and nothing written when the
answer is an error (a GraphQL error or a typed `UserError` result). A few hundred examples run by
default; `-m slow` runs thousands more.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from carecore.access.principal import Role
from carecore.agencies.models import Agency
from carecore.ids import new_id
from carecore.storage.store import Store
from schema.build import build_schema
from schema.error_codes import Code
from tests.app.conftest import MakeAccount
from tests.app.test_bad_input import writes

SCHEMA: GraphQLSchema = build_schema()._schema
ROOTS: list[tuple[str, str, GraphQLField]] = [
    (kind, name, field)
    for kind, root in (("query", SCHEMA.query_type), ("mutation", SCHEMA.mutation_type))
    if root is not None
    for name, field in sorted(root.fields.items())
]
PYTHON = re.compile(
    r"Traceback|\b\w+(Error|Exception):|isoformat|Expecting value|object at 0x|\{'\w*': |\['\w*'[,\]]"
    r"|\bNone\b|\bTrue\b|\bFalse\b"
)
CODES = {c.value for c in Code}
KNOWN_IDS: list[str] = []  # ids of the agency's objects, so some generated ids hit real objects

HOSTILE_TEXT = st.sampled_from(["\ud800", "a\udfffb", "", " ", "x" * 5000, "'; db.dropDatabase()", "{$gt: ''}"])
HOSTILE_NUMBER = st.sampled_from([1e308, -1e308, float("nan"), float("inf"), -float("inf"), 2**31, 2**63, -1, 0])
EDGE_TIMES = st.sampled_from(
    [
        "0001-01-01T00:00:00+00:00",
        "0001-01-01T00:00:00-14:00",
        "9999-12-31T23:59:59+00:00",
        "9999-12-31T23:59:59-14:00",
        "2026-12-02T09:00:00",
        "2026-12-02T09:00:00Z",
        "2026-13-02T09:00:00+09:00",
        "1900-01-01T00:00:00+14:00",
        "2199-12-31T23:59:59-14:00",
    ]
)


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any], one_in: int = 8) -> st.SearchStrategy[Any]:
    """`good`, and `bad` once in `one_in` draws: hostile leaves must not keep every example from the resolvers.

    Hypothesis favours and shrinks towards small integers: 1 is the good branch, so a failing example
    shrinks to good values except where the bad one matters.
    """
    return st.integers(1, one_in).flatmap(lambda n: bad if n == one_in else good)


def times() -> st.SearchStrategy[str]:
    generated = st.datetimes().map(lambda d: d.isoformat()) | st.builds(
        lambda d, h: f"{d.isoformat()}{h:+03d}:00", st.datetimes(), st.integers(-14, 14)
    )
    return mostly(generated, EDGE_TIMES, one_in=3)


def scalar(named: GraphQLScalarType) -> st.SearchStrategy[Any]:
    wrong: st.SearchStrategy[Any] = st.none() | st.booleans() | st.just([]) | st.just({}) | st.integers() | HOSTILE_TEXT
    good: st.SearchStrategy[Any]
    match named.name:
        case "String":
            good = mostly(st.text(max_size=40), HOSTILE_TEXT, one_in=6)
        case "ID":
            good = st.sampled_from(KNOWN_IDS or ["x"]) | st.text(max_size=30)
        case "Int":
            good = mostly(st.integers(-(2**31), 2**31 - 1), HOSTILE_NUMBER, one_in=4)
        case "Float":
            good = mostly(st.floats(-1e6, 1e6), st.floats() | HOSTILE_NUMBER, one_in=4)
        case "Boolean":
            good = st.booleans()
        case "DateTime":
            good = times()
        case "Date":
            good = mostly(
                st.dates().map(lambda d: d.isoformat()),
                st.sampled_from(["0001-01-01", "9999-12-31", "2026-02-30", "1899-12-31"]),
                one_in=3,
            )
        case "Time":
            bad_times = st.sampled_from(["24:00", "09:60", "9", "09:00+25:00"])
            good = mostly(st.times().map(lambda t: t.isoformat()), bad_times)
        case _:
            good = st.text(max_size=40)
    return mostly(good, wrong, one_in=25)


def value(type_: GraphQLInputType, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values for an input type: mostly of the right shape, with hostile leaves and some wrong shapes."""
    if isinstance(type_, GraphQLNonNull):
        return mostly(value(type_.of_type, depth), st.none(), one_in=40)
    if isinstance(type_, GraphQLList):
        return mostly(st.lists(value(type_.of_type, depth + 1), max_size=3), st.none() | st.just("x"), one_in=10)
    if isinstance(type_, GraphQLEnumType):
        return mostly(st.sampled_from(list(type_.values)), st.sampled_from(["NOPE", "", "\ud800"]) | st.none())
    if isinstance(type_, GraphQLScalarType):
        return scalar(type_)
    assert isinstance(type_, GraphQLInputObjectType)
    if depth > 3:
        return st.none()
    fields = {name: value(field.type, depth + 1) for name, field in type_.fields.items()}
    required = [n for n, f in type_.fields.items() if isinstance(f.type, GraphQLNonNull)]
    optional = [n for n in type_.fields if n not in required]
    return st.builds(
        lambda chosen, extra: {**chosen, **extra},
        st.fixed_dictionaries({n: fields[n] for n in required}, optional={n: fields[n] for n in optional}),
        mostly(st.just({}), st.just({"unknownField": 1}), one_in=25),
    )


def literal(found: Any) -> str:
    """A value as a GraphQL literal (enum names bare); non-finite floats give a document that fails to parse."""
    if isinstance(found, dict):
        return "{" + " ".join(f"{k}: {literal(v)}" for k, v in found.items()) + "}"
    if isinstance(found, list):
        return "[" + " ".join(literal(v) for v in found) + "]"
    if found is None:
        return "null"
    if isinstance(found, bool):
        return "true" if found else "false"
    if isinstance(found, str) and re.fullmatch(r"[A-Z][A-Z_]*", found):
        return found  # perhaps an enum value
    if isinstance(found, str):
        return json.dumps(found)
    return repr(found)


def selection(field: GraphQLField) -> str:
    named = get_named_type(field.type)
    if is_leaf_type(named):
        return ""
    if isinstance(named, GraphQLObjectType) and "edges" in named.fields:
        return " { __typename edges { node { __typename } } }"
    return " { __typename }"


@st.composite
def operations(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A document for one root field, its arguments as variables or literals; sometimes garbage."""
    if draw(st.integers(0, 19)) == 19:
        return draw(st.text(max_size=60) | st.sampled_from(["{", "query {", "{ me { id } } }", "mutation"])), {}
    kind, name, field = draw(st.sampled_from(ROOTS))
    arguments: dict[str, GraphQLArgument] = field.args
    chosen = {a: draw(value(arg.type)) for a, arg in arguments.items()}
    if draw(st.booleans()):  # variables, typed as the arguments are
        definitions = ", ".join(f"${a}: {arguments[a].type}" for a in chosen)
        passed = ", ".join(f"{a}: ${a}" for a in chosen)
        header = f"{kind} ({definitions})" if chosen else kind
        call = f"{name}({passed})" if chosen else name
        return f"{header} {{ {call}{selection(field)} }}", chosen
    passed = ", ".join(f"{a}: {literal(v)}" for a, v in chosen.items())
    call = f"{name}({passed})" if chosen else name
    return f"{kind} {{ {call}{selection(field)} }}", {}


def is_failure(body: dict[str, Any]) -> bool:
    """An error answer: GraphQL errors, or a typed UserError result."""
    if body.get("errors"):
        return True
    data = body.get("data") or {}
    return any(isinstance(v, dict) and str(v.get("__typename", "")).endswith("Error") for v in data.values())


async def check(http: httpx.AsyncClient, store: Store, token: str, document: str, variables: dict[str, Any]) -> None:
    before = await writes(store)
    response = await http.post(
        "/graphql",
        content=json.dumps({"query": document, "variables": variables}).encode(),  # NaN and surrogates as JSON has them
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code < 500, response.text
    body = response.json()
    event(body["errors"][0]["extensions"]["code"] if body.get("errors") else "answered with data")  # statistics
    for error in body.get("errors") or ():
        code = error.get("extensions", {}).get("code")
        assert code in CODES and code != "INTERNAL_SERVER_ERROR", (document, variables, error)
        sent = document + json.dumps(variables)
        python = [m[0] for m in PYTHON.finditer(error["message"]) if m[0] not in sent]  # not the client's own text
        assert not python, (document, variables, error["message"])
    if is_failure(body):
        assert await writes(store) == before, (document, variables, body)


@pytest.fixture
async def tokens(make_account: MakeAccount, store: Store) -> list[str]:
    agency = Agency(id=new_id(), name="경기 함께돌봄 센터")
    await store.agencies.upsert(agency)
    coordinator, coordinator_token = await make_account(Role.COORDINATOR, agency.id, "김지현")
    caregiver, caregiver_token = await make_account(Role.CAREGIVER, agency.id, "박서준")
    KNOWN_IDS[:] = [coordinator.id, caregiver.id, agency.id]
    return [coordinator_token, caregiver_token]


def generated(max_examples: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,  # the default run is the same every time; `slow` explores further
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@generated(max_examples=300)
@given(operation=operations(), as_caregiver=st.booleans())
async def test_generated_input_never_breaks_the_boundary(
    http: httpx.AsyncClient, store: Store, tokens: list[str], operation: tuple[str, dict[str, Any]], as_caregiver: bool
) -> None:
    await check(http, store, tokens[as_caregiver], *operation)


@pytest.mark.slow
@settings(
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(operation=operations(), as_caregiver=st.booleans())
async def test_more_generated_input_never_breaks_the_boundary(
    http: httpx.AsyncClient, store: Store, tokens: list[str], operation: tuple[str, dict[str, Any]], as_caregiver: bool
) -> None:
    await check(http, store, tokens[as_caregiver], *operation)
