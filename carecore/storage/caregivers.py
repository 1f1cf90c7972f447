"""Caregivers' profiles (`caregiver_profiles`) and schedule documents (`caregiver_schedules`).

A schedule document holds one caregiver's booked intervals and a revision; writers replace the
bookings by compare-and-set on that revision, so the rules checked in memory held at the write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from carecore.shifts.models import AvailabilityWindow, Booking, CaregiverProfile, CaregiverSchedule, Qualification
from carecore.storage.codec import date_from_str, date_to_str, time_from_str, time_to_str
from carecore.storage.database import Db, Document


def profile_from_doc(d: Document) -> CaregiverProfile:
    return CaregiverProfile(
        user_id=d["_id"],
        agency_id=d["agency_id"],
        qualifications=tuple(
            Qualification(q["code"], date_from_str(q.get("expires_on"))) for q in d.get("qualifications", [])
        ),
        max_weekly_hours=d.get("max_weekly_hours"),
        min_rest_hours=d.get("min_rest_hours"),
        availability=tuple(
            AvailabilityWindow(tuple(w["weekdays"]), time_from_str(w["start"]), time_from_str(w["end"]))
            for w in d.get("availability", [])
        ),
        revision=d["revision"],
        updated_at=d.get("updated_at"),
    )


def _profile_fields(p: CaregiverProfile) -> Document:
    return {
        "agency_id": p.agency_id,
        "qualifications": [{"code": q.code, "expires_on": date_to_str(q.expires_on)} for q in p.qualifications],
        "max_weekly_hours": p.max_weekly_hours,
        "min_rest_hours": p.min_rest_hours,
        "availability": [
            {"weekdays": list(w.weekdays), "start": time_to_str(w.start), "end": time_to_str(w.end)}
            for w in p.availability
        ],
    }


class CaregiverProfileStore:
    def __init__(self, db: Db) -> None:
        self._c = db["caregiver_profiles"]

    async def get(self, user_id: str) -> CaregiverProfile | None:
        d = await self._c.find_one({"_id": user_id})
        return profile_from_doc(d) if d else None

    async def get_many(self, ids: Iterable[str]) -> dict[str, CaregiverProfile]:
        return {d["_id"]: profile_from_doc(d) async for d in self._c.find({"_id": {"$in": list(set(ids))}})}

    async def put(self, p: CaregiverProfile, *, expected_revision: int, now: datetime) -> CaregiverProfile | None:
        """Compare-and-set on the revision; revision 0 creates the profile. None when it moved on."""
        try:
            d = await self._c.find_one_and_update(
                {"_id": p.user_id, "revision": expected_revision},
                {"$set": {**_profile_fields(p), "updated_at": now}, "$inc": {"revision": 1}},
                upsert=expected_revision == 0,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            return None  # created meanwhile: the caller's revision 0 is stale
        return profile_from_doc(d) if d else None


def _booking_doc(b: Booking) -> Document:
    return {"shift_id": b.shift_id, "token": b.token, "start": b.start, "end": b.end}


def _schedule_from(caregiver_id: str, d: Document | None) -> CaregiverSchedule:
    if d is None:
        return CaregiverSchedule(caregiver_id, 0, ())
    bookings = tuple(Booking(b["shift_id"], b["token"], b["start"], b["end"]) for b in d.get("bookings", []))
    return CaregiverSchedule(caregiver_id, d["revision"], bookings)


class CaregiverScheduleStore:
    def __init__(self, db: Db) -> None:
        self._c = db["caregiver_schedules"]

    async def get(self, caregiver_id: str) -> CaregiverSchedule:
        return _schedule_from(caregiver_id, await self._c.find_one({"_id": caregiver_id}))

    async def get_many(self, caregiver_ids: Iterable[str]) -> dict[str, CaregiverSchedule]:
        ids = list(set(caregiver_ids))
        found = {d["_id"]: d async for d in self._c.find({"_id": {"$in": ids}})}
        return {i: _schedule_from(i, found.get(i)) for i in ids}

    async def replace(
        self, caregiver_id: str, agency_id: str, *, expected_revision: int, bookings: Sequence[Booking]
    ) -> bool:
        """Compare-and-set of the whole booking list; False when another writer got there first."""
        try:
            result = await self._c.update_one(
                {"_id": caregiver_id, "revision": expected_revision},
                {
                    "$set": {"agency_id": agency_id, "bookings": [_booking_doc(b) for b in bookings]},
                    "$inc": {"revision": 1},
                },
                upsert=expected_revision == 0,
            )
        except DuplicateKeyError:
            return False  # two first bookings raced to create the document
        return result.modified_count == 1 or result.upserted_id is not None

    async def remove_booking(self, caregiver_id: str, shift_id: str, token: str) -> None:
        await self._c.update_one(
            {"_id": caregiver_id, "bookings.token": token},
            {"$pull": {"bookings": {"shift_id": shift_id, "token": token}}, "$inc": {"revision": 1}},
        )

    async def remove(self, caregiver_id: str, shift_id: str, *, keep_token: str | None = None) -> None:
        """Drops the shift's bookings (but `keep_token`'s). Removing never breaks a rule, so no CAS is
        needed; the revision still moves so that a concurrent compare-and-set re-reads."""
        await self._c.update_one(
            {"_id": caregiver_id, "bookings.shift_id": shift_id},
            {"$pull": {"bookings": {"shift_id": shift_id, "token": {"$ne": keep_token}}}, "$inc": {"revision": 1}},
        )
