"""Claiming background work with leases in the database, never in memory (DESIGN "Scale").

A worker claims one due document with a conditional find_one_and_update: it is due, and either
unleased or its lease has lapsed. Of racing workers on any number of instances exactly one wins;
a worker that dies holds its claim only until the lease expires, then another takes it over.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from carecore import metrics
from carecore.storage.database import Document


async def claim_due(
    collection: AsyncCollection[Document],
    *,
    due_field: str,
    now: datetime,
    owner: str,
    lease: timedelta,
    extra: dict[str, Any] | None = None,
    retake: bool = False,
) -> Document | None:
    """Claims the earliest due document for `owner` until now + lease; None when nothing is due.

    `retake` lets `owner` take back a claim it still holds: for an owner named after one piece of work,
    whose retry after its process died is the same worker (never for a loop, which would spin on it).
    """
    free: list[Document] = [{"lease_until": {"$exists": False}}, {"lease_until": None}, {"lease_until": {"$lte": now}}]
    if retake:
        free.append({"lease_owner": owner})
    query: Document = {**(extra or {}), due_field: {"$lte": now}, "$or": free}
    claim = {"lease_until": now + lease, "lease_owner": owner}
    # The document as it was, to see whose lease lapsed; the claim is applied to it here.
    before = await collection.find_one_and_update(
        query, {"$set": claim}, sort=[(due_field, 1)], return_document=ReturnDocument.BEFORE
    )
    if before is None:
        return None
    if before.get("lease_owner") not in (None, owner):
        metrics.LEASE_TAKEOVERS.labels(collection.name).inc()
    return {**before, **claim}


async def release(collection: AsyncCollection[Document], doc_id: str, *, owner: str, changes: dict[str, Any]) -> bool:
    """Finishes a claimed document with `changes` (e.g. the next due time, or none), if still ours.

    False means the lease lapsed and another worker took it over: the caller must not repeat effects.
    """
    result = await collection.update_one(
        {"_id": doc_id, "lease_owner": owner},
        {"$set": {**changes, "lease_until": None, "lease_owner": None}},
    )
    return result.modified_count == 1
