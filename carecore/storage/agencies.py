"""The `agencies` collection."""

from __future__ import annotations

from carecore.agencies.models import DEFAULT_TIMEZONE, Agency
from carecore.storage.database import Db


class AgencyStore:
    def __init__(self, db: Db) -> None:
        self._c = db["agencies"]

    async def get(self, agency_id: str) -> Agency | None:
        d = await self._c.find_one({"_id": agency_id})
        if d is None:
            return None
        return Agency(
            id=d["_id"],
            name=d["name"],
            timezone=d.get("timezone", DEFAULT_TIMEZONE),
            region=d.get("region", ""),
            max_weekly_hours=d.get("max_weekly_hours", 52),
            min_rest_hours=d.get("min_rest_hours", 8),
            emergency_contact_user_ids=tuple(d.get("emergency_contact_user_ids", [])),
            swap_requires_approval=d.get("swap_requires_approval", False),
        )

    async def upsert(self, agency: Agency) -> None:
        await self._c.update_one(
            {"_id": agency.id},
            {
                "$set": {
                    "name": agency.name,
                    "timezone": agency.timezone,
                    "region": agency.region,
                    "max_weekly_hours": agency.max_weekly_hours,
                    "min_rest_hours": agency.min_rest_hours,
                    "emergency_contact_user_ids": list(agency.emergency_contact_user_ids),
                    "swap_requires_approval": agency.swap_requires_approval,
                }
            },
            upsert=True,
        )
