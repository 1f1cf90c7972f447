"""Per recipient of an incident's alerts: channel and what they did, for the agency's coordinators only."""

from __future__ import annotations

import pytest

from carecore.alerts.deliveries import deliveries_of
from carecore.alerts.inbox import mark_read
from carecore.alerts.models import DeliveryState
from carecore.alerts.router import route_due
from carecore.errors import Forbidden
from carecore.ports import Ports
from tests.conftest import World
from tests.schema.incident_scene import incident_scene


async def test_each_recipient_is_listed_with_the_push_state_and_whether_they_opened_it(
    ports: Ports, world: World
) -> None:
    scene = await incident_scene(ports, world)
    await route_due(ports, owner="test")
    found = await deliveries_of(ports, world.coordinator.principal(), [scene.open_id, scene.review_id])
    assert list(found) == [scene.open_id], "a flag in review wakes nobody"
    guardian = next(d for d in found[scene.open_id] if d.recipient_id == world.guardian.id)
    assert guardian.recipient_name == world.guardian.display_name
    assert guardian.push is DeliveryState.QUEUED and guardian.read_at is None  # no dispatcher has run yet
    assert guardian.second_channel == "WAITING", "CRITICAL: SMS and a call if nobody acknowledges"

    await mark_read(ports, world.guardian.principal(), guardian.notification_id)
    again = await deliveries_of(ports, world.coordinator.principal(), [scene.open_id])
    assert next(d for d in again[scene.open_id] if d.recipient_id == world.guardian.id).read_at is not None


async def test_another_agency_sees_none_and_other_roles_are_refused(ports: Ports, world: World) -> None:
    scene = await incident_scene(ports, world)
    await route_due(ports, owner="test")
    assert await deliveries_of(ports, world.other_agency_coordinator.principal(), [scene.open_id]) == {}
    with pytest.raises(Forbidden):
        await deliveries_of(ports, world.guardian.principal(), [scene.open_id])
