"""Input classes that used to end as masked internal errors: each is now BAD_USER_INPUT (or a typed
error) naming no Python, with nothing written, in the caller's language, however it is sent
(variable or literal). And the error-code table is the one docs/api.md documents."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from app.graphql_http import GRAPHQL_RESPONSE
from app.server import build_app
from app.settings import Settings
from carecore.access.principal import Role
from carecore.agencies.models import Agency
from carecore.ids import new_id
from carecore.storage.store import Store
from schema.error_codes import TABLE, Code, locale_from_accept_language, text
from tests.app.conftest import MakeAccount
from tests.app.servers import serving, subscribe
from tests.app.test_bad_input import writes
from tests.app.test_generated_input import PYTHON

POLICY = """mutation ($i: UpdateIncidentPolicyInput!) {
  updateIncidentPolicy(input: $i) { __typename ... on UserError { message field } } }"""
PREFERENCES = """mutation ($i: UpdateNotificationPreferencesInput!) {
  updateNotificationPreferences(input: $i) { __typename ... on UserError { message field } } }"""
PERSON = """mutation ($i: CreatePersonInput!) {
  createPerson(input: $i) { __typename ... on UserError { message field } } }"""
SHIFTS = "query ($f: ShiftFilterInput!) { shifts(filter: $f) { edges { node { id } } } }"
SCHEDULE = """mutation ($i: ScheduleShiftInput!) {
  scheduleShift(input: $i) { __typename ... on UserError { message field } } }"""


@pytest.fixture
def token(coordinator_token: str) -> str:
    return coordinator_token


async def post(http: httpx.AsyncClient, token: str | None, body: str, **headers: str) -> httpx.Response:
    """A raw body: JSON's NaN, Infinity and lone-surrogate escapes cannot be written with httpx's json=."""
    sent = {"Content-Type": "application/json", **headers}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    return await http.post("/graphql", content=body.encode(), headers=sent)


def raw(query: str, variables: str = "{}") -> str:
    return f'{{"query": {json.dumps(query)}, "variables": {variables}}}'


HOSTILE = [
    pytest.param(PERSON, '{"i": {"person": {"name": "\\ud800민지"}}}', "person.name", id="lone surrogate in a name"),
    pytest.param(
        "query ($s: String) { people(search: $s) { edges { node { id } } } }",
        '{"s": "\\udfff"}',
        "search",
        id="lone surrogate in a search",
    ),
    pytest.param(POLICY, '{"i": {"mergeWindowMinutes": 1e308}}', "mergeWindowMinutes", id="1e308 minutes"),
    pytest.param(POLICY, '{"i": {"mergeWindowMinutes": NaN}}', None, id="NaN minutes"),
    pytest.param(POLICY, '{"i": {"reviewThreshold": Infinity}}', None, id="infinite threshold"),
    pytest.param(POLICY, '{"i": {"safeguardingReportHours": 1e308}}', None, id="1e308 hours"),
    pytest.param(
        SHIFTS,
        '{"f": {"from": "9999-12-31T00:00:00+00:00", "to": "9999-12-31T23:59:59+00:00"}}',
        None,
        id="year 9999",
    ),
    pytest.param(
        SHIFTS, '{"f": {"from": "0001-01-01T00:00:00-14:00", "to": "0001-01-02T00:00:00+00:00"}}', None, id="year 1"
    ),
    pytest.param(
        SHIFTS, '{"f": {"from": "2026-12-02T09:00:00", "to": "2026-12-03T09:00:00"}}', None, id="time without offset"
    ),
    pytest.param(
        SCHEDULE,
        '{"i": {"personId": "p", "start": "9999-12-31T22:00:00+09:00", "end": "9999-12-31T23:00:00+09:00"}}',
        None,
        id="a shift at the end of the calendar",
    ),
    pytest.param(PERSON, '{"i": {"person": {"name": "x", "dateOfBirth": "x"}}}', None, id="date not a date"),
    pytest.param(
        "query ($n: Int) { people(first: $n) { edges { node { id } } } }", '{"n": "abc"}', None, id="Int not a number"
    ),
    pytest.param(SHIFTS, '{"f": {"from": "2026-12-02T09:00:00+09:00", "zz": {"a": 1}}}', None, id="unknown field"),
    pytest.param("query ($id: ID!) { person(id: $id) { id } }", '{"id": null}', None, id="null for non-null"),
]


@pytest.mark.parametrize(("query", "variables", "field"), HOSTILE)
async def test_hostile_variables_are_bad_user_input_naming_no_python_and_writing_nothing(
    http: httpx.AsyncClient, token: str, store: Store, query: str, variables: str, field: str | None
) -> None:
    before = await writes(store)
    response = await post(http, token, raw(query, variables), Accept=GRAPHQL_RESPONSE)
    body = response.json()
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", body
    assert not PYTHON.search(error["message"]), error["message"]
    if field is not None:  # caught while resolving: the guard names the field
        assert error["extensions"]["field"] == field
    else:  # refused while coercing the variables: a request error, 400 without data
        assert response.status_code == 400 and "data" not in body
    assert await writes(store) == before


@pytest.mark.parametrize(
    "literal",
    [
        "updateIncidentPolicy(input: {mergeWindowMinutes: 1e400}) { __typename }",
        "updateIncidentPolicy(input: {mergeWindowMinutes: 1e308}) { __typename }",
        'createPerson(input: {person: {name: "x", dateOfBirth: "0001-01-01"}}) { __typename }',
        'scheduleShift(input: {personId: "p", start: "9999-12-31T23:00:00+00:00", end: "x"}) { __typename }',
    ],
)
async def test_hostile_literals_are_bad_user_input_too(
    http: httpx.AsyncClient, token: str, store: Store, literal: str
) -> None:
    before = await writes(store)
    body = (await post(http, token, raw(f"mutation {{ {literal} }}"))).json()
    assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}, body
    assert not any(PYTHON.search(e["message"]) for e in body["errors"])
    assert await writes(store) == before


async def test_a_time_zone_of_300_characters_is_a_validation_error(
    http: httpx.AsyncClient, token: str, store: Store
) -> None:
    before = await writes(store)
    variables = json.dumps({"i": {"expectedRevision": 0, "timezone": "Asia/" + "A" * 300}})
    body = (await post(http, token, raw(PREFERENCES, variables))).json()
    assert body["data"]["updateNotificationPreferences"]["__typename"] == "ValidationError"
    assert body["data"]["updateNotificationPreferences"]["field"] == "timezone"
    assert await writes(store) == before


async def test_the_texts_follow_the_profile_then_accept_language(
    http: httpx.AsyncClient, make_account: MakeAccount, store: Store
) -> None:
    anonymous_en = (await post(http, None, raw("{ me { id } }"), **{"Accept-Language": "en-GB,ko;q=0.5"})).json()
    assert anonymous_en["errors"][0]["message"] == "Sign in to continue."
    anonymous = (await post(http, None, raw("{ me { id } }"))).json()
    assert anonymous["errors"][0]["message"] == "로그인이 필요합니다."

    agency = Agency(id=new_id(), name="경기 함께돌봄 센터")
    await store.agencies.upsert(agency)
    profile, token = await make_account(Role.COORDINATOR, agency.id, "김지현")
    surrogate = raw(PERSON, '{"i": {"person": {"name": "\\ud800"}}}')
    signed_in = await post(http, token, surrogate, **{"Accept-Language": "en"})  # the profile says ko: it wins
    assert signed_in.json()["errors"][0]["message"].startswith("`person.name`: 텍스트에")
    await store.db["users"].update_one({"_id": profile.id}, {"$set": {"locale": "en"}})
    english = await post(http, token, surrogate)
    assert english.json()["errors"][0]["message"] == (
        "`person.name`: text must be valid Unicode (it holds a lone UTF-16 surrogate)"
    )


def test_accept_language_picks_the_best_supported_language() -> None:
    assert locale_from_accept_language("en-US,en;q=0.9,ko;q=0.8") == "en"
    assert locale_from_accept_language("fr, ko;q=0.1, en;q=0.05") == "ko"
    assert locale_from_accept_language("fr;q=1") == "ko"
    assert locale_from_accept_language(None) == "ko"
    assert locale_from_accept_language("en;q=garbage, ko") == "ko"
    assert text("too_large", "en", kb=256) == "The body is larger than 256 KB."


def test_docs_api_md_shows_every_code_of_the_table() -> None:
    documented = Path(__file__).resolve().parents[2].joinpath("docs", "api.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([A-Z_]+)` \|.*$", documented, re.MULTILINE)
    assert rows == [c.value for c in Code] and set(TABLE) == set(Code)
    for code, info in TABLE.items():
        assert f"| `{code.value}` | {info.http} | {info.meaning} | {info.retry} |" in documented


@pytest.mark.parametrize(
    ("document", "variables", "code"),
    [
        # Strawberry runs no extension's `resolve` for a subscription's root field, so the input guard
        # does not see it: the id is simply no person's (and nothing is written on a subscription).
        ("subscription ($p: ID) { incidentUpdates(personId: $p) { id } }", {"p": "\ud800"}, "NOT_FOUND"),
        ("subscription ($p: ID) { incidentUpdates(personId: $p) { id } }", {"p": {"a": 1}}, "BAD_USER_INPUT"),
        ("subscription { incidentUpdates { nope } }", {}, "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_hostile_input_over_websocket_gets_coded_errors_too(
    settings: Settings, coordinator_token: str, document: str, variables: dict[str, object], code: str
) -> None:
    async with serving(build_app(settings)) as host, subscribe(host, coordinator_token, document, variables) as sub:
        message = await sub.next()
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert [e["extensions"]["code"] for e in errors] == [code] * len(errors), message
    assert not any(PYTHON.search(e["message"]) for e in errors)
