"""The `ai_services` collection: how each AI service account names people, and its webhook secret.

Verifying an HMAC needs the key itself (a hash of it would not do), so the secret is stored sealed
with AES-GCM (carecore/storage/secrets.py) and opened only to check a signature; it never leaves the
server: no query returns it, and the audit trail records only that it changed. Documents written
before sealing hold the plaintext string; they still open, and `reseal` seals them.
"""

from __future__ import annotations

from typing import Any

from carecore.incidents.models import AiService
from carecore.storage.database import Db
from carecore.storage.secrets import DEV_KEYRING, Keyring

RESEAL_BATCH = 100


def _bound_to(user_id: str) -> str:
    return f"ai_services/{user_id}"


class AiServiceStore:
    def __init__(self, db: Db, keyring: Keyring = DEV_KEYRING) -> None:
        self._c = db["ai_services"]
        self._keyring = keyring

    def _open(self, d: dict[str, Any]) -> str:
        stored = d["secret"]
        if isinstance(stored, str):
            return stored  # not sealed yet: `reseal` (start-up, or the CLI) seals it
        return self._keyring.open(stored, bound_to=_bound_to(d["_id"]))

    async def get(self, user_id: str) -> AiService | None:
        d = await self._c.find_one({"_id": user_id})
        if d is None:
            return None
        return AiService(
            user_id=d["_id"],
            agency_id=d["agency_id"],
            service=d["service"],
            secret=self._open(d),
            configured_at=d["configured_at"],
        )

    async def put(self, s: AiService) -> None:
        await self._c.replace_one(
            {"_id": s.user_id},
            {
                "_id": s.user_id,
                "agency_id": s.agency_id,
                "service": s.service,
                "secret": self._keyring.seal(s.secret, bound_to=_bound_to(s.user_id)),
                "configured_at": s.configured_at,
            },
            upsert=True,
        )

    async def reseal(self, *, after: str | None = None, limit: int = RESEAL_BATCH) -> tuple[int, str | None]:
        """Seals, under the current key, the secrets of the next `limit` documents by id after `after`.

        Returns how many it changed and the last id it looked at (None when none were left), so a
        caller resumes from there. Each document changes in one conditional update on the value it
        read, so a crash loses nothing, concurrent runs (several instances starting) do not fight,
        and a secret reconfigured meanwhile is left as the coordinator set it (already current).
        """
        # Ids are strings, all above "": the first batch is a range on _id like the others.
        docs = await self._c.find({"_id": {"$gt": after or ""}}).sort("_id", 1).limit(limit).to_list()
        changed = 0
        for d in docs:
            stored = d["secret"]
            if self._keyring.is_current(stored):
                continue
            sealed = self._keyring.seal(self._open(d), bound_to=_bound_to(d["_id"]))
            same = {"secret": stored} if isinstance(stored, str) else {"secret.ct": stored["ct"]}
            result = await self._c.update_one({"_id": d["_id"], **same}, {"$set": {"secret": sealed}})
            changed += result.modified_count
        return changed, (docs[-1]["_id"] if docs else None)

    async def reseal_all(self) -> int:
        """Seals every secret under the current key, batch by batch; returns how many changed."""
        total, after = 0, None
        while True:
            changed, after = await self.reseal(after=after)
            total += changed
            if after is None:
                return total
