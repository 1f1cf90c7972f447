"""Read-only view of the `shifts` collection for presence (provisional, see carecore/shifts/presence.py)."""

from __future__ import annotations

from datetime import datetime

from carecore.storage.database import Db


class ShiftPresenceStore:
    def __init__(self, db: Db) -> None:
        self._c = db["shifts"]

    async def checked_in(self, person_id: str, at: datetime) -> list[str]:
        # IN_PROGRESS is "checked in and not yet out": check-in may come 15 minutes before the start
        # and a shift may run past its planned end, so the status decides, not the planned times.
        del at  # the status is the present; the shifts branch may answer for other moments
        cursor = self._c.find(
            {"person_id": person_id, "status": "IN_PROGRESS", "caregiver_id": {"$ne": None}}, {"caregiver_id": 1}
        )
        return list(dict.fromkeys([d["caregiver_id"] async for d in cursor]))
