"""What the shift services share: loading a shift in scope, the caregiver's limits, events and alerts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from carecore.access.principal import Principal, Role
from carecore.agencies.models import Agency
from carecore.agencies.service import get_agency
from carecore.alerts.models import AlertRequest
from carecore.alerts.service import request_alert
from carecore.audit.service import record
from carecore.errors import NotFound, ValidationFailed
from carecore.events.models import DomainEvent
from carecore.events.service import publish
from carecore.ids import id_for_key, is_valid_id
from carecore.ports import Ports
from carecore.shifts.models import CaregiverProfile, Limits, Shift
from carecore.shifts.policy import can_see_shift
from carecore.shifts.rules import limits_for
from carecore.users.models import User
from carecore.vocabulary import AlertKind, Audience, Severity

EventValue = str | int | float | bool | None


def zone(agency: Agency) -> ZoneInfo:
    return ZoneInfo(agency.timezone)


@dataclass(frozen=True, slots=True)
class Caregiver:
    """A caregiver about to be placed on a shift, with what the rules need to know about them."""

    user: User
    profile: CaregiverProfile | None
    limits: Limits


async def load_caregiver(ports: Ports, agency: Agency, user_id: str, *, field: str = "caregiverId") -> Caregiver:
    """An active caregiver of the agency; anyone else answers as not found or invalid."""
    user = await ports.store.users.get(user_id) if is_valid_id(user_id) else None
    if user is None or user.agency_id != agency.id:
        raise NotFound("User", user_id, field=field)
    if user.role is not Role.CAREGIVER or not user.active:
        raise ValidationFailed(f"{user.display_name} is not an active caregiver.", field=field)
    profile = await ports.store.caregiver_profiles.get(user.id)
    return Caregiver(user=user, profile=profile, limits=limits_for(agency, profile))


async def shift_in_scope(ports: Ports, actor: Principal, shift_id: str, *, field: str = "shiftId") -> Shift:
    """A shift the caller may see, else NotFound (exactly like a missing one)."""
    shift = await ports.store.shifts.get(shift_id) if is_valid_id(shift_id) else None
    if shift is None or not await visible(ports, actor, shift):
        raise NotFound("Shift", shift_id, field=field)
    return shift


async def visible(ports: Ports, actor: Principal, shift: Shift) -> bool:
    if shift.agency_id != actor.agency_id:
        return False
    person = await ports.store.people.get(shift.person_id) if actor.role is Role.FAMILY else None
    profile = await ports.store.caregiver_profiles.get(actor.user_id) if actor.role is Role.CAREGIVER else None
    day = shift.start.astimezone(zone(await get_agency(ports, shift.agency_id))).date()
    return can_see_shift(actor, shift, person, profile, day)


async def audited(ports: Ports, actor: Principal, action: str, shift: Shift) -> Shift:
    await record(ports, actor, action, "Shift", [shift.id])
    return shift


def change_key(shift: Shift) -> str:
    """Keys the events and alerts of the change a shift's latest history entry records: a retry that
    announces it again finds the same ids, whatever else (a late mark, a check) bumped the revision."""
    return f"change:{len(shift.history)}"


async def publish_shift_event(
    ports: Ports, shift: Shift, kind: str, *key: str, data: Mapping[str, EventValue] | None = None
) -> None:
    """Publishes a shift event; its id derives from kind, shift and `key`, so a retry is one event."""
    await publish(
        ports,
        DomainEvent(
            id=id_for_key(kind, shift.id, *key),
            agency_id=shift.agency_id,
            kind=kind,
            subject_type="Shift",
            subject_id=shift.id,
            at=ports.clock.now(),
            person_id=shift.person_id,
            data={"caregiver_id": shift.caregiver_id, "start": shift.start.isoformat(), **(data or {})},
        ),
    )


async def request_shift_alert(
    ports: Ports,
    shift: Shift,
    kind: AlertKind,
    severity: Severity,
    audiences: tuple[Audience, ...],
    *key: str,
    user_ids: tuple[str, ...] = (),
) -> None:
    """Asks the notification pipeline to tell people about a shift; asking twice is one request."""
    if Audience.USERS in audiences and not user_ids:
        return
    await request_alert(
        ports,
        AlertRequest(
            id=id_for_key("alert", kind.value, shift.id, *key),
            agency_id=shift.agency_id,
            kind=kind,
            severity=severity,
            subject_type="Shift",
            subject_id=shift.id,
            audiences=audiences,
            created_at=ports.clock.now(),
            person_id=shift.person_id,
            user_ids=user_ids,
        ),
    )


async def tell_caregivers(ports: Ports, shift: Shift, key: str, *user_ids: str | None) -> None:
    """A SHIFT_CHANGE alert to the caregivers a change concerns (e.g. the old and the new one)."""
    ids = tuple(dict.fromkeys(u for u in user_ids if u))
    await request_shift_alert(
        ports, shift, AlertKind.SHIFT_CHANGE, Severity.MEDIUM, (Audience.USERS,), key, user_ids=ids
    )
