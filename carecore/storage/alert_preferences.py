"""The `notification_preferences` collection: one document per user, changed by revision."""

from __future__ import annotations

from collections.abc import Iterable

from pymongo.errors import DuplicateKeyError

from carecore.alerts.models import Preferences, QuietHours
from carecore.storage.codec import time_from_str, time_to_str
from carecore.storage.database import Db, Document
from carecore.vocabulary import AlertKind


def preferences_from_doc(d: Document) -> Preferences:
    q = d.get("quiet_hours")
    return Preferences(
        user_id=d["_id"],
        quiet_hours=QuietHours(time_from_str(q["start"]), time_from_str(q["end"])) if q else None,
        timezone=d.get("timezone"),
        muted_kinds=frozenset(AlertKind(k) for k in d.get("muted_kinds", [])),
        on_duty=d.get("on_duty", False),
        revision=d.get("revision", 0),
    )


def _fields(p: Preferences) -> Document:
    q = p.quiet_hours
    return {
        "quiet_hours": {"start": time_to_str(q.start), "end": time_to_str(q.end)} if q else None,
        "timezone": p.timezone,
        "muted_kinds": sorted(k.value for k in p.muted_kinds),
        "on_duty": p.on_duty,
    }


class PreferenceStore:
    def __init__(self, db: Db) -> None:
        self._c = db["notification_preferences"]

    async def get(self, user_id: str) -> Preferences:
        d = await self._c.find_one({"_id": user_id})
        return preferences_from_doc(d) if d else Preferences(user_id=user_id)

    async def get_many(self, user_ids: Iterable[str]) -> dict[str, Preferences]:
        ids = list(set(user_ids))
        found = {d["_id"]: preferences_from_doc(d) async for d in self._c.find({"_id": {"$in": ids}})}
        return {i: found.get(i) or Preferences(user_id=i) for i in ids}

    async def on_duty(self, user_ids: Iterable[str]) -> set[str]:
        cursor = self._c.find({"_id": {"$in": list(set(user_ids))}, "on_duty": True}, {"_id": 1})
        return {d["_id"] async for d in cursor}

    async def replace(self, prefs: Preferences, *, expected_revision: int) -> Preferences | None:
        """Compare-and-set on the revision (0: never saved); None when someone saved first."""
        doc = {**_fields(prefs), "revision": expected_revision + 1}
        if expected_revision == 0:
            try:
                await self._c.insert_one({"_id": prefs.user_id, **doc})
            except DuplicateKeyError:
                return None
        else:
            result = await self._c.update_one({"_id": prefs.user_id, "revision": expected_revision}, {"$set": doc})
            if result.modified_count != 1:
                return None
        return preferences_from_doc({"_id": prefs.user_id, **doc})
