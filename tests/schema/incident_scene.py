"""Incidents for the authorization matrix: minji has an open CRITICAL one, one in review and one resolved."""

from __future__ import annotations

from dataclasses import dataclass, replace

from carecore.incidents import service
from carecore.incidents.ingestion import ingest_flag, report_incident
from carecore.incidents.models import AiService, FlagSubmission, HumanReport, IncidentType
from carecore.people.models import ExternalRef, Protocol
from carecore.ports import Ports
from carecore.storage.people import profile_to_doc
from tests.conftest import World

SERVICE = "wellness-call"
MINJI_REF = "WC-0001"


@dataclass(frozen=True)
class IncidentScene:
    open_id: str
    review_id: str
    resolved_id: str


async def incident_scene(ports: Ports, world: World) -> IncidentScene:
    minji = world.minji
    seizure = Protocol(IncidentType.SEIZURE, "119 after 5 minutes", call_emergency_after_minutes=5)
    profile = replace(minji.profile, external_refs=(ExternalRef(SERVICE, MINJI_REF),), protocols=(seizure,))
    # Written as a fixture would, keeping the revision other operations of the matrix expect.
    await ports.store.db["people"].update_one({"_id": minji.id}, {"$set": profile_to_doc(minji.agency_id, profile)})
    now = ports.clock.now()
    ai = AiService(world.ai_service.id, world.agency.id, SERVICE, "matrix-secret-0123456789abcdef0123", now)
    await ports.store.ai_services.put(ai)
    actor = world.ai_service.principal()

    def flag(external_id: str, type: IncidentType, confidence: float) -> FlagSubmission:
        return FlagSubmission(external_id, MINJI_REF, type, confidence, "wearable", "2.1")

    open_ = await ingest_flag(ports, actor, ai, flag("open", IncidentType.SEIZURE, 0.8))
    review = await ingest_flag(ports, actor, ai, flag("review", IncidentType.WANDERING, 0.2))
    report = HumanReport(minji.id, IncidentType.MEDICATION, "Took the evening dose twice")
    resolved = await report_incident(ports, world.coordinator.principal(), report)
    await service.resolve_incident(ports, world.coordinator.principal(), resolved.id, outcome="Doctor called, fine")
    return IncidentScene(open_id=open_.incident.id, review_id=review.incident.id, resolved_id=resolved.id)
