"""The agency's night window: MEDIUM alerts wake nobody, whatever the recipient's own quiet hours say."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import time, timedelta

from carecore.alerts.dispatcher import Dispatcher
from carecore.alerts.models import Audience, DeliveryState, Preferences, QuietHours
from carecore.alerts.router import route_request
from carecore.incidents.models import Severity
from carecore.incidents.policies import policy_for
from carecore.ports import Ports
from tests.conftest import World
from tests.notifications.support import FakeSender, incident_alert, put_device
from tests.support import FakeClock

COORDINATORS = (Audience.COORDINATORS_ON_DUTY,)


async def test_a_medium_alert_at_night_waits_for_morning_for_a_coordinator_without_quiet_hours(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    clock.advance(timedelta(hours=14))  # 14:00 UTC is 23:00 in Seoul, inside the default 22:00-07:00
    device = await put_device(ports.store, world.coordinator, clock.now())
    sender = FakeSender()
    pushes = Dispatcher(ports, sender, owner="d1", rng=random.Random(7))

    routed = {
        severity: await route_request(
            ports, incident_alert(world, clock.now(), severity=severity, audiences=COORDINATORS)
        )
        for severity in (Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)
    }

    [medium] = [n for n in routed[Severity.MEDIUM] if n.user_id == world.coordinator.id]
    assert medium.state is DeliveryState.HELD and medium.next_attempt_at == clock.now() + timedelta(hours=8)
    assert await ports.store.notifications.get(medium.id) is not None  # in the inbox at once
    for severity in (Severity.HIGH, Severity.CRITICAL):
        assert {n.state for n in routed[severity]} == {DeliveryState.QUEUED}, severity
    await pushes.run_once()
    assert medium.id not in {m.notification_id for m in sender.to(device)}

    clock.advance(timedelta(hours=8))  # 07:00 in Seoul: the night is over
    await pushes.run_once()

    assert medium.id in {m.notification_id for m in sender.to(device)}


async def test_a_push_held_by_both_waits_for_the_later_of_quiet_hours_and_the_night(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    clock.advance(timedelta(hours=14))  # 23:00 in Seoul
    await ports.store.notification_preferences.replace(
        Preferences(world.coordinator.id, quiet_hours=QuietHours(time(22), time(9))), expected_revision=0
    )

    [n] = await route_request(
        ports,
        incident_alert(
            world, clock.now(), severity=Severity.MEDIUM, audiences=(Audience.USERS,), user_ids=(world.coordinator.id,)
        ),
    )

    assert n.state is DeliveryState.HELD and n.next_attempt_at == clock.now() + timedelta(hours=10)


async def test_the_night_is_the_agencys_own_setting(ports: Ports, world: World, clock: FakeClock) -> None:
    # 00:00 UTC is 09:00 in Seoul: day by default, night for an agency whose night runs 08:00-10:00.
    policy = replace(await policy_for(ports, world.agency.id), night_window=QuietHours(time(8), time(10)))
    await ports.store.incident_policies.put(world.agency.id, policy, expected_revision=0)
    alert = incident_alert(
        world, clock.now(), severity=Severity.MEDIUM, audiences=(Audience.USERS,), user_ids=(world.coordinator.id,)
    )

    [n] = await route_request(ports, alert)

    assert n.state is DeliveryState.HELD and n.next_attempt_at == clock.now() + timedelta(hours=1)
