"""One dev database and one Auth emulator per run; a fresh database per test."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from pymongo import AsyncMongoClient, monitoring

from app.firebase import FirebaseGateway
from app.server import subject_acknowledgers
from carecore.access.principal import Role
from carecore.agencies.models import Agency
from carecore.ids import new_id
from carecore.people.models import GuardianPermission, Person
from carecore.ports import Ports
from carecore.storage.database import Document, connect, ensure_indexes
from carecore.storage.store import Store
from carecore.users.models import User
from devtools.auth_emulator import AuthEmulator, create_user, sign_in
from devtools.devdb import DevDatabase
from tests.crashes import CrashPoints, crash_points_for
from tests.index_shapes import ShapeRecorder
from tests.network import RoutingPolicy
from tests.support import (
    ALL_PERMISSIONS,
    FakeClock,
    RecordingClaims,
    RefusingTokens,
    link,
    person,
    put_active_plan,
    user,
)

PROJECT_ID = "demo-carecore-test"

# Registered before any client exists: every client of the run reports its commands' shapes.
SHAPES = ShapeRecorder()
monitoring.register(SHAPES)


# Every test's loop can route a public host to a local server (the FCM test server needs it).
asyncio.set_event_loop_policy(RoutingPolicy())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A whole-suite run fails on a query no declared index serves, or an index nothing uses."""
    config = session.config
    whole = config.args_source is pytest.Config.ArgsSource.TESTPATHS and not config.option.keyword
    if not (whole or os.environ.get("CARECORE_INDEX_SHAPES") == "1") or not SHAPES.seen:
        return
    problems = SHAPES.problems()
    if problems:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        lines = ["", f"index shapes ({len(SHAPES.seen)} seen): {len(problems)} problem(s)", *problems]
        if reporter is not None:
            reporter.write_line("\n".join(lines), red=True)
        if whole:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def mongo_uri() -> Iterator[str]:
    if uri := os.environ.get("MONGODB_URI"):
        yield uri
        return
    with DevDatabase() as database:
        yield database.uri


@pytest.fixture(scope="session")
def auth_host() -> Iterator[str]:
    with AuthEmulator(project_id=PROJECT_ID) as emulator:
        previous = os.environ.get("FIREBASE_AUTH_EMULATOR_HOST")
        os.environ["FIREBASE_AUTH_EMULATOR_HOST"] = emulator.host
        yield emulator.host
        if previous is None:
            del os.environ["FIREBASE_AUTH_EMULATOR_HOST"]
        else:
            os.environ["FIREBASE_AUTH_EMULATOR_HOST"] = previous


@pytest.fixture(scope="session")
async def mongo_client(mongo_uri: str) -> AsyncIterator[AsyncMongoClient[Document]]:
    client = connect(mongo_uri)
    yield client
    await client.close()


@pytest.fixture
async def database_name(mongo_client: AsyncMongoClient[Document]) -> AsyncIterator[str]:
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield name
    await mongo_client.drop_database(name)


@pytest.fixture
async def store(mongo_client: AsyncMongoClient[Document], database_name: str) -> Store:
    db = mongo_client[database_name]
    await ensure_indexes(db)
    return Store(db)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def claims() -> RecordingClaims:
    return RecordingClaims()


@pytest.fixture
def ports(store: Store, clock: FakeClock, claims: RecordingClaims) -> Ports:
    """Wired like the app's (app/server.py), the incidents' acknowledger included, but with stand-ins
    for Firebase Auth: most tests never touch claims or tokens and need not start the emulator. A test
    about claims or tokens takes `firebase_ports`."""
    return Ports(
        store=store, clock=clock, claims=claims, tokens=RefusingTokens(), acknowledgers=subject_acknowledgers()
    )


@pytest.fixture(scope="session")
def firebase(auth_host: str) -> Iterator[FirebaseGateway]:
    """The app's own claims publisher and token verifier (app/firebase.py), against the Auth emulator."""
    gateway = FirebaseGateway(PROJECT_ID)
    yield gateway
    gateway.close()


@pytest.fixture
def firebase_ports(store: Store, clock: FakeClock, firebase: FirebaseGateway) -> Ports:
    """`ports` with the real Firebase gateway for claims and tokens."""
    return Ports(store=store, clock=clock, claims=firebase, tokens=firebase, acknowledgers=subject_acknowledgers())


@dataclass(frozen=True)
class Accounts:
    """Emulator accounts for profiles, and what a freshly signed-in token of each says."""

    auth_host: str
    firebase: FirebaseGateway

    def open(self, firebase_uid: str) -> str:
        """Creates the account of a uid, with no custom claims; returns its email."""
        email = f"{firebase_uid}@test.carecore.kr"
        create_user(
            self.auth_host,
            PROJECT_ID,
            uid=firebase_uid,
            email=email,
            password=_PASSWORD,
            display_name="테스트",
            custom_claims={},
        )
        return email

    def token(self, email: str) -> str:
        """A new ID token, as the app gets one after a refresh: it carries the claims as they are now."""
        return sign_in(self.auth_host, email=email, password=_PASSWORD)

    async def claims(self, email: str) -> dict[str, object]:
        """The custom claims of a fresh token, as the app's verifier reads them."""
        _, decoded = await self.firebase.verify(self.token(email))
        return {k: v for k, v in decoded.items() if k not in _TOKEN_CLAIMS}


_PASSWORD = "password-123"
# What every emulator ID token carries besides the custom claims.
_TOKEN_CLAIMS = frozenset(
    {"iss", "aud", "auth_time", "user_id", "sub", "iat", "exp", "email", "email_verified", "firebase", "uid", "name"}
)


@pytest.fixture
def accounts(auth_host: str, firebase: FirebaseGateway) -> Accounts:
    return Accounts(auth_host, firebase)


@dataclass
class World:
    """One agency seen from every role: who is in and who is out of scope of person `minji`."""

    agency: Agency
    coordinator: User
    caregiver_on_team: User
    caregiver_off_team: User
    guardian: User  # all permissions for minji
    guardian_visits_only: User  # linked to minji without `plan`
    other_guardian: User  # guardian of jiho only
    ai_service: User
    other_agency_coordinator: User
    minji: Person
    jiho: Person

    def everyone(self) -> dict[str, User]:
        return {
            "coordinator": self.coordinator,
            "caregiver_on_team": self.caregiver_on_team,
            "caregiver_off_team": self.caregiver_off_team,
            "guardian": self.guardian,
            "guardian_visits_only": self.guardian_visits_only,
            "other_guardian": self.other_guardian,
            "ai_service": self.ai_service,
            "other_agency_coordinator": self.other_agency_coordinator,
        }


async def build_world(store: Store, clock: FakeClock) -> World:
    """The `world` fixture's data in any store: crash-point runs build it in each fresh database."""
    now = clock.now()
    agency = Agency(id=new_id(), name="경기 함께돌봄 센터", region="경기도")
    other = Agency(id=new_id(), name="다른 기관")
    for a in (agency, other):
        await store.agencies.upsert(a)
    people_of = {
        "coordinator": user(agency.id, Role.COORDINATOR, "김지현", now=now),
        "caregiver_on_team": user(agency.id, Role.CAREGIVER, "박서준", now=now),
        "caregiver_off_team": user(agency.id, Role.CAREGIVER, "이도윤", now=now),
        "guardian": user(agency.id, Role.FAMILY, "최영희", now=now),
        "guardian_visits_only": user(agency.id, Role.FAMILY, "최민수", now=now),
        "other_guardian": user(agency.id, Role.FAMILY, "정수진", now=now),
        "ai_service": user(agency.id, Role.AI_SERVICE, "안부전화 AI", now=now),
        "other_agency_coordinator": user(other.id, Role.COORDINATOR, "한지민", now=now),
    }
    for u in people_of.values():
        await store.users.insert(u)
    minji = person(agency.id, "최민지", now=now)
    jiho = person(agency.id, "정지호", now=now)
    for p in (minji, jiho):
        await store.people.insert(p)
    await store.people.set_care_team(minji.id, [people_of["caregiver_on_team"].id], now)
    await link(store, minji, people_of["guardian"], ALL_PERMISSIONS, now)
    await link(store, minji, people_of["guardian_visits_only"], frozenset({GuardianPermission.VISITS}), now)
    await link(store, jiho, people_of["other_guardian"], ALL_PERMISSIONS, now)
    for p in (minji, jiho):
        await put_active_plan(store, p, people_of["coordinator"], now)
    fresh = await store.people.get_many([minji.id, jiho.id])
    return World(agency=agency, minji=fresh[minji.id], jiho=fresh[jiho.id], **people_of)


@pytest.fixture
async def world(store: Store, clock: FakeClock) -> World:
    return await build_world(store, clock)


@pytest.fixture
def crash_points(mongo_client: AsyncMongoClient[Document]) -> CrashPoints:
    """Runs of a flow dying at each of its writes in turn (tests/crashes.py)."""
    return crash_points_for(mongo_client)


@pytest.fixture
def firebase_crash_points(mongo_client: AsyncMongoClient[Document], firebase: FirebaseGateway) -> CrashPoints:
    """`crash_points` whose claims writes reach the Auth emulator through the app's gateway."""
    return crash_points_for(mongo_client, claims=firebase)
