"""The console over HTTP: the whole app, real Firebase session cookies from the Auth emulator."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from starlette.applications import Starlette

from app.server import build_app
from app.settings import Settings
from carecore.access.principal import Role
from carecore.storage.store import Store
from carecore.users.models import User
from devtools.auth_emulator import create_user, sign_in
from tests.conftest import PROJECT_ID
from tests.support import FakeClock, user

# https: outside development the session cookie is Secure, and a client sends it over HTTPS only.
BASE_URL = "https://carecore.test"
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')

SignedIn = Callable[..., Awaitable[tuple[httpx.AsyncClient, User]]]


@pytest.fixture
def console_settings(mongo_uri: str, database_name: str, auth_host: str) -> Settings:
    return Settings(
        environment="test",
        mongodb_uri=mongo_uri,
        database=database_name,
        firebase_project_id=PROJECT_ID,
        auth_emulator_host=auth_host,
        graphiql=True,
        introspection=False,
        background_workers=False,  # the ladder stays where the test put it
    )


@pytest.fixture
async def console_app(console_settings: Settings, clock: FakeClock) -> AsyncIterator[Starlette]:
    app = build_app(console_settings, clock=clock)
    async with app.router.lifespan_context(app):
        yield app


def csrf_of(html: str) -> str:
    match = _CSRF_META.search(html)
    assert match is not None, "the page carries no CSRF token"
    return match[1]


async def sign_in_browser(client: httpx.AsyncClient, id_token: str) -> None:
    """What the sign-in page does: fetch the CSRF token, then exchange the ID token for the session cookie."""
    page = await client.get("/console/signin")
    response = await client.post(
        "/console/session", json={"idToken": id_token}, headers={"X-CSRF-Token": csrf_of(page.text)}
    )
    assert response.status_code == 200, response.text


@pytest.fixture
async def browser(console_app: Starlette, auth_host: str, store: Store, clock: FakeClock) -> AsyncIterator[SignedIn]:
    """A client with its own cookies, signed in as a new account of the role (None: signed out)."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(role: Role | None, agency_id: str = "", name: str = "테스트") -> tuple[httpx.AsyncClient, User]:
            transport = httpx.ASGITransport(app=console_app)
            client = await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url=BASE_URL))
            if role is None:
                return client, user(agency_id, Role.COORDINATOR, name, now=clock.now())
            uid = f"u-{uuid.uuid4().hex[:16]}"
            email, password = f"{uid}@test.carecore.kr", "password-123"
            claims = {"role": role.value, "agency": agency_id}
            create_user(
                auth_host, PROJECT_ID, uid=uid, email=email, password=password, display_name=name, custom_claims=claims
            )
            profile = user(agency_id, role, name, uid=uid, now=clock.now())
            await store.users.insert(profile)
            await sign_in_browser(client, sign_in(auth_host, email=email, password=password))
            return client, profile

        yield make
