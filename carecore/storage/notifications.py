"""The `notifications` collection: every recipient's inbox entry and the outbox of its push.

A notification is written before any send. The dispatcher claims due ones with a lease (several at a
time, each claim still a conditional update per document), sends, and finishes them only while it
still holds the lease; a crashed dispatcher's claims lapse and another instance sends them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument, UpdateOne

from carecore.alerts.models import DeliveryState, DeviceOutcome, DeviceResult, Finish, Notification
from carecore.errors import ValidationFailed
from carecore.pagination import Page, PageRequest
from carecore.storage.codec import decode_cursor, encode_cursor, insert_new
from carecore.storage.database import Db, Document
from carecore.vocabulary import AlertKind, Severity


def _result_from_doc(d: Document) -> DeviceResult:
    return DeviceResult(
        device_id=d["device_id"],
        outcome=DeviceOutcome(d["outcome"]),
        at=d["at"],
        error=d.get("error"),
        message_id=d.get("message_id"),
    )


def result_to_doc(r: DeviceResult) -> Document:
    return {
        "device_id": r.device_id,
        "outcome": r.outcome.value,
        "at": r.at,
        "error": r.error,
        "message_id": r.message_id,
    }


def notification_from_doc(d: Document) -> Notification:
    return Notification(
        id=d["_id"],
        agency_id=d["agency_id"],
        user_id=d["user_id"],
        request_id=d["request_id"],
        kind=AlertKind(d["kind"]),
        severity=Severity(d["severity"]),
        subject_type=d["subject_type"],
        subject_id=d["subject_id"],
        person_id=d.get("person_id"),
        person_name=d.get("person_name"),
        locale=d.get("locale", "ko"),
        title=d["title"],
        body=d["body"],
        created_at=d["created_at"],
        state=DeliveryState(d["state"]),
        push_at=d.get("push_at"),
        attempts=d.get("attempts", 0),
        next_attempt_at=d.get("next_attempt_at"),
        results=tuple(_result_from_doc(r) for r in d.get("results", [])),
        read_at=d.get("read_at"),
        acknowledged_at=d.get("acknowledged_at"),
        subject_acknowledged_at=d.get("subject_acknowledged_at"),
        updated_at=d.get("updated_at", d["created_at"]),
    )


class NotificationStore:
    def __init__(self, db: Db) -> None:
        self._c = db["notifications"]

    async def insert(self, n: Notification) -> None:
        await insert_new(
            self._c,
            {
                "_id": n.id,
                "agency_id": n.agency_id,
                "user_id": n.user_id,
                "request_id": n.request_id,
                "kind": n.kind.value,
                "severity": n.severity.value,
                "subject_type": n.subject_type,
                "subject_id": n.subject_id,
                "person_id": n.person_id,
                "person_name": n.person_name,
                "locale": n.locale,
                "title": n.title,
                "body": n.body,
                "created_at": n.created_at,
                "state": n.state.value,
                "push_at": n.push_at,
                "attempts": n.attempts,
                "next_attempt_at": n.next_attempt_at,
                "results": [result_to_doc(r) for r in n.results],
                "read_at": n.read_at,
                "acknowledged_at": n.acknowledged_at,
                "subject_acknowledged_at": n.subject_acknowledged_at,
                "updated_at": n.updated_at or n.created_at,
                "lease_until": None,
                "lease_owner": None,
            },
        )

    async def get(self, notification_id: str) -> Notification | None:
        d = await self._c.find_one({"_id": notification_id})
        return notification_from_doc(d) if d else None

    async def for_request(self, request_id: str) -> list[Notification]:
        cursor = self._c.find({"request_id": request_id}).sort("_id", 1)
        return [notification_from_doc(d) async for d in cursor]

    async def for_subjects(self, subject_ids: Sequence[str]) -> list[Notification]:
        """Every recipient's copy of the alerts about these subjects, in one query (indexed on subject_id)."""
        cursor = self._c.find({"subject_id": {"$in": list(subject_ids)}}).sort([("created_at", 1), ("_id", 1)])
        return [notification_from_doc(d) async for d in cursor]

    async def outbox_stats(self) -> tuple[int, datetime | None]:
        """How many notifications wait for a push attempt (due or scheduled), and the oldest one's creation."""
        # A range, not `$ne: None`, so the next_attempt_at index bounds the scan; one pass for both figures.
        waiting: Document = {"next_attempt_at": {"$gte": datetime(1970, 1, 1, tzinfo=UTC)}}
        pipeline: list[Document] = [
            {"$match": waiting},
            {"$group": {"_id": None, "depth": {"$sum": 1}, "oldest": {"$min": "$created_at"}}},
        ]
        found = await (await self._c.aggregate(pipeline)).to_list()
        return (found[0]["depth"], found[0]["oldest"]) if found else (0, None)

    async def claim_due(self, *, now: datetime, owner: str, lease: timedelta, limit: int) -> list[Notification]:
        """Claims up to `limit` due notifications for `owner` (unique per call) until now + lease."""
        free: Document = {"$or": [{"lease_until": None}, {"lease_until": {"$lte": now}}]}
        due: Document = {"next_attempt_at": {"$lte": now}, **free}
        candidates = self._c.find(due, {"_id": 1}).sort([("next_attempt_at", 1), ("_id", 1)]).limit(limit)
        ids = [d["_id"] async for d in candidates]
        if not ids:
            return []
        # Each document is claimed by its own conditional match: racing instances split the batch.
        await self._c.update_many(
            {"_id": {"$in": ids}, **due}, {"$set": {"lease_until": now + lease, "lease_owner": owner}}
        )
        return [notification_from_doc(d) async for d in self._c.find({"_id": {"$in": ids}, "lease_owner": owner})]

    async def finish(self, owner: str, finishes: list[Finish], *, now: datetime) -> int:
        """Records attempts on notifications `owner` still holds; returns how many it still held."""
        if not finishes:
            return 0
        ops = [
            UpdateOne(
                {"_id": f.notification_id, "lease_owner": owner},
                {
                    "$set": {
                        "state": f.state.value,
                        "attempts": f.attempts,
                        "next_attempt_at": f.next_attempt_at,
                        "results": [result_to_doc(r) for r in f.results],
                        "updated_at": now,  # the delivery state a recipient sees changed
                        "lease_until": None,
                        "lease_owner": None,
                    }
                },
            )
            for f in finishes
        ]
        result = await self._c.bulk_write(ops, ordered=False)
        return result.modified_count

    async def list_for_user(
        self, user_id: str, page: PageRequest, *, unread_only: bool, updated_since: datetime | None = None
    ) -> Page[Notification]:
        """Newest first; with `updated_since`, those changed after it, oldest change first (a delta)."""
        query: Document = {"user_id": user_id}
        if unread_only:
            query["read_at"] = None
        if updated_since is not None:
            return await self._changed_for_user({**query, "updated_at": {"$gt": updated_since}}, page)
        if page.after is not None:
            value, object_id = decode_cursor(page.after)
            at = datetime.fromisoformat(value)
            query["$or"] = [{"created_at": {"$lt": at}}, {"created_at": at, "_id": {"$lt": object_id}}]
        cursor = self._c.find(query).sort([("created_at", -1), ("_id", -1)]).limit(page.first + 1)
        found = [notification_from_doc(d) async for d in cursor]
        edges = [(encode_cursor(n.created_at.isoformat(), n.id), n) for n in found[: page.first]]
        return Page(edges=edges, has_next_page=len(found) > page.first)

    async def _changed_for_user(self, query: Document, page: PageRequest) -> Page[Notification]:
        if page.after is not None:
            value, object_id = decode_cursor(page.after)
            at = _cursor_time(value)
            query["$or"] = [{"updated_at": {"$gt": at}}, {"updated_at": at, "_id": {"$gt": object_id}}]
        cursor = self._c.find(query).sort([("updated_at", 1), ("_id", 1)]).limit(page.first + 1)
        found = [notification_from_doc(d) async for d in cursor]
        edges = [(encode_cursor((n.updated_at or n.created_at).isoformat(), n.id), n) for n in found[: page.first]]
        return Page(edges=edges, has_next_page=len(found) > page.first)

    async def mark_read(self, notification_id: str, user_id: str, now: datetime) -> Notification | None:
        """Sets read_at once; a second read keeps the first time. None when not the user's."""
        return await self._set_once(notification_id, user_id, {"read_at": now})

    async def acknowledge(self, notification_id: str, user_id: str, now: datetime) -> Notification | None:
        """Acknowledging implies reading; the first time of each is kept."""
        await self._set_once(notification_id, user_id, {"read_at": now})
        return await self._set_once(notification_id, user_id, {"acknowledged_at": now})

    async def mark_subject_acknowledged(
        self, subject_id: str, now: datetime, *, created_by: datetime | None = None
    ) -> int:
        """`created_by`: only notifications created by then (a reopened incident's later alerts stay armed)."""
        query: dict[str, Any] = {"subject_id": subject_id, "subject_acknowledged_at": None}
        if created_by is not None:
            query["created_at"] = {"$lte": created_by}
        result = await self._c.update_many(query, {"$set": {"subject_acknowledged_at": now, "updated_at": now}})
        return result.modified_count

    async def _set_once(self, notification_id: str, user_id: str, fields: dict[str, Any]) -> Notification | None:
        ((name, value),) = fields.items()
        d = await self._c.find_one_and_update(
            {"_id": notification_id, "user_id": user_id, name: None},
            {"$set": {name: value, "updated_at": value}},
            return_document=ReturnDocument.AFTER,
        )
        if d is None:
            d = await self._c.find_one({"_id": notification_id, "user_id": user_id})
        return notification_from_doc(d) if d else None

    async def delete_created_before(self, before: datetime) -> int:
        """Old inbox history; a notification still being delivered is never old enough."""
        result = await self._c.delete_many({"created_at": {"$lt": before}, "next_attempt_at": None})
        return result.deleted_count


def _cursor_time(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed("Invalid cursor.", field="after") from exc
