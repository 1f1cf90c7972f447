"""Incidents seen from every role: minji has a seizure protocol (CRITICAL) and both people have AI references."""

from __future__ import annotations

from dataclasses import replace

import pytest

from carecore.incidents.models import AiService, Evidence, FlagSubmission, IncidentType, Signal
from carecore.people.models import ExternalRef, Person, Protocol
from carecore.ports import Ports
from tests.conftest import World
from tests.support import FakeClock

SERVICE = "wellness-call"
SECRET = "test-webhook-secret-0123456789abcdef"
MINJI_REF, JIHO_REF = "WC-0001", "WC-0002"


def flag(
    external_id: str = "flag-1",
    *,
    ref: str = MINJI_REF,
    type: IncidentType = IncidentType.SEIZURE,
    confidence: float = 0.8,
    detector: str = "wearable-seizure",
    model_version: str = "2.1",
) -> FlagSubmission:
    return FlagSubmission(
        external_id=external_id,
        person_ref=ref,
        type=type,
        confidence=confidence,
        detector=detector,
        model_version=model_version,
        evidence=Evidence("Rhythmic movement for 90 seconds", (Signal("duration_s", "90"),)),
    )


async def _give_ref(ports: Ports, person: Person, ref: str, *protocols: Protocol) -> None:
    profile = replace(person.profile, external_refs=(ExternalRef(SERVICE, ref),), protocols=protocols)
    updated = await ports.store.people.update_profile(
        person, profile, expected_revision=person.revision, now=person.updated_at
    )
    assert updated is not None


@pytest.fixture
async def ai(ports: Ports, world: World, clock: FakeClock) -> AiService:
    return await configure_ai(ports, world, clock)


async def configure_ai(ports: Ports, world: World, clock: FakeClock) -> AiService:
    """The world's AI service account, configured, and references for minji and jiho."""
    seizure = Protocol(IncidentType.SEIZURE, "Time it; call 119 after 5 minutes", call_emergency_after_minutes=5)
    await _give_ref(ports, world.minji, MINJI_REF, seizure)
    await _give_ref(ports, world.jiho, JIHO_REF)
    service = AiService(world.ai_service.id, world.agency.id, SERVICE, SECRET, clock.now())
    await ports.store.ai_services.put(service)
    return service
