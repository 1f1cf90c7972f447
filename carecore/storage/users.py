"""The `users` collection: profiles keyed by Firebase uid.

Besides the profile, a document says whether its Firebase custom claims follow it: `claims_revision`
is the revision they were last published for, and `claims_due_at` (set by a role change, cleared once
published) is when the `publish_lagging_claims` job may take the publishing over from the request.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from carecore.access.principal import Role
from carecore.errors import ValidationFailed
from carecore.pagination import Page, PageRequest
from carecore.storage.codec import after_filter, encode_cursor, find_by_ids, insert_new
from carecore.storage.database import Db, Document
from carecore.storage.leases import claim_due, release
from carecore.users.models import User


def user_from_doc(d: Document) -> User:
    return User(
        id=d["_id"],
        agency_id=d["agency_id"],
        firebase_uid=d["firebase_uid"],
        role=Role(d["role"]),
        display_name=d["display_name"],
        locale=d.get("locale", "ko"),
        email=d.get("email"),
        phone=d.get("phone"),
        active=d.get("active", True),
        revision=d["revision"],
        created_at=d["created_at"],
        updated_at=d["updated_at"],
    )


def user_to_doc(u: User) -> Document:
    return {
        "_id": u.id,
        "agency_id": u.agency_id,
        "firebase_uid": u.firebase_uid,
        "role": u.role.value,
        "display_name": u.display_name,
        "name_key": u.display_name.casefold(),
        "locale": u.locale,
        "email": u.email,
        "phone": u.phone,
        "active": u.active,
        "revision": u.revision,
        "created_at": u.created_at,
        "updated_at": u.updated_at,
        # A profile is created after its claims were written (carecore.users.service.create_user).
        "claims_revision": u.revision,
        "claims_due_at": None,
    }


class UserStore:
    def __init__(self, db: Db) -> None:
        self._c = db["users"]

    async def get(self, user_id: str) -> User | None:
        d = await self._c.find_one({"_id": user_id})
        return user_from_doc(d) if d else None

    async def get_by_firebase_uid(self, uid: str) -> User | None:
        d = await self._c.find_one({"firebase_uid": uid})
        return user_from_doc(d) if d else None

    async def get_many(self, ids: Iterable[str]) -> dict[str, User]:
        return await find_by_ids(self._c, ids, user_from_doc)

    async def insert(self, user: User) -> None:
        try:
            await insert_new(self._c, user_to_doc(user))
        except DuplicateKeyError as exc:
            if "firebase_uid" in str(exc):
                raise ValidationFailed("A profile already exists for this Firebase uid.", field="firebaseUid") from exc
            raise

    async def update(
        self,
        user_id: str,
        changes: dict[str, Any],
        *,
        expected_revision: int,
        now: datetime,
        claims_due_at: datetime | None = None,
    ) -> User | None:
        """Compare-and-set on the revision; `claims_due_at` marks the claims as lagging in the same write."""
        if "display_name" in changes:
            changes = {**changes, "name_key": changes["display_name"].casefold()}
        if claims_due_at is not None:
            changes = {**changes, "claims_due_at": claims_due_at}
        d = await self._c.find_one_and_update(
            {"_id": user_id, "revision": expected_revision},
            {"$set": {**changes, "updated_at": now}, "$inc": {"revision": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return user_from_doc(d) if d else None

    async def claim_claims(self, user_id: str, *, now: datetime, owner: str, lease: timedelta) -> User | None:
        """Claims the publishing of one profile's lagging claims before they are due; None if not lagging or held."""
        d = await self._c.find_one_and_update(
            {
                "_id": user_id,
                "claims_due_at": {"$ne": None},
                "$or": [{"lease_until": {"$exists": False}}, {"lease_until": None}, {"lease_until": {"$lte": now}}],
            },
            {"$set": {"lease_until": now + lease, "lease_owner": owner}},
            return_document=ReturnDocument.AFTER,
        )
        return user_from_doc(d) if d else None

    async def claim_lagging_claims(self, *, now: datetime, owner: str, lease: timedelta) -> User | None:
        """Claims the profile whose claims have lagged longest past their due time."""
        d = await claim_due(self._c, due_field="claims_due_at", now=now, owner=owner, lease=lease)
        return user_from_doc(d) if d else None

    async def claims_published(self, user_id: str, *, revision: int, owner: str) -> bool:
        """Records that the claims follow `revision` and releases the claim; False (and only released)
        when the profile changed meanwhile: its claims are still due, for the newer revision."""
        result = await self._c.update_one(
            {"_id": user_id, "revision": revision, "lease_owner": owner},
            {"$set": {"claims_revision": revision, "claims_due_at": None, "lease_until": None, "lease_owner": None}},
        )
        if result.modified_count == 1:
            return True
        await release(self._c, user_id, owner=owner, changes={})
        return False

    async def list(self, agency_id: str, page: PageRequest, role: Role | None = None) -> Page[User]:
        query: Document = {"agency_id": agency_id, **after_filter("name_key", page.after)}
        if role is not None:
            query["role"] = role.value
        cursor = self._c.find(query).sort([("name_key", 1), ("_id", 1)]).limit(page.first + 1)
        users = [user_from_doc(d) async for d in cursor]
        edges = [(encode_cursor(u.display_name.casefold(), u.id), u) for u in users[: page.first]]
        return Page(edges=edges, has_next_page=len(users) > page.first)

    async def active_with_role(self, agency_id: str, role: Role, *, limit: int = 2000) -> builtins.list[User]:
        """The agency's active users of one role (e.g. the coordinators an alert goes to)."""
        query = {"agency_id": agency_id, "role": role.value, "active": True}
        cursor = self._c.find(query).sort("_id", 1).limit(limit)
        return [user_from_doc(d) async for d in cursor]
