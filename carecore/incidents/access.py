"""Who may see incidents and act on them (DESIGN "Users and what they may see"). Pure functions.

- Coordinators see every incident of their agency; caregivers those of people they serve; family those
  of relatives whose guardian link allows `incidents`; AI services none.
- Abuse and neglect reports are visible only to coordinators, and never to the person they name, who
  gets "not found" whatever their role.
- Responders who stop the ladder are staff in scope (coordinators, caregivers who serve the person). A
  guardian's acknowledgement is recorded, but a relative at work cannot help at 3 a.m.: the ladder goes on.
"""

from __future__ import annotations

from carecore.access.policy import can_see_part, can_see_person
from carecore.access.principal import Principal, Role
from carecore.incidents.models import Incident, IncidentScope
from carecore.people.models import Person
from carecore.vocabulary import GuardianPermission


def can_see_incident(principal: Principal, incident: Incident, person: Person) -> bool:
    if incident.agency_id != principal.agency_id or person.id != incident.person_id:
        return False
    if incident.alleged_perpetrator_id == principal.user_id:
        return False
    if principal.role is Role.COORDINATOR:
        return True
    if incident.safeguarding is not None:
        return False
    match principal.role:
        case Role.CAREGIVER:
            return can_see_person(principal, person)
        case Role.FAMILY:
            return can_see_part(principal, person, GuardianPermission.INCIDENTS)
    return False


def stops_the_ladder(principal: Principal) -> bool:
    """Staff acknowledgements stop escalation; family acknowledgements are only recorded."""
    return principal.role in (Role.COORDINATOR, Role.CAREGIVER)


def can_report_for(principal: Principal, person: Person) -> bool:
    """Caregivers for people they serve, family for their relative, coordinators for anyone of the agency."""
    return principal.role is not Role.AI_SERVICE and can_see_person(principal, person)


def incident_scope(principal: Principal, person_ids: tuple[str, ...] | None) -> IncidentScope:
    """`person_ids`: the people whose incidents a caregiver or guardian may see; None for coordinators."""
    return IncidentScope(
        agency_id=principal.agency_id,
        viewer_id=principal.user_id,
        person_ids=None if principal.role is Role.COORDINATOR else person_ids or (),
        include_safeguarding=principal.role is Role.COORDINATOR,
    )
