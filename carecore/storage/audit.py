"""The append-only `audit` collection: who did or read what, never the data itself."""

from __future__ import annotations

from collections.abc import Sequence

from carecore.audit.models import AuditEntry
from carecore.storage.database import Db


class AuditStore:
    def __init__(self, db: Db) -> None:
        self._c = db["audit"]

    async def append(self, entries: Sequence[AuditEntry]) -> None:
        if not entries:
            return
        await self._c.insert_many(
            [
                {
                    "_id": e.id,
                    "agency_id": e.agency_id,
                    "actor_id": e.actor_id,
                    "actor_role": e.actor_role,
                    "action": e.action,
                    "object_type": e.object_type,
                    "object_id": e.object_id,
                    "at": e.at,
                }
                for e in entries
            ],
            ordered=False,
        )

    async def for_object(self, object_id: str, limit: int = 100) -> list[AuditEntry]:
        cursor = self._c.find({"object_id": object_id}).sort("at", -1).limit(limit)
        return [
            AuditEntry(
                id=d["_id"],
                agency_id=d["agency_id"],
                actor_id=d["actor_id"],
                actor_role=d["actor_role"],
                action=d["action"],
                object_type=d["object_type"],
                object_id=d["object_id"],
                at=d["at"],
            )
            async for d in cursor
        ]
