"""The `ai_services` collection: how each AI service account names people, and its webhook secret.

The secret is kept as given, because verifying an HMAC needs the key itself (a hash of it would not
do); it never leaves the server: no query returns it, and the audit trail records only that it changed.
"""

from __future__ import annotations

from carecore.incidents.models import AiService
from carecore.storage.database import Db


class AiServiceStore:
    def __init__(self, db: Db) -> None:
        self._c = db["ai_services"]

    async def get(self, user_id: str) -> AiService | None:
        d = await self._c.find_one({"_id": user_id})
        if d is None:
            return None
        return AiService(
            user_id=d["_id"],
            agency_id=d["agency_id"],
            service=d["service"],
            secret=d["secret"],
            configured_at=d["configured_at"],
        )

    async def put(self, s: AiService) -> None:
        await self._c.replace_one(
            {"_id": s.user_id},
            {
                "_id": s.user_id,
                "agency_id": s.agency_id,
                "service": s.service,
                "secret": s.secret,
                "configured_at": s.configured_at,
            },
            upsert=True,
        )
