"""Small conversions between domain values and BSON-friendly values."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar

from pymongo.errors import DuplicateKeyError

from carecore.errors import AlreadyExists, ValidationFailed

T = TypeVar("T")


def time_to_str(value: time) -> str:
    return value.strftime("%H:%M")


def time_from_str(value: str) -> time:
    return time.fromisoformat(value)


def date_to_str(value: date | None) -> str | None:
    # MongoDB has no date-only type; ISO strings sort and compare correctly.
    return value.isoformat() if value else None


def date_from_str(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


# The lower bound of "any date": a range an index can serve where `$ne: None` would scan every key.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


def encode_cursor(sort_value: str, object_id: str) -> str:
    return f"{sort_value}\x1f{object_id}"


def decode_cursor(cursor: str) -> tuple[str, str]:
    sort_value, sep, object_id = cursor.rpartition("\x1f")
    if not sep:
        raise ValidationFailed("Invalid cursor.", field="after")
    return sort_value, object_id


def after_filter(field: str, cursor: str | None) -> dict[str, object]:
    """Keyset condition for documents sorted by (field, _id) ascending."""
    if cursor is None:
        return {}
    value, object_id = decode_cursor(cursor)
    return {"$or": [{field: {"$gt": value}}, {field: value, "_id": {"$gt": object_id}}]}


def is_duplicate_id(exc: Exception) -> bool:
    details = getattr(exc, "details", None) or {}
    return details.get("keyPattern") == {"_id": 1} or "_id_" in str(exc)


async def insert_new(collection: Any, doc: dict[str, Any]) -> None:
    """Inserts, turning a clash on `_id` into AlreadyExists and leaving other clashes to the caller."""
    try:
        await collection.insert_one(doc)
    except DuplicateKeyError as exc:
        if is_duplicate_id(exc):
            raise AlreadyExists(doc["_id"]) from exc
        raise


async def find_by_ids(collection: Any, ids: Iterable[str], decode: Callable[[dict[str, Any]], T]) -> dict[str, T]:
    """One round-trip for a DataLoader batch, keyed by id."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    # MongoDB's first batch stops at 101 documents; asking for all of them avoids a getMore.
    cursor = collection.find({"_id": {"$in": wanted}}).batch_size(len(wanted))
    return {d["_id"]: decode(d) async for d in cursor}
