"""The `incident_flags` collection: every flag received, keyed by its sender's external id.

The deterministic `_id` (agency, service, external id) makes a flag sent twice one record; the record
is written before the incident it opens or joins, and `incident_id` is set last, so a crash in between
leaves a record that the retry resumes instead of a flag that was answered and lost. Until it is
linked, a record is due for the sweep (`finish_due_at`) a short grace after it was received, so a
flag whose sender never retries is finished too.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from carecore.incidents.models import FlagRecord
from carecore.storage.codec import insert_new
from carecore.storage.database import Db, Document
from carecore.storage.incident_codec import detection_from_doc, detection_to_doc, evidence_from_doc, evidence_to_doc
from carecore.storage.leases import claim_due
from carecore.vocabulary import IncidentSource, IncidentType, Severity


def _from_doc(d: Document) -> FlagRecord:
    return FlagRecord(
        id=d["_id"],
        agency_id=d["agency_id"],
        person_id=d["person_id"],
        source=IncidentSource(d["source"]),
        received_at=d["received_at"],
        type=IncidentType(d["type"]),
        severity=Severity(d["severity"]),
        in_review=d["in_review"],
        summary=d.get("summary", ""),
        related_shift_id=d.get("related_shift_id"),
        incident_id=d.get("incident_id"),
        detection=detection_from_doc(d.get("detection")),
        evidence=evidence_from_doc(d.get("evidence")),
        merge_scope=d.get("merge_scope"),
        merge_window=timedelta(seconds=d["merge_window_s"]) if d.get("merge_window_s") else None,
    )


class IncidentFlagStore:
    def __init__(self, db: Db) -> None:
        self._c = db["incident_flags"]

    async def insert(self, flag: FlagRecord, *, finish_due_at: datetime) -> None:
        """AlreadyExists when this flag was received before; the sweep may take it from `finish_due_at`."""
        await insert_new(
            self._c,
            {
                "_id": flag.id,
                "agency_id": flag.agency_id,
                "person_id": flag.person_id,
                "source": flag.source.value,
                "received_at": flag.received_at,
                "type": flag.type.value,
                "severity": flag.severity.value,
                "in_review": flag.in_review,
                "summary": flag.summary,
                "related_shift_id": flag.related_shift_id,
                "incident_id": flag.incident_id,
                "detection": detection_to_doc(flag.detection),
                "evidence": evidence_to_doc(flag.evidence),
                "merge_scope": flag.merge_scope,
                "merge_window_s": flag.merge_window.total_seconds() if flag.merge_window else None,
                "finish_due_at": None if flag.incident_id else finish_due_at,
                "lease_until": None,
                "lease_owner": None,
            },
        )

    async def get(self, flag_id: str) -> FlagRecord | None:
        d = await self._c.find_one({"_id": flag_id})
        return _from_doc(d) if d else None

    async def link(self, flag_id: str, incident_id: str) -> None:
        """The flag is finished: nothing is due for the sweep any more."""
        await self._c.update_one(
            {"_id": flag_id},
            {"$set": {"incident_id": incident_id, "finish_due_at": None, "lease_until": None, "lease_owner": None}},
        )

    async def claim_unlinked(self, *, now: datetime, owner: str, lease: timedelta) -> FlagRecord | None:
        """Claims the oldest flag due for the sweep (stored, never linked); a dead sweeper's claim lapses."""
        d = await claim_due(
            self._c, due_field="finish_due_at", now=now, owner=owner, lease=lease, extra={"incident_id": None}
        )
        return _from_doc(d) if d else None
