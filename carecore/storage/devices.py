"""The `devices` collection: app instances that receive pushes, one owner each."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pymongo import ReturnDocument

from carecore.alerts.models import AddressKind, Device, Platform
from carecore.storage.database import Db, Document


def device_from_doc(d: Document) -> Device:
    return Device(
        id=d["_id"],
        user_id=d["user_id"],
        agency_id=d["agency_id"],
        address_kind=AddressKind(d["address_kind"]),
        address=d["address"],
        platform=Platform(d["platform"]),
        locale=d.get("locale", "ko"),
        app_version=d.get("app_version", ""),
        registered_at=d["registered_at"],
        last_seen_at=d["last_seen_at"],
    )


class DeviceStore:
    def __init__(self, db: Db) -> None:
        self._c = db["devices"]

    async def put(self, device: Device) -> Device:
        """Registers or refreshes a device; its id comes from its address, so a new owner takes it over.

        One upsert on the id: two users registering the same phone at once leave it with exactly one.
        """
        d = await self._c.find_one_and_update(
            {"_id": device.id},
            {
                "$set": {
                    "user_id": device.user_id,
                    "agency_id": device.agency_id,
                    "address_kind": device.address_kind.value,
                    "address": device.address,
                    "platform": device.platform.value,
                    "locale": device.locale,
                    "app_version": device.app_version,
                    "last_seen_at": device.last_seen_at,
                },
                "$setOnInsert": {"registered_at": device.registered_at},
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert d is not None, "an upsert returns the document"
        return device_from_doc(d)

    async def get(self, device_id: str) -> Device | None:
        d = await self._c.find_one({"_id": device_id})
        return device_from_doc(d) if d else None

    async def for_user(self, user_id: str) -> list[Device]:
        cursor = self._c.find({"user_id": user_id}).sort([("last_seen_at", -1), ("_id", 1)])
        return [device_from_doc(d) async for d in cursor]

    async def for_users(self, user_ids: Iterable[str]) -> dict[str, list[Device]]:
        found: dict[str, list[Device]] = {}
        query = {"user_id": {"$in": list(set(user_ids))}}
        async for d in self._c.find(query).sort([("user_id", 1), ("last_seen_at", -1), ("_id", 1)]):
            found.setdefault(d["user_id"], []).append(device_from_doc(d))
        return found

    async def remove(self, device_id: str, *, user_id: str | None = None) -> bool:
        """Removes a device; with `user_id`, only while that user still owns it."""
        query: Document = {"_id": device_id}
        if user_id is not None:
            query["user_id"] = user_id
        result = await self._c.delete_one(query)
        return result.deleted_count == 1

    async def remove_if_unchanged(self, device: Device) -> bool:
        """Drops a device FCM reported unregistered, unless it was registered again since we loaded it."""
        result = await self._c.delete_one({"_id": device.id, "last_seen_at": device.last_seen_at})
        return result.deleted_count == 1

    async def remove_unseen_since(self, before: datetime) -> int:
        result = await self._c.delete_many({"last_seen_at": {"$lt": before}})
        return result.deleted_count
