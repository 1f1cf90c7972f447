"""Caregiver profiles: qualifications with expiry, personal limits and availability."""

from __future__ import annotations

from carecore.access.policy import require_role
from carecore.access.principal import Principal, Role
from carecore.agencies.service import get_agency
from carecore.audit.service import audited
from carecore.errors import NotFound, VersionConflict
from carecore.ports import Ports
from carecore.shifts.models import CaregiverProfile
from carecore.shifts.rules import checked_profile
from carecore.shifts.support import load_caregiver


async def get_caregiver_profile(ports: Ports, actor: Principal, user_id: str) -> CaregiverProfile:
    """Coordinators read any caregiver's profile; a caregiver only their own. Empty until first set."""
    require_role(actor, Role.COORDINATOR, Role.CAREGIVER)
    if actor.role is Role.CAREGIVER and user_id != actor.user_id:
        raise NotFound("User", user_id, field="userId")
    caregiver = await load_caregiver(ports, await get_agency(ports, actor.agency_id), user_id, field="userId")
    return caregiver.profile or CaregiverProfile(user_id=caregiver.user.id, agency_id=actor.agency_id)


async def set_caregiver_profile(
    ports: Ports, actor: Principal, profile: CaregiverProfile, *, expected_revision: int
) -> CaregiverProfile:
    """Replaces a caregiver's profile; limits may be stricter than the agency's, never looser.

    Shifts already booked stay; the new limits apply to every placement from now on.
    """
    require_role(actor, Role.COORDINATOR)
    agency = await get_agency(ports, actor.agency_id)
    caregiver = await load_caregiver(ports, agency, profile.user_id, field="userId")
    checked = checked_profile(profile, agency)
    async with audited(ports, actor, "caregiver_profile.update", "User", [caregiver.user.id]):
        stored = await ports.store.caregiver_profiles.put(
            CaregiverProfile(
                user_id=caregiver.user.id,
                agency_id=agency.id,
                qualifications=checked.qualifications,
                max_weekly_hours=checked.max_weekly_hours,
                min_rest_hours=checked.min_rest_hours,
                availability=checked.availability,
            ),
            expected_revision=expected_revision,
            now=ports.clock.now(),
        )
        if stored is None:
            current = await ports.store.caregiver_profiles.get(caregiver.user.id)
            raise VersionConflict(
                "The profile changed since you loaded it; reload it and try again.",
                current_revision=current.revision if current else 0,
                field="expectedRevision",
            )
    return stored
