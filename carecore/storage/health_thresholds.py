"""The `health_thresholds` collection: one document per person whose coordinator set thresholds of their own.

Document shape: `_id` (the person's id), `agency_id`, `overrides` (threshold name → value, only those
set), `reason`, `set_by`, `set_at`, `revision` (compare-and-set, so two coordinators never overwrite
each other unseen).
"""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType

from carecore.errors import AlreadyExists
from carecore.health.thresholds import NAMES, PersonalThresholds
from carecore.storage.codec import insert_new
from carecore.storage.database import Db, Document


def _from_doc(d: Document) -> PersonalThresholds:
    overrides = {name: float(v) for name, v in d.get("overrides", {}).items() if name in NAMES}
    return PersonalThresholds(
        person_id=d["_id"],
        agency_id=d["agency_id"],
        overrides=MappingProxyType(overrides),
        reason=d["reason"],
        set_by=d["set_by"],
        set_at=d["set_at"],
        revision=d["revision"],
    )


class HealthThresholdStore:
    def __init__(self, db: Db) -> None:
        self._c = db["health_thresholds"]

    async def get(self, agency_id: str, person_id: str) -> PersonalThresholds | None:
        d = await self._c.find_one({"_id": person_id, "agency_id": agency_id})
        return _from_doc(d) if d else None

    async def get_many(self, agency_id: str, person_ids: Iterable[str]) -> dict[str, PersonalThresholds]:
        """Of these people, those with thresholds of their own, in one read."""
        query = {"_id": {"$in": list(set(person_ids))}, "agency_id": agency_id}
        return {d["_id"]: _from_doc(d) async for d in self._c.find(query)}

    async def put(self, t: PersonalThresholds, *, expected_revision: int) -> bool:
        """Compare-and-set on the revision (0: never set); False when another coordinator saved first."""
        doc: Document = {
            "agency_id": t.agency_id,
            "overrides": dict(t.overrides),
            "reason": t.reason,
            "set_by": t.set_by,
            "set_at": t.set_at,
        }
        if expected_revision == 0:
            try:
                await insert_new(self._c, {"_id": t.person_id, **doc, "revision": 1})
            except AlreadyExists:
                return False
            return True
        result = await self._c.update_one(
            {"_id": t.person_id, "agency_id": t.agency_id, "revision": expected_revision},
            {"$set": doc, "$inc": {"revision": 1}},
        )
        return result.modified_count == 1
