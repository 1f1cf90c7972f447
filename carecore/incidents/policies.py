"""Reading and changing an agency's incident policy."""

from __future__ import annotations

from carecore.access.policy import require_role
from carecore.access.principal import Principal, Role
from carecore.audit.service import record
from carecore.incidents.policy import DEFAULT_POLICY, IncidentPolicy
from carecore.incidents.rules import check_policy
from carecore.ports import Ports


async def policy_for(ports: Ports, agency_id: str) -> IncidentPolicy:
    """The agency's policy, or the defaults of DESIGN when it kept them."""
    return await ports.store.incident_policies.get(agency_id) or DEFAULT_POLICY


async def get_incident_policy(ports: Ports, actor: Principal) -> IncidentPolicy:
    """Coordinators read their agency's triage, merge, ladder and reporting settings."""
    require_role(actor, Role.COORDINATOR)
    return await policy_for(ports, actor.agency_id)


async def set_incident_policy(ports: Ports, actor: Principal, policy: IncidentPolicy) -> IncidentPolicy:
    """Replaces the agency's policy; it applies to the next flag and the next ladder step."""
    require_role(actor, Role.COORDINATOR)
    check_policy(policy)
    await ports.store.incident_policies.put(actor.agency_id, policy)
    await record(ports, actor, "incident_policy.update", "Agency", [actor.agency_id])
    return policy
