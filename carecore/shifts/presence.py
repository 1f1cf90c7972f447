"""Who is with a person right now (provisional: the shifts branch owns this file and replaces it).

Reads the `shifts` collection by the fields every branch agreed on (common contract).
"""

from __future__ import annotations

from datetime import datetime

from carecore.ports import Ports


async def caregivers_on_shift(ports: Ports, person_id: str, at: datetime) -> list[str]:
    """User ids of caregivers checked in with the person at `at` (IN_PROGRESS shifts)."""
    return await ports.store.shift_presence.checked_in(person_id, at)
