"""Coordinators change their agency's incident policy: what they give replaces, the rest stays."""

from __future__ import annotations

from datetime import time, timedelta

from carecore.alerts.models import Audience, DeliveryState, QuietHours
from carecore.alerts.router import route_request
from carecore.incidents.models import Severity
from carecore.incidents.policies import policy_for
from carecore.ports import Ports
from tests.conftest import World
from tests.notifications.support import incident_alert
from tests.schema.conftest import Execute
from tests.support import FakeClock

UPDATE = """mutation ($input: UpdateIncidentPolicyInput!) {
  updateIncidentPolicy(input: $input) {
    __typename
    ... on IncidentPolicyPayload { policy { mergeWindowMinutes ladders { severity steps { afterSeconds } } } }
    ... on UserError { message field }
  }
}"""

FAST_CRITICAL = {
    "severity": "CRITICAL",
    "steps": [
        {"afterSeconds": 0, "audiences": ["ON_SHIFT_CAREGIVERS", "COORDINATORS_ON_DUTY"]},
        {"afterSeconds": 60, "audiences": ["EMERGENCY_CONTACT"], "escalate": True},
    ],
}


async def test_a_coordinator_shortens_the_critical_ladder_and_keeps_the_rest(
    execute: Execute, world: World, ports: Ports
) -> None:
    result = await execute(UPDATE, {"input": {"ladders": [FAST_CRITICAL]}}, as_user=world.coordinator)

    payload = result.data["updateIncidentPolicy"]
    assert payload["__typename"] == "IncidentPolicyPayload", payload
    assert payload["policy"]["mergeWindowMinutes"] == 10
    policy = await policy_for(ports, world.agency.id)
    assert [s.after.total_seconds() for s in policy.ladder(Severity.CRITICAL)] == [0, 60]
    assert len(policy.ladder(Severity.HIGH)) == 2


async def test_a_ladder_that_does_not_start_at_once_is_refused_naming_it(
    execute: Execute, world: World, ports: Ports
) -> None:
    late = {**FAST_CRITICAL, "steps": FAST_CRITICAL["steps"][1:]}

    result = await execute(UPDATE, {"input": {"ladders": [late]}}, as_user=world.coordinator)

    assert result.data["updateIncidentPolicy"] == {
        "__typename": "ValidationError",
        "message": "ladders.CRITICAL: the first step must be at once.",
        "field": "ladders.CRITICAL",
    }
    assert await ports.store.incident_policies.get(world.agency.id) is None


async def test_a_coordinator_moves_the_agencys_night_and_medium_alerts_follow_it(
    execute: Execute, world: World, ports: Ports, clock: FakeClock
) -> None:
    read = "query { incidentPolicy { nightWindow { start end } } }"
    assert (await execute(read, as_user=world.coordinator)).data == {
        "incidentPolicy": {"nightWindow": {"start": "22:00:00", "end": "07:00:00"}}
    }
    night = {"nightWindow": {"start": "08:00:00", "end": "10:00:00"}}  # 00:00 UTC is 09:00 in Seoul

    result = await execute(UPDATE, {"input": night}, as_user=world.coordinator)

    assert result.data["updateIncidentPolicy"]["__typename"] == "IncidentPolicyPayload", result
    assert (await policy_for(ports, world.agency.id)).night_window == QuietHours(time(8), time(10))
    alert = incident_alert(
        world, clock.now(), severity=Severity.MEDIUM, audiences=(Audience.USERS,), user_ids=(world.coordinator.id,)
    )
    [n] = await route_request(ports, alert)
    assert n.state is DeliveryState.HELD and n.next_attempt_at == clock.now() + timedelta(hours=1)
