"""Reading and changing an agency's incident policy."""

from __future__ import annotations

from collections.abc import Callable

from carecore.access.policy import require_role
from carecore.access.principal import Principal, Role
from carecore.audit.service import audited
from carecore.errors import StateConflict
from carecore.incidents.policy import DEFAULT_POLICY, IncidentPolicy
from carecore.incidents.rules import check_policy
from carecore.ports import Ports

MAX_ATTEMPTS = 20


async def policy_for(ports: Ports, agency_id: str) -> IncidentPolicy:
    """The agency's policy, or the defaults of DESIGN when it kept them."""
    return await ports.store.incident_policies.get(agency_id) or DEFAULT_POLICY


async def get_incident_policy(ports: Ports, actor: Principal) -> IncidentPolicy:
    """Coordinators read their agency's triage, merge, ladder and reporting settings."""
    require_role(actor, Role.COORDINATOR)
    return await policy_for(ports, actor.agency_id)


async def update_incident_policy(
    ports: Ports, actor: Principal, change: Callable[[IncidentPolicy], IncidentPolicy]
) -> IncidentPolicy:
    """Applies a change to the agency's policy; it applies to the next flag and the next ladder step.

    The change is re-applied to the newer policy when another coordinator saved first, so two edits of
    different settings both survive instead of the later one silently undoing the earlier.
    """
    require_role(actor, Role.COORDINATOR)
    async with audited(ports, actor, "incident_policy.update", "Agency", [actor.agency_id]):
        for _ in range(MAX_ATTEMPTS):
            current, revision = await ports.store.incident_policies.get_with_revision(actor.agency_id)
            policy = change(current or DEFAULT_POLICY)
            check_policy(policy)
            if await ports.store.incident_policies.put(actor.agency_id, policy, expected_revision=revision):
                return policy
        raise StateConflict("The policy is being changed by others right now; try again.")


async def set_incident_policy(ports: Ports, actor: Principal, policy: IncidentPolicy) -> IncidentPolicy:
    """Replaces the agency's policy as a whole."""
    return await update_incident_policy(ports, actor, lambda _: policy)
