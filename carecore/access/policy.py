"""Who may see and do what (DESIGN "Users and what they may see"). Pure functions over loaded objects.

Objects outside the caller's scope are reported as not found by the services, never as forbidden,
so nobody can probe which ids exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from carecore.access.principal import Principal, Role
from carecore.errors import Forbidden
from carecore.people.models import Person
from carecore.vocabulary import CarePlanStatus, GuardianPermission


@dataclass(frozen=True, slots=True)
class PersonScope:
    """The people a caller may list: the whole agency, or those linked to one user."""

    agency_id: str
    care_team_member: str | None = None
    guardian_user: str | None = None
    served_person_ids: frozenset[str] = frozenset()  # with care_team_member: also these people


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        raise Forbidden("Your role may not do this.")


def person_scope(principal: Principal) -> PersonScope | None:
    """None when the role sees no person at all."""
    match principal.role:
        case Role.COORDINATOR:
            return PersonScope(agency_id=principal.agency_id)
        case Role.CAREGIVER:
            return PersonScope(
                agency_id=principal.agency_id,
                care_team_member=principal.user_id,
                served_person_ids=principal.served_person_ids,
            )
        case Role.FAMILY:
            return PersonScope(agency_id=principal.agency_id, guardian_user=principal.user_id)
        case Role.AI_SERVICE:
            return None


def can_see_person(principal: Principal, person: Person) -> bool:
    scope = person_scope(principal)
    if scope is None or person.agency_id != scope.agency_id:
        return False
    if scope.care_team_member is not None and not (
        scope.care_team_member in person.care_team or person.id in scope.served_person_ids
    ):
        return False
    return scope.guardian_user is None or person.guardian_link(scope.guardian_user) is not None


def can_see_part(principal: Principal, person: Person, part: GuardianPermission) -> bool:
    """Family see only the parts their guardian link allows; staff in scope see every part."""
    if not can_see_person(principal, person):
        return False
    if principal.role is not Role.FAMILY:
        return True
    link = person.guardian_link(principal.user_id)
    return link is not None and part in link.permissions


def can_see_plan(principal: Principal, person: Person, status: CarePlanStatus) -> bool:
    """Coordinators see every version; caregivers the active one; family the approved ones."""
    if principal.role is Role.COORDINATOR:
        return can_see_person(principal, person)
    if principal.role is Role.CAREGIVER:
        return status is CarePlanStatus.ACTIVE and can_see_person(principal, person)
    approved = status in (CarePlanStatus.ACTIVE, CarePlanStatus.SUPERSEDED)
    return approved and can_see_part(principal, person, GuardianPermission.PLAN)


def can_see_guardian_link(principal: Principal, user_id: str) -> bool:
    """Family see only their own link: relatives may be estranged, and links carry phone numbers."""
    return principal.role is not Role.FAMILY or principal.user_id == user_id


def can_see_account_details(principal: Principal, user_id: str, user_role: Role) -> bool:
    """Contact details and account ids: coordinators, the user themself, and caregivers for families.

    Caregivers need a guardian's phone in an emergency; families reach staff through the agency.
    """
    if principal.is_coordinator or principal.user_id == user_id:
        return True
    return principal.role is Role.CAREGIVER and user_role is Role.FAMILY


def can_see_external_refs(principal: Principal) -> bool:
    """AI services' references to a person are an operational detail for coordinators."""
    return principal.is_coordinator
