"""An agency's own incident policy: validated, and applied to the next flag and ladder step."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from carecore.alerts.models import Audience
from carecore.errors import Forbidden, ValidationFailed
from carecore.incidents.escalation import run_due_steps
from carecore.incidents.ingestion import ingest_flag
from carecore.incidents.models import AiService, IncidentStatus, IncidentType, Severity
from carecore.incidents.policies import get_incident_policy, policy_for, set_incident_policy, update_incident_policy
from carecore.incidents.policy import DEFAULT_POLICY, IncidentPolicy, LadderStep
from carecore.ports import Ports
from tests.carecore.incidents.conftest import flag
from tests.conftest import World
from tests.support import FakeClock

FAST = (
    LadderStep(timedelta(0), (Audience.COORDINATORS_ON_DUTY,)),
    LadderStep(timedelta(seconds=20), (Audience.EMERGENCY_CONTACT,), escalate=True),
)


async def test_an_agency_ladder_with_short_delays_escalates_on_its_own_time(
    ports: Ports, world: World, ai: AiService, clock: FakeClock
) -> None:
    coordinator = world.coordinator.principal()
    policy = replace(DEFAULT_POLICY, ladders={**DEFAULT_POLICY.ladders, Severity.CRITICAL: FAST})
    await set_incident_policy(ports, coordinator, policy)
    assert (await get_incident_policy(ports, coordinator)).ladder(Severity.CRITICAL) == FAST

    incident = (await ingest_flag(ports, world.ai_service.principal(), ai, flag())).incident
    clock.advance(timedelta(seconds=20))
    await run_due_steps(ports, "worker")

    stored = await ports.store.incidents.get(incident.id)
    assert stored is not None and stored.status is IncidentStatus.ESCALATED


async def test_a_policy_whose_ladder_does_not_start_at_once_or_goes_back_in_time_is_refused(
    ports: Ports, world: World
) -> None:
    coordinator = world.coordinator.principal()
    late_start = (LadderStep(timedelta(minutes=1), (Audience.ALL_COORDINATORS,)),)
    backwards = (*FAST, LadderStep(timedelta(seconds=5), (Audience.ALL_COORDINATORS,)))
    for ladder in (late_start, backwards):
        with pytest.raises(ValidationFailed):
            await set_incident_policy(ports, coordinator, replace(DEFAULT_POLICY, ladders={Severity.HIGH: ladder}))
    with pytest.raises(ValidationFailed):
        await set_incident_policy(ports, coordinator, replace(DEFAULT_POLICY, review_threshold=1.5))
    with pytest.raises(Forbidden):
        await set_incident_policy(ports, world.caregiver_on_team.principal(), DEFAULT_POLICY)


async def test_coordinators_changing_different_settings_at_once_all_keep_their_change(
    ports: Ports, world: World
) -> None:
    coordinator = world.coordinator.principal()

    def lower(t: IncidentType) -> Callable[[IncidentPolicy], IncidentPolicy]:
        return lambda p: replace(p, base_severity={**p.base_severity, t: Severity.LOW})

    await asyncio.gather(*(update_incident_policy(ports, coordinator, lower(t)) for t in IncidentType))

    policy = await policy_for(ports, world.agency.id)
    assert all(policy.base_severity[t] is Severity.LOW for t in IncidentType)
