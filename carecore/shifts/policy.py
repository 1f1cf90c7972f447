"""Who may see which shift (DESIGN "Users and what they may see"). Pure functions over loaded objects."""

from __future__ import annotations

from datetime import date

from carecore.access.policy import can_see_part
from carecore.access.principal import Principal, Role
from carecore.people.models import Person
from carecore.shifts.models import OPEN_SWAP, CaregiverProfile, Shift, ShiftStatus
from carecore.shifts.rules import missing_qualifications
from carecore.vocabulary import GuardianPermission


def is_swap_target(actor: Principal, shift: Shift) -> bool:
    swap = shift.current_swap
    return swap is not None and swap.status in OPEN_SWAP and swap.to_caregiver_id == actor.user_id


def qualifies_for(shift: Shift, profile: CaregiverProfile | None, day: date) -> bool:
    return not missing_qualifications(shift.required_qualifications, profile, day)


def can_see_shift(
    actor: Principal, shift: Shift, person: Person | None, profile: CaregiverProfile | None, day: date
) -> bool:
    """Coordinators: the agency's. Caregivers: their own, swaps offered to them, and open shifts they
    qualify for (`day`: the shift's local date). Family: shifts of relatives whose link allows `visits`."""
    if shift.agency_id != actor.agency_id:
        return False
    match actor.role:
        case Role.COORDINATOR:
            return True
        case Role.CAREGIVER:
            if shift.caregiver_id == actor.user_id or is_swap_target(actor, shift):
                return True
            return shift.status is ShiftStatus.OPEN and qualifies_for(shift, profile, day)
        case Role.FAMILY:
            return person is not None and can_see_part(actor, person, GuardianPermission.VISITS)
    return False


def can_see_visit_record(actor: Principal, shift: Shift) -> bool:
    """Task log, notes, handover and locations: coordinators and the shift's caregiver, not family."""
    if shift.agency_id != actor.agency_id:
        return False
    return actor.role is Role.COORDINATOR or shift.caregiver_id == actor.user_id
