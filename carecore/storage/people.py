"""The `people` collection."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from carecore.access.policy import PersonScope
from carecore.errors import ValidationFailed
from carecore.pagination import Page, PageRequest
from carecore.people.models import (
    Allergy,
    CommunicationProfile,
    EmergencyContact,
    ExternalRef,
    GuardianLink,
    HomeLocation,
    Person,
    PersonProfile,
    Protocol,
    SupportLevel,
    SupportWindow,
)
from carecore.storage.codec import (
    after_filter,
    date_from_str,
    date_to_str,
    encode_cursor,
    find_by_ids,
    insert_new,
    time_from_str,
    time_to_str,
)
from carecore.storage.database import Db, Document
from carecore.vocabulary import GuardianPermission, IncidentType


def _ref_key(agency_id: str, ref: ExternalRef) -> str:
    return f"{agency_id}|{ref.service}|{ref.reference}"


def profile_to_doc(agency_id: str, p: PersonProfile) -> Document:
    return {
        "name": p.name,
        "name_key": p.name.casefold(),
        "preferred_name": p.preferred_name,
        "date_of_birth": date_to_str(p.date_of_birth),
        "language": p.language,
        "communication": {
            "verbal": p.communication.verbal,
            "aac": p.communication.aac,
            "distress_signs": p.communication.distress_signs,
            "notes": p.communication.notes,
        },
        "support_level": p.support_level.value,
        "support_hours": [
            {"weekdays": list(w.weekdays), "start": time_to_str(w.start), "end": time_to_str(w.end)}
            for w in p.support_hours
        ],
        "allergies": [{"substance": a.substance, "reaction": a.reaction, "severe": a.severe} for a in p.allergies],
        "protocols": [
            {
                "incident_type": x.incident_type.value,
                "instructions": x.instructions,
                "call_emergency_after_minutes": x.call_emergency_after_minutes,
            }
            for x in p.protocols
        ],
        "emergency_contacts": [
            {"name": c.name, "relationship": c.relationship, "phone": c.phone} for c in p.emergency_contacts
        ],
        "home": None
        if p.home is None
        else {
            "address": p.home.address,
            "latitude": p.home.latitude,
            "longitude": p.home.longitude,
            "geofence_radius_m": p.home.geofence_radius_m,
        },
        "external_refs": [{"service": r.service, "reference": r.reference} for r in p.external_refs],
        # A sparse unique index over these keys keeps one person per reference (no partial indexes here).
        "external_ref_keys": [_ref_key(agency_id, r) for r in p.external_refs] or None,
        "active": p.active,
        "co2_retainer": p.co2_retainer,
    }


def _windows(docs: list[Document]) -> tuple[SupportWindow, ...]:
    return tuple(SupportWindow(tuple(w["weekdays"]), time_from_str(w["start"]), time_from_str(w["end"])) for w in docs)


def profile_from_doc(d: Document) -> PersonProfile:
    c = d.get("communication") or {}
    h = d.get("home")
    return PersonProfile(
        name=d["name"],
        preferred_name=d.get("preferred_name"),
        date_of_birth=date_from_str(d.get("date_of_birth")),
        language=d.get("language", "ko"),
        communication=CommunicationProfile(
            verbal=c.get("verbal", True),
            aac=c.get("aac"),
            distress_signs=c.get("distress_signs", ""),
            notes=c.get("notes", ""),
        ),
        support_level=SupportLevel(d.get("support_level", SupportLevel.MODERATE)),
        support_hours=_windows(d.get("support_hours", [])),
        allergies=tuple(
            Allergy(a["substance"], a.get("reaction", ""), a.get("severe", False)) for a in d.get("allergies", [])
        ),
        protocols=tuple(
            Protocol(IncidentType(x["incident_type"]), x["instructions"], x.get("call_emergency_after_minutes"))
            for x in d.get("protocols", [])
        ),
        emergency_contacts=tuple(
            EmergencyContact(c["name"], c["relationship"], c["phone"]) for c in d.get("emergency_contacts", [])
        ),
        home=None if not h else HomeLocation(h["address"], h["latitude"], h["longitude"], h["geofence_radius_m"]),
        external_refs=tuple(ExternalRef(r["service"], r["reference"]) for r in d.get("external_refs", [])),
        active=d.get("active", True),
        co2_retainer=d.get("co2_retainer", False),
    )


def _guardian_to_doc(link: GuardianLink) -> Document:
    return {
        "user_id": link.user_id,
        "relationship": link.relationship,
        "permissions": sorted(p.value for p in link.permissions),
    }


def person_from_doc(d: Document) -> Person:
    return Person(
        id=d["_id"],
        agency_id=d["agency_id"],
        profile=profile_from_doc(d),
        guardians=tuple(
            GuardianLink(g["user_id"], g["relationship"], frozenset(GuardianPermission(p) for p in g["permissions"]))
            for g in d.get("guardians", [])
        ),
        care_team=tuple(d.get("care_team", [])),
        active_care_plan_id=d.get("active_care_plan_id"),
        revision=d["revision"],
        created_at=d["created_at"],
        updated_at=d["updated_at"],
    )


def _duplicate_ref() -> ValidationFailed:
    return ValidationFailed("An external reference is already used by another person.", field="externalRefs")


def _scope_query(scope: PersonScope) -> Document:
    query: Document = {"agency_id": scope.agency_id}
    if scope.care_team_member is not None:
        # A caregiver serves the people of their care team and those they have a shift with.
        on_team: Document = {"care_team": scope.care_team_member}
        if scope.served_person_ids:
            # Under $and: the page's keyset condition adds an $or of its own.
            query["$and"] = [{"$or": [on_team, {"_id": {"$in": sorted(scope.served_person_ids)}}]}]
        else:
            query.update(on_team)
    if scope.guardian_user is not None:
        query["guardians.user_id"] = scope.guardian_user
    return query


class PersonStore:
    def __init__(self, db: Db) -> None:
        self._c = db["people"]

    async def get(self, person_id: str) -> Person | None:
        d = await self._c.find_one({"_id": person_id})
        return person_from_doc(d) if d else None

    async def get_many(self, ids: Iterable[str]) -> dict[str, Person]:
        return await find_by_ids(self._c, ids, person_from_doc)

    async def by_external_ref(self, agency_id: str, ref: ExternalRef) -> Person | None:
        """The person an AI service of the agency knows by `ref` (unique per agency, service and reference)."""
        d = await self._c.find_one({"external_ref_keys": _ref_key(agency_id, ref)})
        return person_from_doc(d) if d else None

    async def by_external_refs(self, agency_id: str, refs: Iterable[ExternalRef]) -> dict[ExternalRef, Person]:
        """`by_external_ref` for many references in one read: those that name somebody."""
        keys = {_ref_key(agency_id, ref): ref for ref in refs}
        if not keys:
            return {}
        found: dict[ExternalRef, Person] = {}
        async for d in self._c.find({"external_ref_keys": {"$in": list(keys)}}):
            person = person_from_doc(d)
            for key in d["external_ref_keys"]:
                if key in keys:
                    found[keys[key]] = person
        return found

    async def in_scope(self, scope: PersonScope, limit: int = 1000) -> list[Person]:
        """Everyone a caregiver serves or a guardian is linked to, for filtering lists by person."""
        return [person_from_doc(d) async for d in self._c.find(_scope_query(scope)).limit(limit)]

    async def insert(self, person: Person) -> None:
        doc = {
            "_id": person.id,
            "agency_id": person.agency_id,
            **profile_to_doc(person.agency_id, person.profile),
            "guardians": [_guardian_to_doc(g) for g in person.guardians],
            "care_team": list(person.care_team),
            "active_care_plan_id": None,
            "care_plan_seq": 0,
            "revision": person.revision,
            "created_at": person.created_at,
            "updated_at": person.updated_at,
        }
        if doc["external_ref_keys"] is None:
            del doc["external_ref_keys"]  # sparse: absent, not null, so many people may have none
        try:
            await insert_new(self._c, doc)
        except DuplicateKeyError as exc:
            if "external_ref" in str(exc):
                raise _duplicate_ref() from exc
            raise

    async def update_profile(
        self, person: Person, profile: PersonProfile, *, expected_revision: int, now: datetime
    ) -> Person | None:
        """Compare-and-set on the revision: None when someone else changed the person first."""
        fields = profile_to_doc(person.agency_id, profile)
        unset: dict[str, Any] = {}
        if fields["external_ref_keys"] is None:
            del fields["external_ref_keys"]
            unset["external_ref_keys"] = ""
        update: Document = {"$set": {**fields, "updated_at": now}, "$inc": {"revision": 1}}
        if unset:
            update["$unset"] = unset
        try:
            d = await self._c.find_one_and_update(
                {"_id": person.id, "revision": expected_revision}, update, return_document=ReturnDocument.AFTER
            )
        except DuplicateKeyError as exc:
            raise _duplicate_ref() from exc
        return person_from_doc(d) if d else None

    async def put_guardian(self, person_id: str, link: GuardianLink, now: datetime) -> Person | None:
        """Adds the link, or replaces the permissions of the user's existing one."""
        doc = _guardian_to_doc(link)
        for _ in range(3):  # a concurrent add of the same user can slip between the two conditions
            d = await self._c.find_one_and_update(
                {"_id": person_id, "guardians.user_id": link.user_id},
                {"$set": {"guardians.$": doc, "updated_at": now}},
                return_document=ReturnDocument.AFTER,
            )
            if d is None:
                d = await self._c.find_one_and_update(
                    {"_id": person_id, "guardians.user_id": {"$ne": link.user_id}},
                    {"$push": {"guardians": doc}, "$set": {"updated_at": now}},
                    return_document=ReturnDocument.AFTER,
                )
            if d is not None:
                return person_from_doc(d)
            if await self._c.count_documents({"_id": person_id}, limit=1) == 0:
                return None
        return None

    async def remove_guardian(self, person_id: str, user_id: str, now: datetime) -> Person | None:
        d = await self._c.find_one_and_update(
            {"_id": person_id},
            {"$pull": {"guardians": {"user_id": user_id}}, "$set": {"updated_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        return person_from_doc(d) if d else None

    async def set_care_team(self, person_id: str, user_ids: list[str], now: datetime) -> Person | None:
        d = await self._c.find_one_and_update(
            {"_id": person_id},
            {"$set": {"care_team": user_ids, "updated_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        return person_from_doc(d) if d else None

    async def list(self, scope: PersonScope, page: PageRequest, search: str | None = None) -> Page[Person]:
        query = _scope_query(scope)
        if search:
            query["name_key"] = {"$regex": re.escape(search.casefold())}
        query.update(after_filter("name_key", page.after))
        cursor = self._c.find(query).sort([("name_key", 1), ("_id", 1)]).limit(page.first + 1)
        people = [person_from_doc(d) async for d in cursor]
        edges = [(encode_cursor(p.profile.name.casefold(), p.id), p) for p in people[: page.first]]
        return Page(edges=edges, has_next_page=len(people) > page.first)

    async def next_plan_version(self, person_id: str) -> int:
        d = await self._c.find_one_and_update(
            {"_id": person_id}, {"$inc": {"care_plan_seq": 1}}, return_document=ReturnDocument.AFTER
        )
        if d is None:
            raise LookupError(person_id)
        return int(d["care_plan_seq"])

    async def swap_active_plan(self, person_id: str, *, expected: str | None, new: str) -> bool:
        """The commit point of an approval: of racing approvers, exactly one moves the pointer."""
        result = await self._c.update_one(
            {"_id": person_id, "active_care_plan_id": expected}, {"$set": {"active_care_plan_id": new}}
        )
        return result.modified_count == 1

    async def support_hours(self, agency_id: str, person_id: str | None = None) -> dict[str, tuple[SupportWindow, ...]]:
        """The support hours of the agency's active people (or of one), for coverage."""
        query: Document = {"agency_id": agency_id, "active": {"$ne": False}}
        if person_id is not None:
            query["_id"] = person_id
        cursor = self._c.find(query, projection={"support_hours": 1})
        return {d["_id"]: _windows(d.get("support_hours", [])) async for d in cursor}
