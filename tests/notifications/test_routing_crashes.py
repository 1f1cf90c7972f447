"""The router killed at any write of a CRITICAL request: the next instance finishes it within the ladder's
lease, one notification per recipient, each with its second channel armed."""

from __future__ import annotations

from datetime import timedelta

from carecore.alerts.models import Audience
from carecore.alerts.router import SECOND_CHANNEL_AFTER, route_due
from carecore.alerts.service import request_alert
from carecore.incidents.escalation import LEASE
from tests.conftest import build_world
from tests.crashes import CrashPoints, recover
from tests.notifications.support import incident_alert

# A dead router delays a CRITICAL alert no more than a dead ladder step does.
HANDED_OVER_AFTER = LEASE + timedelta(seconds=1)


async def test_a_critical_request_whose_router_died_is_routed_within_the_ladder_lease(
    crash_points: CrashPoints,
) -> None:
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        request = incident_alert(world, run.clock.now(), audiences=(Audience.GUARDIANS, Audience.ALL_COORDINATORS))
        await request_alert(run.ports, request)
        async with run.armed():
            await route_due(run.ports, owner="router")
        await recover(run, after=HANDED_OVER_AFTER)

        stored = await run.store.db["alert_requests"].find_one({"_id": request.id})
        assert stored is not None and stored["routed_at"] is not None, run.writes
        notifications = await run.store.db["notifications"].find({"request_id": request.id}).to_list()
        assert sorted(n["user_id"] for n in notifications) == sorted({world.guardian.id, world.coordinator.id})
        for n in notifications:
            callout = await run.store.callouts.get(n["_id"])
            assert callout is not None, f"no second channel for {n['user_id']} after {run.writes}"
            assert callout.due_at is not None
            assert callout.due_at <= request.created_at + HANDED_OVER_AFTER + SECOND_CHANNEL_AFTER
