"""A wellness-call service for the world's agency, and reports as it sends them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time

import pytest

from carecore.incidents.models import AiService
from carecore.people.models import ExternalRef, Person
from carecore.ports import Ports
from carecore.reachability.models import CallOutcome, CallReport, CallSlot, Reach, SignKind, SignReport
from carecore.reachability.service import record_call_outcome, record_sign_of_life, set_call_schedule
from tests.conftest import World
from tests.support import FakeClock

SERVICE = "wellness-call"
SECRET = "s" * 40
MINJI_REF = "sub-minji"
JIHO_REF = "sub-jiho"
# The test clock starts on Wednesday 2026-11-25 at 09:00 in Seoul (00:00 UTC): a call at 09:00 is due now.
WEDNESDAY_9 = CallSlot(2, time(9, 0))


async def _give_ref(ports: Ports, person: Person, ref: str) -> None:
    profile = replace(person.profile, external_refs=(ExternalRef(SERVICE, ref),))
    updated = await ports.store.people.update_profile(
        person, profile, expected_revision=person.revision, now=person.updated_at
    )
    assert updated is not None


async def configure_calls(ports: Ports, world: World, clock: FakeClock) -> AiService:
    """The world's AI service account as the wellness-call service, with references for minji and jiho."""
    await _give_ref(ports, world.minji, MINJI_REF)
    await _give_ref(ports, world.jiho, JIHO_REF)
    service = AiService(world.ai_service.id, world.agency.id, SERVICE, SECRET, clock.now())
    await ports.store.ai_services.put(service)
    return service


@pytest.fixture
async def calls(ports: Ports, world: World, clock: FakeClock) -> AiService:
    return await configure_calls(ports, world, clock)


async def schedule_minji(ports: Ports, world: World, *slots: CallSlot) -> Reach:
    return await set_call_schedule(ports, world.coordinator.principal(), world.minji.id, list(slots or (WEDNESDAY_9,)))


async def call(
    ports: Ports,
    world: World,
    service: AiService,
    outcome: CallOutcome,
    *,
    session: str = "s-1",
    attempt: int = 1,
    at: datetime | None = None,
    risk_words: tuple[str, ...] = (),
    transcript: str = "",
    ref: str = MINJI_REF,
) -> Reach:
    report = CallReport(ref, session, attempt, outcome, at or ports.clock.now(), risk_words, None, transcript)
    return (await record_call_outcome(ports, world.ai_service.principal(), service, report)).reach


async def sign(ports: Ports, world: World, service: AiService, kind: SignKind, at: datetime, source_id: str) -> Reach:
    report = SignReport(MINJI_REF, kind, at, source_id)
    return (await record_sign_of_life(ports, world.ai_service.principal(), service, report)).reach
