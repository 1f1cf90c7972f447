"""The `callouts` collection: second-channel work for CRITICAL notifications nobody acknowledged.

One document per notification (same id), due when the acknowledgement window closes; claimed with
a lease like every background job, so a call is placed once however many instances run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from carecore.storage.codec import find_by_ids
from carecore.storage.database import Db, Document
from carecore.storage.leases import claim_due, release


@dataclass(frozen=True, slots=True)
class CalloutJob:
    notification_id: str
    agency_id: str
    user_id: str
    due_at: datetime | None
    state: str  # WAITING, CALLED, SKIPPED, FAILED
    attempts: int = 0
    sms_id: str | None = None
    call_id: str | None = None
    call_status: str | None = None
    error: str | None = None


def _from_doc(d: Document) -> CalloutJob:
    return CalloutJob(
        notification_id=d["_id"],
        agency_id=d["agency_id"],
        user_id=d["user_id"],
        due_at=d.get("due_at"),
        state=d["state"],
        attempts=d.get("attempts", 0),
        sms_id=d.get("sms_id"),
        call_id=d.get("call_id"),
        call_status=d.get("call_status"),
        error=d.get("error"),
    )


class CalloutStore:
    def __init__(self, db: Db) -> None:
        self._c = db["callouts"]

    async def schedule(self, notification_id: str, *, agency_id: str, user_id: str, due_at: datetime) -> None:
        """Idempotent: routing the same request again schedules nothing new."""
        doc = {"_id": notification_id, "agency_id": agency_id, "user_id": user_id, "due_at": due_at}
        doc["scheduled_for"] = due_at  # kept when due_at is cleared, for the clean-up job
        try:
            await self._c.insert_one({**doc, "state": "WAITING", "lease_until": None, "lease_owner": None})
        except DuplicateKeyError:
            return

    async def get(self, notification_id: str) -> CalloutJob | None:
        d = await self._c.find_one({"_id": notification_id})
        return _from_doc(d) if d else None

    async def get_many(self, notification_ids: Iterable[str]) -> dict[str, CalloutJob]:
        return await find_by_ids(self._c, notification_ids, _from_doc)

    async def claim(self, *, now: datetime, owner: str, lease: timedelta) -> CalloutJob | None:
        d = await claim_due(self._c, due_field="due_at", now=now, owner=owner, lease=lease)
        return _from_doc(d) if d else None

    async def finish(self, notification_id: str, *, owner: str, changes: dict[str, Any]) -> bool:
        """Records the outcome (and the next due time, or None) while `owner` still holds the claim."""
        return await release(self._c, notification_id, owner=owner, changes=changes)

    async def record_call_status(self, notification_id: str, call_id: str, status: str) -> bool:
        """By the callout's id (the status URL names it) and only for the call it placed."""
        query = {"_id": notification_id, "call_id": call_id}
        result = await self._c.update_one(query, {"$set": {"call_status": status}})
        return result.matched_count == 1

    async def delete_finished_before(self, before: datetime) -> int:
        result = await self._c.delete_many({"due_at": None, "scheduled_for": {"$lt": before}})
        return result.deleted_count
