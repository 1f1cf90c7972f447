"""Who is with a person right now: the notification pipeline's ON_SHIFT_CAREGIVERS audience."""

from __future__ import annotations

from datetime import datetime

from carecore.ports import Ports


async def caregivers_on_shift(ports: Ports, person_id: str, at: datetime) -> list[str]:
    """User ids of caregivers checked in with that person at `at` (their shifts are IN_PROGRESS)."""
    return await ports.store.shifts.caregivers_checked_in(person_id, at)
