"""The append-only `events` collection, polled by every instance."""

from __future__ import annotations

from datetime import datetime

from carecore.events.models import DomainEvent
from carecore.storage.codec import insert_new
from carecore.storage.database import Db, Document


def event_from_doc(d: Document) -> DomainEvent:
    return DomainEvent(
        id=d["_id"],
        agency_id=d["agency_id"],
        kind=d["kind"],
        subject_type=d["subject_type"],
        subject_id=d["subject_id"],
        at=d["at"],
        person_id=d.get("person_id"),
        data=d.get("data", {}),
    )


class EventStore:
    def __init__(self, db: Db) -> None:
        self._c = db["events"]

    async def append(self, event: DomainEvent) -> None:
        await insert_new(
            self._c,
            {
                "_id": event.id,
                "agency_id": event.agency_id,
                "kind": event.kind,
                "subject_type": event.subject_type,
                "subject_id": event.subject_id,
                "person_id": event.person_id,
                "data": event.data,
                "at": event.at,
                "handled_by": [],
            },
        )

    async def since(self, after: datetime, *, kinds: list[str] | None = None, limit: int = 500) -> list[DomainEvent]:
        """Events at or after `after`, oldest first. Pollers re-read an overlap and drop ids they saw."""
        query: Document = {"at": {"$gte": after}}
        if kinds is not None:
            query["kind"] = {"$in": kinds}
        cursor = self._c.find(query).sort([("at", 1), ("_id", 1)]).limit(limit)
        return [event_from_doc(d) async for d in cursor]

    async def claim(self, event_id: str, consumer: str) -> bool:
        """Marks an event handled by `consumer`; True for exactly one caller, however many race."""
        result = await self._c.update_one(
            {"_id": event_id, "handled_by": {"$ne": consumer}}, {"$push": {"handled_by": consumer}}
        )
        return result.modified_count == 1

    async def unclaimed(self, consumer: str, kinds: list[str], *, limit: int = 100) -> list[DomainEvent]:
        """Events of `kinds` that `consumer` has not handled yet, oldest first."""
        query: Document = {"kind": {"$in": kinds}, "handled_by": {"$ne": consumer}}
        cursor = self._c.find(query).sort([("at", 1), ("_id", 1)]).limit(limit)
        return [event_from_doc(d) async for d in cursor]

    async def delete_before(self, before: datetime) -> int:
        """The clean-up job: TTL indexes may help in production, but nothing depends on them."""
        result = await self._c.delete_many({"at": {"$lt": before}})
        return result.deleted_count
