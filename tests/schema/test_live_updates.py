"""The caller's inbox and open-shift offers as subscriptions, on the cross-instance events feed (issue 13):
who may subscribe, and which messages each caller gets, checked again on every event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import strawberry

from carecore.alerts.inbox import notification_for_update
from carecore.alerts.models import AlertKind, Audience
from carecore.alerts.router import ALERTS_ROUTED, route_due, route_request
from carecore.alerts.service import request_alert
from carecore.events.feed import EventFeed
from carecore.ports import Ports
from carecore.shifts.open_shifts import claim_open_shift, offer_for_update
from carecore.shifts.scheduling import ShiftPlan, schedule_shift
from carecore.users.models import User
from schema.context import Context
from tests.conftest import World, build_world
from tests.crashes import CrashPoints, recover
from tests.notifications.support import incident_alert
from tests.support import FakeClock

INBOX = "subscription { inbox { id kind subjectId } }"
OFFERS = "subscription { openShiftOffers { id status } }"


async def routed_events(ports: Ports) -> list[Any]:
    return await ports.store.events.since(ports.clock.now() - timedelta(days=1), kinds=[ALERTS_ROUTED])


async def test_a_guardians_inbox_update_is_their_own_copy_and_nobody_elses(world: World, ports: Ports) -> None:
    request = incident_alert(world, ports.clock.now(), audiences=(Audience.GUARDIANS,))
    [mine] = await route_request(ports, request)
    [event] = await routed_events(ports)

    found = await notification_for_update(ports, world.guardian.principal(), event)
    assert found is not None and found.id == mine.id and found.user_id == world.guardian.id
    for other in ("other_guardian", "caregiver_off_team", "coordinator", "other_agency_coordinator"):
        assert await notification_for_update(ports, world.everyone()[other].principal(), event) is None, other


async def open_shift_offered(world: World, ports: Ports) -> str:
    now = ports.clock.now()
    plan = ShiftPlan(world.minji.id, now + timedelta(days=1), now + timedelta(days=1, hours=3), None)
    shift = await schedule_shift(ports, world.coordinator.principal(), plan)
    await route_due(ports, owner="test")
    return shift.id


async def test_an_offer_reaches_a_caregiver_it_was_made_to_while_the_shift_is_open(world: World, ports: Ports) -> None:
    shift_id = await open_shift_offered(world, ports)
    offers = [e for e in await routed_events(ports) if e.data.get("alert_kind") == AlertKind.OPEN_SHIFT_OFFER.value]
    assert offers, "opening the shift offered it"
    event = offers[-1]
    caregiver = world.caregiver_on_team

    offered = await offer_for_update(ports, caregiver.principal(), event)
    assert offered is not None and offered.id == shift_id
    for other in ("coordinator", "guardian", "other_agency_coordinator"):
        assert await offer_for_update(ports, world.everyone()[other].principal(), event) is None, other

    await claim_open_shift(ports, world.caregiver_off_team.principal(), shift_id)
    assert await offer_for_update(ports, caregiver.principal(), event) is None  # taken: no longer offered


async def test_routing_killed_at_any_write_publishes_one_routed_event_after_every_notification(
    crash_points: CrashPoints,
) -> None:
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        request = incident_alert(world, run.clock.now(), audiences=(Audience.GUARDIANS, Audience.ALL_COORDINATORS))
        await request_alert(run.ports, request)
        async with run.armed():
            await route_due(run.ports, owner="dying")
        await recover(run)

        events = [e for e in await routed_events(run.ports) if e.subject_id == request.id]
        notifications = await run.store.notifications.for_request(request.id)
        assert len(events) == 1, run.writes
        assert {n.user_id for n in notifications} >= {world.guardian.id, world.coordinator.id}, run.writes
        # A subscriber reading the event finds its copy: it was written before the event.
        assert await notification_for_update(run.ports, world.guardian.principal(), events[0]) is not None


# --- through the schema, on a feed ---------------------------------------------------------------------


async def subscribe(
    schema: strawberry.Schema, ports: Ports, feed: EventFeed, document: str, user: User
) -> asyncio.Future[Any]:
    """Subscribes as `user` and waits for the first message; returns once the subscription reads the feed."""
    context = Context(ports=ports, principal_or_none=user.principal(), feed=feed)
    stream = await schema.subscribe(document, context_value=context)
    assert isinstance(stream, AsyncIterator), stream
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.05)  # the subscription holds a queue of the feed now (or has failed)
    await feed.poll_once()
    return waiting


async def first_message(waiting: asyncio.Future[Any], feed: EventFeed) -> Any:
    """Polls the feed as an instance's reader does until the subscription answers."""
    for _ in range(50):
        if waiting.done():
            return waiting.result()
        await feed.poll_once()
        await asyncio.sleep(0.01)
    waiting.cancel()
    raise AssertionError("no message")


@pytest.mark.parametrize(
    ("document", "role", "code"),
    [
        (INBOX, "ai_service", "FORBIDDEN"),
        (OFFERS, "ai_service", "FORBIDDEN"),
        (OFFERS, "coordinator", "FORBIDDEN"),
        (OFFERS, "guardian", "FORBIDDEN"),
    ],
)
async def test_who_may_not_subscribe_is_refused_at_once(
    schema: strawberry.Schema, world: World, ports: Ports, document: str, role: str, code: str
) -> None:
    feed = EventFeed(ports, [ALERTS_ROUTED])
    message = await first_message(await subscribe(schema, ports, feed, document, world.everyone()[role]), feed)
    assert message.errors and message.errors[0].extensions["code"] == code


async def test_the_inbox_subscription_delivers_the_callers_new_notification(
    schema: strawberry.Schema, world: World, ports: Ports, clock: FakeClock
) -> None:
    feed = EventFeed(ports, [ALERTS_ROUTED])
    waiting = await subscribe(schema, ports, feed, INBOX, world.guardian)
    not_for_me = incident_alert(world, clock.now(), audiences=(Audience.ALL_COORDINATORS,))
    for_me = incident_alert(world, clock.now(), audiences=(Audience.GUARDIANS,))
    await route_request(ports, not_for_me)
    await route_request(ports, for_me)
    message = await first_message(waiting, feed)

    assert message.errors is None, message.errors
    assert message.data["inbox"]["subjectId"] == for_me.subject_id


async def test_the_offers_subscription_delivers_an_open_shift_offered_to_the_caregiver(
    schema: strawberry.Schema, world: World, ports: Ports
) -> None:
    feed = EventFeed(ports, [ALERTS_ROUTED])
    waiting = await subscribe(schema, ports, feed, OFFERS, world.caregiver_on_team)
    shift_id = await open_shift_offered(world, ports)
    message = await first_message(waiting, feed)

    assert message.errors is None, message.errors
    assert message.data["openShiftOffers"] == {"id": shift_id, "status": "OPEN"}
