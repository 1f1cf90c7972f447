"""Alert delivery killed at each of its writes: routing, dispatch and the second channel each finish
after recovery, with nothing lost and nothing shown twice (a push resent after a crash carries the same
collapse key; a callout is placed at most once more)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from carecore.alerts.dispatcher import Dispatcher
from carecore.alerts.models import Audience, DeliveryState
from carecore.alerts.ports import Callout, CalloutResult, PushMessage
from carecore.alerts.router import SECOND_CHANNEL_AFTER, route_request
from carecore.alerts.second_channel import call_out_due
from carecore.alerts.service import request_alert
from carecore.ids import new_id
from tests.conftest import build_world
from tests.crashes import CrashPoints, recover
from tests.notifications.support import FakeSender, incident_alert, put_device

AUDIENCES = (Audience.GUARDIANS, Audience.ALL_COORDINATORS)


@dataclass
class RecordingChannel:
    """The SMS and voice gateway's double: records each callout it was asked to place."""

    placed: list[Callout] = field(default_factory=list)

    async def call_out(self, callout: Callout) -> CalloutResult:
        self.placed.append(callout)
        return CalloutResult(sms_id=f"SM{new_id()}", call_id=f"CA{new_id()}")


def _counts(messages: Sequence[Callout | PushMessage]) -> Counter[str]:
    return Counter(m.notification_id for m in messages)


async def test_an_alert_request_killed_at_any_write_is_routed_once_per_recipient(crash_points: CrashPoints) -> None:
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        request = incident_alert(world, run.clock.now(), audiences=AUDIENCES)
        async with run.armed():
            await request_alert(run.ports, request)
        await recover(run)
        if run.crashed and len(run.writes) == 1:
            continue  # died before the request was stored: the caller was told nothing and asks again
        routed = await run.store.db["notifications"].find({"request_id": request.id}).to_list()
        assert sorted(n["user_id"] for n in routed) == sorted({world.guardian.id, world.coordinator.id}), run.writes


async def test_a_dispatcher_killed_at_any_write_delivers_every_push_once_more_at_most(
    crash_points: CrashPoints,
) -> None:
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        await put_device(run.store, world.guardian, run.clock.now())
        await put_device(run.store, world.coordinator, run.clock.now())
        written = await route_request(run.ports, incident_alert(world, run.clock.now(), audiences=AUDIENCES))
        first, after = FakeSender(), FakeSender()
        async with run.armed():
            await Dispatcher(run.ports, first, owner="dies").run_until_idle()
        await recover(run, push=after)

        counts = _counts([*first.sent, *after.sent])
        assert set(counts) == {n.id for n in written} and max(counts.values()) <= 2, run.writes
        for n in written:
            stored = await run.store.notifications.get(n.id)
            assert stored is not None and stored.state is DeliveryState.SENT, run.writes


async def test_a_second_channel_killed_at_any_write_calls_each_unacknowledged_recipient_once_more_at_most(
    crash_points: CrashPoints,
) -> None:
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        for u in (world.guardian, world.coordinator):
            await run.store.db["users"].update_one({"_id": u.id}, {"$set": {"phone": "+821012345678"}})
        written = await route_request(run.ports, incident_alert(world, run.clock.now(), audiences=AUDIENCES))
        run.clock.advance(SECOND_CHANNEL_AFTER)
        first, after = RecordingChannel(), RecordingChannel()
        async with run.armed():
            await call_out_due(run.ports, first, owner="dies")
        await recover(run, second=after)

        counts = _counts([*first.placed, *after.placed])
        assert set(counts) == {n.id for n in written} and max(counts.values()) <= 2, run.writes
        assert sum(counts.values()) <= len(written) + 1, "one death repeats at most the call it interrupted"
