"""The `trusted_documents` collection: the GraphQL documents the apps may run when only those may (by SHA-256).

A document is stored once under the hex SHA-256 of its exact text (the hash Apollo's persisted queries
send), with the operation names it holds and when it was first registered; registering it again
changes nothing, so the command that registers a directory can run on every release.
"""

from __future__ import annotations

from datetime import datetime

from carecore.storage.database import Db


class TrustedDocumentStore:
    def __init__(self, db: Db) -> None:
        self._c = db["trusted_documents"]

    async def get(self, sha256: str) -> str | None:
        """The registered document with this hash, or None."""
        d = await self._c.find_one({"_id": sha256}, {"document": 1})
        return None if d is None else str(d["document"])

    async def register(self, sha256: str, document: str, *, names: list[str], source: str, at: datetime) -> bool:
        """Stores the document unless it is there already; True when it is new."""
        result = await self._c.update_one(
            {"_id": sha256},
            {"$setOnInsert": {"document": document, "names": names, "source": source, "registered_at": at}},
            upsert=True,
        )
        return result.upserted_id is not None
