"""The `incident_flags` collection: every flag received, keyed by its sender's external id.

The deterministic `_id` (agency, service, external id) makes a flag sent twice one record; the record
is written before the incident it opens or joins, and `incident_id` is set last, so a crash in between
leaves a record that the retry resumes instead of a flag that was answered and lost.
"""

from __future__ import annotations

from carecore.incidents.models import FlagRecord, IncidentSource
from carecore.storage.codec import insert_new
from carecore.storage.database import Db
from carecore.storage.incident_codec import detection_from_doc, detection_to_doc, evidence_from_doc, evidence_to_doc


class IncidentFlagStore:
    def __init__(self, db: Db) -> None:
        self._c = db["incident_flags"]

    async def insert(self, flag: FlagRecord) -> None:
        """AlreadyExists when this flag was received before."""
        await insert_new(
            self._c,
            {
                "_id": flag.id,
                "agency_id": flag.agency_id,
                "person_id": flag.person_id,
                "source": flag.source.value,
                "received_at": flag.received_at,
                "incident_id": flag.incident_id,
                "detection": detection_to_doc(flag.detection),
                "evidence": evidence_to_doc(flag.evidence),
            },
        )

    async def get(self, flag_id: str) -> FlagRecord | None:
        d = await self._c.find_one({"_id": flag_id})
        if d is None:
            return None
        return FlagRecord(
            id=d["_id"],
            agency_id=d["agency_id"],
            person_id=d["person_id"],
            source=IncidentSource(d["source"]),
            received_at=d["received_at"],
            incident_id=d.get("incident_id"),
            detection=detection_from_doc(d.get("detection")),
            evidence=evidence_from_doc(d.get("evidence")),
        )

    async def link(self, flag_id: str, incident_id: str) -> None:
        await self._c.update_one({"_id": flag_id}, {"$set": {"incident_id": incident_id}})

    async def count_for(self, incident_id: str) -> int:
        return await self._c.count_documents({"incident_id": incident_id})
