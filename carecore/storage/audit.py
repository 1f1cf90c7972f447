"""The append-only `audit` collection: who did or read what, never the data itself.

Document shape: `_id`, `agency_id`, `actor_id`, `actor_role` ("system" for the system's own changes),
`action` (e.g. "care_plan.approve"), `object_type`, `object_id`, `at`, `outcome` ("pending", "done"
or "refused"; entries written before outcomes existed read as "done") and, when refused only,
`error` (the domain error's name); `reason` when the change asked the actor why. Entries are never
deleted; the only update an entry receives is its outcome, once, from "pending" (carecore.audit.service.audited).
"""

from __future__ import annotations

from collections.abc import Sequence

from carecore.audit.models import AuditEntry, AuditOutcome
from carecore.storage.database import Db, Document


def _to_doc(e: AuditEntry) -> Document:
    doc: Document = {
        "_id": e.id,
        "agency_id": e.agency_id,
        "actor_id": e.actor_id,
        "actor_role": e.actor_role,
        "action": e.action,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "at": e.at,
        "outcome": e.outcome.value,
    }
    if e.error is not None:
        doc["error"] = e.error
    if e.reason is not None:
        doc["reason"] = e.reason
    return doc


def _from_doc(d: Document) -> AuditEntry:
    return AuditEntry(
        id=d["_id"],
        agency_id=d["agency_id"],
        actor_id=d["actor_id"],
        actor_role=d["actor_role"],
        action=d["action"],
        object_type=d["object_type"],
        object_id=d["object_id"],
        at=d["at"],
        outcome=AuditOutcome(d.get("outcome", AuditOutcome.DONE.value)),
        error=d.get("error"),
        reason=d.get("reason"),
    )


class AuditStore:
    def __init__(self, db: Db) -> None:
        self._c = db["audit"]

    async def append(self, entries: Sequence[AuditEntry]) -> None:
        if not entries:
            return
        await self._c.insert_many([_to_doc(e) for e in entries], ordered=False)

    async def settle(
        self, ids: Sequence[str], outcome: AuditOutcome, *, error: str | None = None, object_id: str | None = None
    ) -> None:
        """Writes the outcome of PENDING entries, in one write; an entry already settled keeps its outcome."""
        if not ids:
            return
        changes: Document = {"outcome": outcome.value}
        if error is not None:
            changes["error"] = error
        if object_id is not None:
            changes["object_id"] = object_id
        await self._c.update_many({"_id": {"$in": list(ids)}, "outcome": AuditOutcome.PENDING.value}, {"$set": changes})

    async def for_object(self, object_id: str, limit: int = 100) -> list[AuditEntry]:
        cursor = self._c.find({"object_id": object_id}).sort("at", -1).limit(limit)
        return [_from_doc(d) async for d in cursor]

    async def for_action(self, object_id: str, action: str, limit: int = 100) -> list[AuditEntry]:
        """One kind of change to an object, newest first: its reads, however many, do not crowd it out."""
        cursor = self._c.find({"object_id": object_id, "action": action}).sort("at", -1).limit(limit)
        return [_from_doc(d) async for d in cursor]
