"""The dispatcher: every stored notification reaches every device of its recipient, or says why not."""

from __future__ import annotations

import asyncio
import random
from datetime import time, timedelta

from carecore.alerts.cleanup import clean_up
from carecore.alerts.devices import remove_stale_devices
from carecore.alerts.dispatcher import Dispatcher
from carecore.alerts.models import AddressKind, Audience, DeliveryState, DeviceOutcome, Preferences, QuietHours
from carecore.alerts.router import route_request
from carecore.incidents.models import Severity
from carecore.ports import Ports
from tests.conftest import World
from tests.notifications.support import GONE, UNAVAILABLE, FakeSender, incident_alert, put_device
from tests.support import FakeClock

GUARDIANS = (Audience.GUARDIANS,)


def dispatcher(ports: Ports, sender: FakeSender, name: str = "d1") -> Dispatcher:
    return Dispatcher(ports, sender, owner=name, rng=random.Random(7))


async def test_each_device_of_the_recipient_gets_the_push_and_its_result_is_recorded(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    phone = await put_device(ports.store, world.guardian, clock.now())
    tablet = await put_device(ports.store, world.guardian, clock.now(), kind=AddressKind.REGISTRATION_TOKEN)
    [n] = await route_request(ports, incident_alert(world, clock.now(), audiences=GUARDIANS))
    sender = FakeSender()

    assert await dispatcher(ports, sender).run_once() == 1

    assert {m.device_id for m in sender.sent} == {phone.id, tablet.id}
    assert {m.notification_id for m in sender.sent} == {n.id}
    stored = await ports.store.notifications.get(n.id)
    assert stored is not None and stored.state is DeliveryState.SENT and stored.next_attempt_at is None
    assert {r.outcome for r in stored.results} == {DeviceOutcome.SENT}
    assert all(r.message_id for r in stored.results)


async def test_a_busy_server_is_retried_no_sooner_than_retry_after_and_only_for_that_device(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    busy = await put_device(ports.store, world.guardian, clock.now())
    fine = await put_device(ports.store, world.guardian, clock.now())
    [n] = await route_request(ports, incident_alert(world, clock.now(), audiences=GUARDIANS))
    sender = FakeSender(errors={busy.address: [UNAVAILABLE, UNAVAILABLE]})
    d = dispatcher(ports, sender)

    await d.run_once()
    clock.advance(timedelta(seconds=29))
    assert await d.run_once() == 0
    clock.advance(timedelta(seconds=1))
    await d.run_once()
    clock.advance(timedelta(seconds=30))
    await d.run_once()

    assert len(sender.to(fine)) == 1 and len(sender.to(busy)) == 3
    stored = await ports.store.notifications.get(n.id)
    assert stored is not None and stored.state is DeliveryState.SENT and stored.attempts == 3


async def test_an_unregistered_device_is_removed_and_not_retried(ports: Ports, world: World, clock: FakeClock) -> None:
    gone = await put_device(ports.store, world.guardian, clock.now())
    [n] = await route_request(ports, incident_alert(world, clock.now(), audiences=GUARDIANS))
    sender = FakeSender(errors={gone.address: [GONE]})

    await dispatcher(ports, sender).run_once()
    clock.advance(timedelta(minutes=10))
    await dispatcher(ports, sender).run_once()

    assert len(sender.sent) == 1
    assert await ports.store.devices.get(gone.id) is None
    stored = await ports.store.notifications.get(n.id)
    assert stored is not None and stored.state is DeliveryState.FAILED
    assert [(r.outcome, r.error) for r in stored.results] == [(DeviceOutcome.UNREGISTERED, "UNREGISTERED")]


async def test_without_a_device_the_notification_stays_in_the_inbox(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    [n] = await route_request(ports, incident_alert(world, clock.now(), audiences=GUARDIANS))

    await dispatcher(ports, FakeSender()).run_once()

    stored = await ports.store.notifications.get(n.id)
    assert stored is not None and stored.state is DeliveryState.NO_DEVICES


async def test_a_push_failing_past_its_time_to_live_expires_and_stops(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    phone = await put_device(ports.store, world.guardian, clock.now())
    [n] = await route_request(ports, incident_alert(world, clock.now(), audiences=GUARDIANS))
    sender = FakeSender(errors={phone.address: [UNAVAILABLE] * 1000})
    d = dispatcher(ports, sender)

    for _ in range(100):
        clock.advance(timedelta(minutes=1))
        await d.run_once()

    stored = await ports.store.notifications.get(n.id)
    assert stored is not None and stored.state is DeliveryState.EXPIRED and stored.next_attempt_at is None
    assert 10 < len(sender.sent) < 60  # backed off, up to 5 minutes apart, for the hour an incident push lives


async def test_quiet_hours_deliver_the_held_push_when_they_end_unless_it_was_read(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    phone = await put_device(ports.store, world.guardian, clock.now())
    quiet = Preferences(world.guardian.id, quiet_hours=QuietHours(time(8), time(10)))  # Seoul; now is 09:00
    await ports.store.notification_preferences.replace(quiet, expected_revision=0)
    [read] = await route_request(
        ports, incident_alert(world, clock.now(), severity=Severity.MEDIUM, audiences=GUARDIANS)
    )
    [unread] = await route_request(
        ports, incident_alert(world, clock.now(), severity=Severity.MEDIUM, audiences=GUARDIANS)
    )
    [critical] = await route_request(ports, incident_alert(world, clock.now(), audiences=GUARDIANS))
    sender = FakeSender()
    d = dispatcher(ports, sender)

    await d.run_once()
    assert [m.notification_id for m in sender.to(phone)] == [critical.id]
    await ports.store.notifications.mark_read(read.id, world.guardian.id, clock.now())
    clock.advance(timedelta(hours=1))
    await d.run_once()

    assert [m.notification_id for m in sender.to(phone)] == [critical.id, unread.id]
    stored = await ports.store.notifications.get(read.id)
    assert stored is not None and stored.state is DeliveryState.SUPPRESSED


async def test_two_dispatchers_share_the_work_and_never_send_one_notification_twice(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    phone = await put_device(ports.store, world.guardian, clock.now())
    for _ in range(30):
        await route_request(ports, incident_alert(world, clock.now(), audiences=GUARDIANS))
    sender = FakeSender()
    first, second = Dispatcher(ports, sender, batch_size=7), Dispatcher(ports, sender, batch_size=7)

    while sum(await asyncio.gather(first.run_once(), second.run_once())):
        pass

    ids = [m.notification_id for m in sender.to(phone)]
    assert len(ids) == len(set(ids)) == 30


async def test_devices_unseen_for_270_days_are_removed(ports: Ports, world: World, clock: FakeClock) -> None:
    old = await put_device(ports.store, world.guardian, clock.now())
    clock.advance(timedelta(days=200))
    recent = await put_device(ports.store, world.guardian, clock.now())
    clock.advance(timedelta(days=71))

    assert await remove_stale_devices(ports) == 1
    assert await ports.store.devices.get(old.id) is None
    assert await ports.store.devices.get(recent.id) is not None


async def test_the_clean_up_keeps_a_year_of_inbox_and_a_month_of_finished_callouts(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    [old] = await route_request(ports, incident_alert(world, clock.now(), audiences=GUARDIANS))
    await dispatcher(ports, FakeSender()).run_once()
    job = await ports.store.callouts.claim(
        now=clock.now() + timedelta(minutes=5), owner="w", lease=timedelta(seconds=9)
    )
    assert job is not None
    await ports.store.callouts.finish(old.id, owner="w", changes={"state": "SKIPPED", "due_at": None})
    clock.advance(timedelta(days=200))
    [recent] = await route_request(ports, incident_alert(world, clock.now(), audiences=GUARDIANS))

    assert await clean_up(ports) == 1  # the finished callout of the old notification
    clock.advance(timedelta(days=166))
    assert await clean_up(ports) == 1  # the year-old notification; the recent one is still queued
    assert await ports.store.notifications.get(old.id) is None
    assert await ports.store.notifications.get(recent.id) is not None
