"""A person's own guideline thresholds, set by a coordinator beside the agency's defaults.

The agency's defaults live in its incident policy; a person's thresholds override some of them and
apply from the next reading on (each request reads them afresh; nothing outlives a request).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from carecore import validation
from carecore.access.policy import can_see_person, require_role
from carecore.access.principal import Principal, Role
from carecore.audit.service import audited, record
from carecore.errors import NotFound, ValidationFailed, VersionConflict
from carecore.health.thresholds import NAMES, PersonalThresholds, Thresholds, check_thresholds
from carecore.ids import is_valid_id
from carecore.incidents.policies import policy_for
from carecore.incidents.policy import IncidentPolicy
from carecore.people.models import Person
from carecore.ports import Ports


@dataclass(frozen=True, slots=True)
class ThresholdsView:
    """What a coordinator sees: the agency's defaults apart from the person's own, and what is in force."""

    person_id: str
    agency_defaults: Thresholds
    personal: PersonalThresholds | None

    @property
    def effective(self) -> Thresholds:
        return self.personal.applied_to(self.agency_defaults) if self.personal else self.agency_defaults


async def thresholds_for(ports: Ports, person: Person, policy: IncidentPolicy) -> Thresholds:
    """The thresholds in force for a person now: theirs where set, the agency's policy elsewhere."""
    return in_force(policy, await ports.store.health_thresholds.get(person.agency_id, person.id))


def in_force(policy: IncidentPolicy, personal: PersonalThresholds | None) -> Thresholds:
    return personal.applied_to(policy.health_thresholds) if personal else policy.health_thresholds


async def _person(ports: Ports, actor: Principal, person_id: str) -> Person:
    person = await ports.store.people.get(person_id) if is_valid_id(person_id) else None
    if person is None or not can_see_person(actor, person):
        raise NotFound("Person", person_id, field="personId")
    return person


async def get_health_thresholds(ports: Ports, actor: Principal, person_id: str) -> ThresholdsView:
    """Staff who serve the person: the agency's defaults, the person's own thresholds and what is in force."""
    require_role(actor, Role.COORDINATOR, Role.CAREGIVER)
    person = await _person(ports, actor, person_id)
    defaults = (await policy_for(ports, person.agency_id)).health_thresholds
    personal = await ports.store.health_thresholds.get(person.agency_id, person.id)
    await record(ports, actor, "health_thresholds.read", "Person", [person.id])
    return ThresholdsView(person.id, defaults, personal)


async def set_health_thresholds(
    ports: Ports,
    actor: Principal,
    person_id: str,
    *,
    overrides: Mapping[str, float],
    reason: str,
    expected_revision: int,
) -> ThresholdsView:
    """Coordinators: the person's own thresholds (those given; the rest are the agency's), with the reason.

    Replaces the person's whole set, so an empty one returns them to the agency's defaults. In force
    from the next reading on; who set them and why are in the audit and on the thresholds.
    """
    require_role(actor, Role.COORDINATOR)
    reason = validation.text(reason, "reason", required=True)
    unknown = set(overrides) - set(NAMES)
    if unknown:
        raise ValidationFailed(f"No such threshold: {', '.join(sorted(unknown))}.", field="thresholds")
    person = await _person(ports, actor, person_id)
    defaults = (await policy_for(ports, person.agency_id)).health_thresholds
    personal = PersonalThresholds(
        person_id=person.id,
        agency_id=person.agency_id,
        overrides=MappingProxyType({name: float(overrides[name]) for name in NAMES if name in overrides}),
        reason=reason,
        set_by=actor.user_id,
        set_at=ports.clock.now(),
        revision=expected_revision + 1,
    )
    # Checked against today's defaults: a person's low limit must sit under the high one in force.
    check_thresholds(personal.applied_to(defaults), "thresholds.")
    async with audited(ports, actor, "health_thresholds.set", "Person", [person.id], reason=reason):
        if not await ports.store.health_thresholds.put(personal, expected_revision=expected_revision):
            current = await ports.store.health_thresholds.get(person.agency_id, person.id)
            raise VersionConflict(
                "Someone else changed this person's thresholds; look at theirs first.",
                current_revision=current.revision if current else 0,
                field="expectedRevision",
            )
    return ThresholdsView(person.id, defaults, personal)
