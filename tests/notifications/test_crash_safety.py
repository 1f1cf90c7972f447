"""A dispatcher killed anywhere between storing and sending loses nothing and doubles nothing visible.

"Killed" is an exception the dispatcher cannot catch (like a cancelled task or a dead process): its
claims stay in the database until the lease lapses, then a fresh dispatcher takes them over.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from carecore.alerts.dispatcher import DISPATCH_LEASE, Dispatcher
from carecore.alerts.models import Audience, DeliveryState
from carecore.alerts.router import route_request
from carecore.ports import Ports
from tests.conftest import World
from tests.notifications.support import FakeSender, incident_alert, put_device
from tests.support import FakeClock

ALERTS = 6


class Killed(BaseException):
    """The process died: nothing below this frame runs, no handler catches it."""


class DyingSender(FakeSender):
    def __init__(self, die_after: int) -> None:
        super().__init__()
        self.die_after = die_after

    async def send(self, messages):  # type: ignore[no-untyped-def]
        for m in messages[: self.die_after]:
            self.sent.append(m)
        if self.die_after < len(messages):
            raise Killed
        return await FakeSender().send(messages)


async def stored_alerts(ports: Ports, world: World, clock: FakeClock) -> list[str]:
    ids = []
    for _ in range(ALERTS):
        [n] = await route_request(ports, incident_alert(world, clock.now(), audiences=(Audience.GUARDIANS,)))
        ids.append(n.id)
    return ids


async def restart_and_deliver(ports: Ports, clock: FakeClock, sent_before: FakeSender) -> Counter[str]:
    clock.advance(DISPATCH_LEASE + timedelta(seconds=1))
    after = FakeSender()
    await Dispatcher(ports, after, owner="restarted").run_until_idle()
    return Counter(m.notification_id for m in sent_before.sent + after.sent)


@pytest.mark.parametrize("die_after", [0, 1, 4, ALERTS], ids=["before-any-send", "after-1", "after-4", "after-all"])
async def test_killed_while_sending_each_alert_is_delivered_at_most_once_more(
    die_after: int, ports: Ports, world: World, clock: FakeClock
) -> None:
    await put_device(ports.store, world.guardian, clock.now())
    ids = await stored_alerts(ports, world, clock)
    dying = DyingSender(die_after if die_after < ALERTS else ALERTS)
    if die_after == ALERTS:
        # Every push went out; the process dies before it could record so.
        ports.store.notifications.finish = _killed  # type: ignore[method-assign]
    with pytest.raises(Killed):
        await Dispatcher(ports, dying, owner="dies").run_once()
    if die_after == ALERTS:
        del ports.store.notifications.finish

    counts = await restart_and_deliver(ports, clock, dying)

    assert set(counts) == set(ids)
    assert all(1 <= c <= 2 for c in counts.values())
    for n in ids:
        stored = await ports.store.notifications.get(n)
        assert stored is not None and stored.state is DeliveryState.SENT


async def test_killed_after_claiming_the_claim_lapses_and_another_instance_sends_once(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    await put_device(ports.store, world.guardian, clock.now())
    ids = await stored_alerts(ports, world, clock)
    claimed = await ports.store.notifications.claim_due(now=clock.now(), owner="dies", lease=DISPATCH_LEASE, limit=500)
    assert len(claimed) == ALERTS
    assert await Dispatcher(ports, FakeSender(), owner="other").run_once() == 0  # still leased

    counts = await restart_and_deliver(ports, clock, FakeSender())

    assert counts == Counter(dict.fromkeys(ids, 1))


async def test_a_resend_after_a_crash_carries_the_same_collapse_key_and_text(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    await put_device(ports.store, world.guardian, clock.now())
    await stored_alerts(ports, world, clock)
    dying = DyingSender(ALERTS)
    ports.store.notifications.finish = _killed  # type: ignore[method-assign]
    with pytest.raises(Killed):
        await Dispatcher(ports, dying, owner="dies").run_once()
    del ports.store.notifications.finish
    clock.advance(DISPATCH_LEASE + timedelta(seconds=1))
    again = FakeSender()
    await Dispatcher(ports, again, owner="restarted").run_until_idle()

    first = sorted(dying.sent, key=lambda m: m.notification_id)
    second = sorted(again.sent, key=lambda m: m.notification_id)
    assert first == second  # same notification id (the collapse key), device, text and payload


async def _killed(*args: object, **kwargs: object) -> int:
    raise Killed
