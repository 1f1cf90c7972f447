"""The append-only `events` collection, polled by every instance."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime, timedelta

from pymongo.errors import DuplicateKeyError

from carecore.events.models import DomainEvent, ParkedEvent
from carecore.storage.codec import EARLIEST, insert_new
from carecore.storage.database import Db, Document

# A poll re-reads this much before its position for events inserted after their `at` (see `unclaimed`);
# rescanning everything this often catches any later ones, well before an unhandled event is parked (1 h).
OVERLAP = timedelta(minutes=5)
RESCAN_EVERY = timedelta(minutes=10)


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
        self._positions = db["event_positions"]  # consumer name -> (at, event id) handled up to

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

    async def unclaimed(self, consumer: str, kinds: list[str], *, now: datetime, limit: int = 100) -> list[DomainEvent]:
        """Events of `kinds` that `consumer` has not handled yet, oldest first, read from its position.

        Each consumer keeps a position in `event_positions`: every event of its kinds at or before it
        (by `at`, then id) was handled when the position moved there. A poll reads (1) forward from the
        position, handled events included, so the read is exactly what it returns and the position moves
        over the handled run it saw; (2) the OVERLAP before the position, for events not yet handled
        there; and (3) every RESCAN_EVERY, all retained events, as the old poll did.

        Why no event is ever skipped: the position only moves over events this read saw handled, and
        `handled_by` only grows (a claim adds, nothing removes), so below the position an unhandled event
        can only be one inserted after the read that passed its place: an event whose insert lagged its
        `at`. (2) finds those whose lag is under OVERLAP within a poll; (3) finds any other within
        RESCAN_EVERY, since clean-up deletes only handled events (I7) and every retained event of the
        consumer's kinds not handled by it is in that read. A crash between handling and moving the
        position leaves it behind: the next poll re-reads the handled events and moves it then.
        """
        position = await self._positions.find_one({"_id": consumer}) or {}
        mark: tuple[datetime, str] = (position.get("at", EARLIEST), position.get("event_id", ""))
        rescan_due = position.get("rescan_at", EARLIEST) <= now
        pending: dict[str, DomainEvent] = {}
        if rescan_due:
            everything = {"kind": {"$in": kinds}, "handled_by": {"$ne": consumer}}
            async for d in self._c.find(everything).sort([("at", 1), ("_id", 1)]).limit(limit):
                pending[d["_id"]] = event_from_doc(d)
        elif mark[0] > EARLIEST:
            late = {"kind": {"$in": kinds}, "at": {"$gte": mark[0] - OVERLAP, "$lte": mark[0]}}
            async for d in self._c.find({**late, "handled_by": {"$ne": consumer}}).limit(limit):
                pending[d["_id"]] = event_from_doc(d)
        moved, unbroken = mark, True
        # After the mark by (at, id): however many events share its `at`, each poll gets past some.
        after = {"$or": [{"at": {"$gt": mark[0]}}, {"at": mark[0], "_id": {"$gt": mark[1]}}]}
        forward = self._c.find({"kind": {"$in": kinds}, **after}).sort([("at", 1), ("_id", 1)])
        async for d in forward.limit(limit):
            here = (d["at"], d["_id"])
            if consumer not in d.get("handled_by", ()):
                pending[d["_id"]] = event_from_doc(d)
                unbroken = False
            elif unbroken:
                moved = here
        if moved != mark or rescan_due:
            await self._move(consumer, moved, None if not rescan_due else now + RESCAN_EVERY)
        return sorted(pending.values(), key=lambda e: (e.at, e.id))[:limit]

    async def _move(self, consumer: str, to: tuple[datetime, str], rescan_at: datetime | None) -> None:
        """Sets the consumer's position unless another poll already moved it further (never backwards)."""
        update: Document = {"at": to[0], "event_id": to[1]}
        if rescan_at is not None:
            update["rescan_at"] = rescan_at
        with contextlib.suppress(DuplicateKeyError):  # the position exists and is further on: nothing to do
            await self._positions.update_one({"_id": consumer, "at": {"$lte": to[0]}}, {"$set": update}, upsert=True)

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
