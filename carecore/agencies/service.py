"""Agency settings the other services consult."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from carecore.agencies.models import DEFAULT_TIMEZONE, Agency
from carecore.ports import Ports


async def agency_today(ports: Ports, agency_id: str) -> date:
    """Today in the agency's time zone, which decides days (DESIGN "API conventions")."""
    agency = await ports.store.agencies.get(agency_id)
    return ports.clock.now().astimezone(ZoneInfo(agency.timezone if agency else DEFAULT_TIMEZONE)).date()


async def get_agency(ports: Ports, agency_id: str) -> Agency:
    """The agency's settings; an agency without a document gets the defaults."""
    return await ports.store.agencies.get(agency_id) or Agency(id=agency_id, name="")
