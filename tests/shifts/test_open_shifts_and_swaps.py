"""Open shifts (offers and racing claims) and swaps between caregivers."""

from __future__ import annotations

import asyncio

import pytest

from carecore.agencies.models import Agency
from carecore.alerts.models import AlertKind, Audience
from carecore.errors import NotFound
from carecore.ports import Ports
from carecore.shifts import open_shifts, swaps
from carecore.shifts.errors import ShiftOverlap, ShiftTaken
from carecore.shifts.models import HistoryAction, Shift, ShiftStatus, SwapStatus
from tests.shifts.conftest import Shifts

CARE_WORKER = "요양보호사"


async def offers_of(ports: Ports, shift_id: str) -> list[tuple[str, ...]]:
    requests = await ports.store.alert_requests.for_subject(shift_id)
    return [r.user_ids for r in requests if r.kind is AlertKind.OPEN_SHIFT_OFFER]


async def test_of_twenty_caregivers_claiming_one_open_shift_one_wins_and_the_rest_see_it_taken(
    shifts: Shifts, ports: Ports
) -> None:
    caregivers = [await shifts.caregiver(f"요양보호사 {i}", CARE_WORKER) for i in range(20)]
    shift = await shifts.schedule(None, shifts.local(1, 9), shifts.local(1, 13), required_qualifications=(CARE_WORKER,))

    results = await asyncio.gather(
        *(open_shifts.claim_open_shift(ports, c.principal(), shift.id) for c in caregivers), return_exceptions=True
    )

    won = [r for r in results if isinstance(r, Shift)]
    assert len(won) == 1 and won[0].status is ShiftStatus.SCHEDULED
    assert all(isinstance(r, ShiftTaken) for r in results if not isinstance(r, Shift)), results
    winner = won[0].caregiver_id
    assert won[0].history[-1].action is HistoryAction.CLAIMED and won[0].history[-1].to_caregiver_id == winner
    booked = [c.id for c in caregivers if (await ports.store.caregiver_schedules.get(c.id)).bookings]
    assert booked == [winner]


async def test_an_opened_shift_is_offered_to_qualified_free_caregivers_only(shifts: Shifts, ports: Ports) -> None:
    free = await shifts.caregiver("한가한 요양보호사", CARE_WORKER)
    busy = await shifts.caregiver("바쁜 요양보호사", CARE_WORKER)
    await shifts.caregiver("자격 없는 사람")
    await shifts.schedule(busy, shifts.local(1, 10), shifts.local(1, 12), person_id=shifts.world.jiho.id)
    assigned = await shifts.schedule(
        free, shifts.local(1, 9), shifts.local(1, 13), required_qualifications=(CARE_WORKER,)
    )

    opened = await open_shifts.open_shift(ports, shifts.coordinator, assigned.id, reason="보호자 요청으로 교체")

    assert opened.status is ShiftStatus.OPEN and opened.caregiver_id is None
    assert opened.history[-1].action is HistoryAction.OPENED and opened.history[-1].from_caregiver_id == free.id
    assert await offers_of(ports, opened.id) == [(free.id,)]  # free again now that the shift is open


async def test_a_caregiver_who_gives_up_a_shift_frees_their_time_and_coordinators_hear_of_it(
    shifts: Shifts, ports: Ports
) -> None:
    caregiver = shifts.world.caregiver_on_team
    shift = await shifts.schedule(caregiver, shifts.local(1, 9), shifts.local(1, 13))

    given = await open_shifts.give_up_shift(ports, caregiver.principal(), shift.id, reason="가족 병원 동행")

    assert given.status is ShiftStatus.OPEN and given.history[-1].action is HistoryAction.GIVEN_UP
    alerts = await ports.store.alert_requests.for_subject(shift.id)
    assert any(a.kind is AlertKind.SHIFT_CHANGE and Audience.COORDINATORS_ON_DUTY in a.audiences for a in alerts)
    assert (await ports.store.caregiver_schedules.get(caregiver.id)).bookings == ()


async def test_claims_need_the_qualifications_and_room_in_the_claimers_schedule(shifts: Shifts, ports: Ports) -> None:
    unqualified = await shifts.caregiver("자격 없는 사람")
    qualified = await shifts.caregiver("요양보호사", CARE_WORKER)
    busy_with = await shifts.schedule(
        qualified, shifts.local(1, 8), shifts.local(1, 10), person_id=shifts.world.jiho.id
    )
    shift = await shifts.schedule(None, shifts.local(1, 9), shifts.local(1, 13), required_qualifications=(CARE_WORKER,))

    with pytest.raises(NotFound):
        await open_shifts.claim_open_shift(ports, unqualified.principal(), shift.id)
    with pytest.raises(ShiftOverlap) as refused:
        await open_shifts.claim_open_shift(ports, qualified.principal(), shift.id)

    assert refused.value.conflicting_shift_id == busy_with.id
    stored = await ports.store.shifts.get(shift.id)
    assert stored is not None and stored.status is ShiftStatus.OPEN and stored.hold is None


async def test_a_swap_the_other_caregiver_accepts_moves_the_shift(shifts: Shifts, ports: Ports) -> None:
    asker, taker = shifts.world.caregiver_on_team, shifts.world.caregiver_off_team
    shift = await shifts.schedule(asker, shifts.local(1, 9), shifts.local(1, 13))

    asked = await swaps.request_swap(ports, asker.principal(), shift.id, to_caregiver_id=taker.id, message="부탁해요")
    assert asked.current_swap is not None and asked.current_swap.status is SwapStatus.PENDING
    swapped = await swaps.respond_to_swap(ports, taker.principal(), shift.id, accept=True)

    assert swapped.caregiver_id == taker.id
    assert swapped.current_swap is not None and swapped.current_swap.status is SwapStatus.COMPLETED
    last = swapped.history[-1]
    assert (last.action, last.from_caregiver_id, last.to_caregiver_id) == (HistoryAction.SWAPPED, asker.id, taker.id)
    assert (await ports.store.caregiver_schedules.get(asker.id)).bookings == ()


async def test_a_swap_waits_for_a_coordinator_when_the_agency_requires_it(shifts: Shifts, ports: Ports) -> None:
    world = shifts.world
    await ports.store.agencies.upsert(Agency(world.agency.id, world.agency.name, swap_requires_approval=True))
    asker, taker = world.caregiver_on_team, world.caregiver_off_team
    shift = await shifts.schedule(asker, shifts.local(1, 9), shifts.local(1, 13))
    await swaps.request_swap(ports, asker.principal(), shift.id, to_caregiver_id=taker.id)

    accepted = await swaps.respond_to_swap(ports, taker.principal(), shift.id, accept=True)
    assert accepted.caregiver_id == asker.id and accepted.current_swap is not None
    assert accepted.current_swap.status is SwapStatus.AWAITING_APPROVAL
    approved = await swaps.decide_swap(ports, shifts.coordinator, shift.id, approve=True, reason="확인함")

    assert approved.caregiver_id == taker.id and approved.history[-1].by == world.coordinator.id


async def test_a_declined_swap_leaves_the_shift_with_its_caregiver(shifts: Shifts, ports: Ports) -> None:
    asker, taker = shifts.world.caregiver_on_team, shifts.world.caregiver_off_team
    shift = await shifts.schedule(asker, shifts.local(1, 9), shifts.local(1, 13))
    await swaps.request_swap(ports, asker.principal(), shift.id, to_caregiver_id=taker.id)

    declined = await swaps.respond_to_swap(ports, taker.principal(), shift.id, accept=False)

    assert declined.caregiver_id == asker.id
    assert declined.current_swap is not None and declined.current_swap.status is SwapStatus.DECLINED
    with pytest.raises(NotFound):  # no longer offered to them, so no longer theirs to see
        await swaps.respond_to_swap(ports, taker.principal(), shift.id, accept=True)
