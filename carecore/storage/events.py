"""The append-only `events` collection, polled by every instance."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from carecore.events.models import DomainEvent, ParkedEvent
from carecore.storage.codec import EARLIEST, insert_new
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

    async def delete_handled_before(self, before: datetime, consumers: Mapping[str, frozenset[str]]) -> int:
        """Deletes the events older than `before` that every consumer of their kind has handled.

        The condition is in the delete itself: a claim only ever adds a consumer, so no event a
        consumer has yet to handle can be deleted by a clean-up that read it a moment earlier. (A TTL
        index would delete unhandled events too: nothing may rely on one here.)
        """
        done: list[Document] = [{"kind": {"$nin": sorted(consumers)}}]
        done += [{"kind": kind, "handled_by": {"$all": sorted(names)}} for kind, names in consumers.items()]
        result = await self._c.delete_many({"at": {"$lt": before}, "$or": done})
        return result.deleted_count

    async def park_unhandled_before(
        self, before: datetime, consumers: Mapping[str, frozenset[str]], *, now: datetime, limit: int = 500
    ) -> list[ParkedEvent]:
        """Marks `parked_at` on events older than `before` that a consumer of their kind has not handled.

        Returns the events this call parked (each is parked once). Consumers still see parked events.
        """
        pending = [{"kind": kind, "handled_by": {"$ne": name}} for kind, names in consumers.items() for name in names]
        if not pending:
            return []
        query: Document = {"at": {"$lt": before}, "parked_at": None, "$or": pending}
        parked: list[ParkedEvent] = []
        async for d in self._c.find(query).sort([("at", 1), ("_id", 1)]).limit(limit):
            result = await self._c.update_one({"_id": d["_id"], "parked_at": None}, {"$set": {"parked_at": now}})
            if result.modified_count == 1:
                parked.append(_parked(d, now))
        return parked

    async def parked(self, *, limit: int = 100) -> list[ParkedEvent]:
        """Parked events, first parked first, with the consumers that handled them so far."""
        cursor = self._c.find({"parked_at": {"$gte": EARLIEST}}).sort([("parked_at", 1), ("_id", 1)]).limit(limit)
        return [_parked(d, d["parked_at"]) async for d in cursor]


def _parked(d: Document, parked_at: datetime) -> ParkedEvent:
    return ParkedEvent(event_from_doc(d), parked_at=parked_at, handled_by=tuple(d.get("handled_by", ())))
