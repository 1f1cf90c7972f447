"""The FHIR tests' scene over HTTP: one agency, a person every role relates to, and an account per role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import httpx
import pytest

from carecore.access.principal import Role
from carecore.agencies.models import Agency
from carecore.fhir import codes
from carecore.health.models import Component, Metric, Modality, Reading
from carecore.health.service import record_observation
from carecore.ids import new_id
from carecore.incidents.ingestion import report_incident
from carecore.incidents.models import HumanReport, IncidentType
from carecore.people.models import ExternalRef, Person
from carecore.ports import Ports
from carecore.storage.store import Store
from carecore.users.service import principal_for
from tests.support import ALL_PERMISSIONS, FakeClock, link, person, put_active_plan

if TYPE_CHECKING:
    from tests.app.conftest import MakeAccount

FHIR_JSON = "application/fhir+json"


@dataclass
class FhirScene:
    agency: Agency
    minji: Person
    tokens: dict[str, str]  # role name -> ID token

    @property
    def ref_system(self) -> str:
        return codes.external_ref_system(self.agency.id, "wellness-call")


@pytest.fixture
async def fhir_scene(store: Store, ports: Ports, clock: FakeClock, make_account: MakeAccount) -> FhirScene:
    now = clock.now()
    agency, other = Agency(id=new_id(), name="경기 함께돌봄 센터"), Agency(id=new_id(), name="다른 기관")
    for a in (agency, other):
        await store.agencies.upsert(a)
    coordinator, coordinator_token = await make_account(Role.COORDINATOR, agency.id, "김지현")
    caregiver, caregiver_token = await make_account(Role.CAREGIVER, agency.id, "박서준")
    guardian, guardian_token = await make_account(Role.FAMILY, agency.id, "최영희")
    _, ai_token = await make_account(Role.AI_SERVICE, agency.id, "안부전화 AI")
    _, other_token = await make_account(Role.COORDINATOR, other.id, "한지민")
    _, colleague_token = await make_account(Role.COORDINATOR, agency.id, "박준호")
    minji = person(agency.id, "최민지", now=now, external_refs=(ExternalRef("wellness-call", "WC-0001"),))
    await store.people.insert(minji)
    await store.people.set_care_team(minji.id, [caregiver.id], now)
    await link(store, minji, guardian, ALL_PERMISSIONS, now)
    await put_active_plan(store, minji, coordinator, now)
    minji = await store.people.get(minji.id) or minji
    await put_active_plan(store, minji, coordinator, now)  # v2 supersedes v1
    actor = await principal_for(ports, coordinator)
    for minutes in range(5):
        at = now - timedelta(days=minutes)
        bp = (Component("8480-6", 120 + minutes), Component("8462-4", 80))
        hr = (Component("8867-4", 70 + minutes),)
        for metric, values, unit in ((Metric.BLOOD_PRESSURE, bp, "mm[Hg]"), (Metric.HEART_RATE, hr, "/min")):
            await record_observation(ports, actor, Reading(minji.id, metric, values, unit, at, Modality.SENSED))
    await report_incident(ports, actor, HumanReport(minji.id, IncidentType.FALL, "욕실에서 넘어짐"))
    tokens = {
        "coordinator": coordinator_token,
        "caregiver_on_team": caregiver_token,
        "guardian": guardian_token,
        "ai_service": ai_token,
        "other_agency_coordinator": other_token,
        "other_coordinator": colleague_token,  # same agency, not the one who asked for an export
    }
    return FhirScene(agency, await store.people.get(minji.id) or minji, tokens)


async def get(http: httpx.AsyncClient, url: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await http.get(url, headers=headers)
