"""Passive signs of life: they keep a person reachable, teach their usual quiet, and a silence longer than
that asks them first, then a human."""

from __future__ import annotations

from datetime import timedelta

from carecore.incidents.models import AiService
from carecore.ports import Ports
from carecore.reachability.models import Cause, ReachState, SignKind
from carecore.reachability.service import EVENT_KIND
from tests.carecore.reachability.conftest import sign
from tests.carecore.reachability.test_ladder import race, state
from tests.conftest import World
from tests.support import FakeClock


async def _active_for_days(ports: Ports, world: World, clock: FakeClock, calls: AiService, days: int) -> None:
    """The phone is used every two hours from 08:00 to 22:00 (Seoul), for `days` days."""
    for day in range(days):
        for hour in range(0, 16, 2):
            clock.advance(timedelta(hours=2))
            await sign(ports, world, calls, SignKind.PHONE_USED, clock.now(), f"d{day}h{hour}")
            await race(ports)
        clock.advance(timedelta(hours=8))
        await race(ports)


async def test_the_usual_quiet_is_learned_from_signs_and_24_hours_before_there_is_data(
    ports: Ports, world: World, clock: FakeClock, calls: AiService
) -> None:
    reach = await sign(ports, world, calls, SignKind.DOOR, clock.now(), "first")
    assert reach.quiet_limit == timedelta(hours=24) and reach.state is ReachState.OK
    await _active_for_days(ports, world, clock, calls, 5)
    reach = await state(ports, world)
    assert reach.quiet_limit == timedelta(hours=10)  # the night is the longest usual silence
    assert reach.state is ReachState.OK


async def test_a_silence_longer_than_usual_asks_the_person_first_then_a_human(
    ports: Ports, world: World, clock: FakeClock, calls: AiService
) -> None:
    await _active_for_days(ports, world, clock, calls, 5)
    last = (await state(ports, world)).last_heard_at
    assert last is not None
    clock.current = last + timedelta(hours=9, minutes=59)
    await race(ports)
    assert (await state(ports, world)).state is ReachState.OK
    clock.current = last + timedelta(hours=10)
    await race(ports)
    reach = await state(ports, world)
    assert (reach.state, reach.cause) == (ReachState.DUE, Cause.QUIET)
    [asked] = await ports.store.db["events"].find({"kind": EVENT_KIND, "data.check": True}).to_list()
    assert asked["subject_id"] == world.minji.id
    clock.advance(timedelta(minutes=30))
    await race(ports)
    reach = await state(ports, world)
    assert reach.state is ReachState.HUMAN_CALLING
    assert reach.unreachable_since == last + timedelta(hours=10)


async def test_answering_the_check_or_any_sign_of_life_resets_to_ok(
    ports: Ports, world: World, clock: FakeClock, calls: AiService
) -> None:
    await _active_for_days(ports, world, clock, calls, 5)
    last = (await state(ports, world)).last_heard_at
    assert last is not None
    clock.current = last + timedelta(hours=10, minutes=10)
    await race(ports)
    reach = await sign(ports, world, calls, SignKind.CHECK_ANSWERED, clock.now(), "answer")
    assert (reach.state, reach.cause) == (ReachState.OK, None)
    clock.advance(timedelta(hours=11))
    await race(ports)
    assert (await state(ports, world)).state is ReachState.DUE  # quiet again, asked again
    reach = await sign(ports, world, calls, SignKind.SOS_PRESSED, clock.now(), "sos")
    assert reach.state is ReachState.OK


async def test_a_sign_older_than_the_silence_it_would_end_changes_nothing(
    ports: Ports, world: World, clock: FakeClock, calls: AiService
) -> None:
    await _active_for_days(ports, world, clock, calls, 5)
    last = (await state(ports, world)).last_heard_at
    assert last is not None
    clock.current = last + timedelta(hours=10)
    await race(ports)
    clock.advance(timedelta(minutes=31))
    await race(ports)
    assert (await state(ports, world)).state is ReachState.HUMAN_CALLING
    late = await sign(ports, world, calls, SignKind.POWER, last + timedelta(hours=1), "late-upload")
    assert late.state is ReachState.HUMAN_CALLING
