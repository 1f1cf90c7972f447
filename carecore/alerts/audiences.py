"""From the audiences an alert request names to the users who receive it."""

from __future__ import annotations

from datetime import datetime

from carecore.access.principal import Role
from carecore.alerts.models import AlertRequest, Audience
from carecore.people.models import Person
from carecore.ports import Ports
from carecore.shifts.presence import caregivers_on_shift
from carecore.users.models import User
from carecore.vocabulary import GuardianPermission

# Who receives an alert is decided here, once, for every branch that asks for one.
PERSON_AUDIENCES = frozenset({Audience.ON_SHIFT_CAREGIVERS, Audience.CARE_TEAM, Audience.GUARDIANS})


async def coordinators_on_duty(ports: Ports, agency_id: str) -> list[str]:
    """Coordinators who flagged themselves on duty; when nobody did, every coordinator.

    An agency that never set up a rota must still be told: silence is the one wrong answer.
    """
    everyone = [u.id for u in await ports.store.users.active_with_role(agency_id, Role.COORDINATOR)]
    on_duty = await ports.store.notification_preferences.on_duty(everyone)
    return [u for u in everyone if u in on_duty] or everyone


async def _emergency_contacts(ports: Ports, agency_id: str) -> list[str]:
    agency = await ports.store.agencies.get(agency_id)
    if agency is not None and agency.emergency_contact_user_ids:
        return list(agency.emergency_contact_user_ids)
    return [u.id for u in await ports.store.users.active_with_role(agency_id, Role.COORDINATOR)]


async def _for_person(ports: Ports, audience: Audience, person: Person, now: datetime) -> list[str]:
    match audience:
        case Audience.ON_SHIFT_CAREGIVERS:
            return await caregivers_on_shift(ports, person.id, now)
        case Audience.CARE_TEAM:
            return list(person.care_team)
        case _:  # GUARDIANS: only links that allow alerts
            return [g.user_id for g in person.guardians if GuardianPermission.ALERTS in g.permissions]


async def resolve_audiences(ports: Ports, request: AlertRequest, person: Person | None, now: datetime) -> list[User]:
    """Active users of the request's agency in any of its audiences, minus the excluded, in order."""
    wanted: list[str] = []
    for audience in request.audiences:
        if audience in PERSON_AUDIENCES:
            wanted += await _for_person(ports, audience, person, now) if person is not None else []
        elif audience is Audience.COORDINATORS_ON_DUTY:
            wanted += await coordinators_on_duty(ports, request.agency_id)
        elif audience is Audience.ALL_COORDINATORS:
            wanted += [u.id for u in await ports.store.users.active_with_role(request.agency_id, Role.COORDINATOR)]
        elif audience is Audience.EMERGENCY_CONTACT:
            wanted += await _emergency_contacts(ports, request.agency_id)
        else:  # USERS
            wanted += list(request.user_ids)
    excluded = set(request.exclude_user_ids)
    ordered = [u for u in dict.fromkeys(wanted) if u not in excluded]
    found = await ports.store.users.get_many(ordered)
    return [
        found[u]
        for u in ordered
        if u in found
        and found[u].active
        and found[u].agency_id == request.agency_id
        and found[u].role is not Role.AI_SERVICE
    ]
