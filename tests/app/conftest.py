"""The whole app over HTTP, with real Auth emulator tokens."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from app.server import build_app
from app.settings import Settings
from carecore.access.principal import Role
from carecore.agencies.models import Agency
from carecore.ids import new_id
from carecore.storage.store import Store
from carecore.users.models import User
from devtools.auth_emulator import create_user, sign_in
from tests.conftest import PROJECT_ID
from tests.support import user

MakeAccount = Callable[..., Awaitable[tuple[User, str]]]
Gql = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def settings(mongo_uri: str, database_name: str, auth_host: str) -> Settings:
    return Settings(
        environment="test",
        mongodb_uri=mongo_uri,
        database=database_name,
        firebase_project_id=PROJECT_ID,
        auth_emulator_host=auth_host,
        graphiql=False,
        introspection=True,
    )


@pytest.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://carecore.test") as client,
    ):
        yield client


def sign_up(auth_host: str, *, claims: dict[str, str] | None = None, name: str = "테스트") -> tuple[str, str, str]:
    """Creates an emulator account; returns (uid, email, password)."""
    uid = f"u-{uuid.uuid4().hex[:16]}"
    email, password = f"{uid}@test.carecore.kr", "password-123"
    create_user(
        auth_host, PROJECT_ID, uid=uid, email=email, password=password, display_name=name, custom_claims=claims or {}
    )
    return uid, email, password


@pytest.fixture
def make_account(auth_host: str, store: Store, clock: Any) -> MakeAccount:
    """An emulator account with matching claims and profile; returns the profile and an ID token."""

    async def make(role: Role, agency_id: str, name: str = "테스트") -> tuple[User, str]:
        uid, email, password = sign_up(auth_host, claims={"role": role.value, "agency": agency_id}, name=name)
        profile = user(agency_id, role, name, uid=uid, now=clock.now())
        await store.users.insert(profile)
        return profile, sign_in(auth_host, email=email, password=password)

    return make


@pytest.fixture
async def coordinator_token(make_account: MakeAccount, store: Store) -> str:
    """An ID token of a coordinator of a new agency."""
    agency = Agency(id=new_id(), name="경기 함께돌봄 센터")
    await store.agencies.upsert(agency)
    _, token = await make_account(Role.COORDINATOR, agency.id, "김지현")
    return token


@pytest.fixture
def gql(http: httpx.AsyncClient) -> Gql:
    async def run(query: str, variables: dict[str, Any] | None = None, *, token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        body: dict[str, Any] = response.json()
        return body

    return run


from tests.app.fhir_scene import fhir_scene  # noqa: E402, F401 - the FHIR tests' scene, a fixture
