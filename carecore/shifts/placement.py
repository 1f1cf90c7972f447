"""Placing a caregiver on a shift, atomically enough without transactions.

Invariant: a caregiver never holds two overlapping shifts, and their weekly hours and rest stay within
their limits. Two documents take part, and each changes only by a single conditional update:

- the caregiver's schedule document (`caregiver_schedules`, one per caregiver) lists their bookings
  (shift, token, start, end) under a revision. It is the one place where the rules are decided: a
  writer reads it, checks overlap, rest and weekly hours in memory (carecore.shifts.rules), and writes
  the new list back only if the revision is still the one it read (compare-and-set). Of racing
  writers exactly one wins each round; the others re-read and re-check, so each sees the winner.
- the shift document says who works it. It confirms a booking when its `caregiver_id` and
  `booking_token` match the booking, and it `hold`s one for a placement still under way.

A placement runs in this order:
1. hold: a conditional update on the shift (expected state, no live hold) stores a hold with a fresh
   token, the caregiver and the times. Of two placements on one shift (racing claims) one holds it.
2. book: the compare-and-set above adds the booking under the hold's token.
3. commit: a conditional update on the hold's token gives the shift its caregiver, times and
   `booking_token`. This is the commit point.
4. tidy: the shift's other bookings are removed from the new and the previous caregiver's schedules.

A booking its shift neither confirms nor holds is garbage left by a placement that was refused,
lost its hold, or crashed; it is dropped from the list when it gets in the way of a new booking.
A hold older than HOLD_LAPSE belongs to a placement that stopped: before its booking is dropped the
hold is broken on the shift by a conditional update, so that placement can never commit afterwards.
Whatever step a crash interrupts, the shift keeps its last committed caregiver and every booking
that shift confirms stays in place; what is left over is garbage the next writer clears.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from carecore.errors import DomainError, NotFound, StateConflict, VersionConflict
from carecore.ids import new_id
from carecore.ports import Ports
from carecore.shifts.errors import PLACEMENT_VIOLATIONS
from carecore.shifts.models import (
    PLACEABLE,
    Booking,
    HistoryEntry,
    Hold,
    Limits,
    QualificationOverride,
    Shift,
    ShiftStatus,
    SwapRequest,
    SwapStatus,
)
from carecore.shifts.rules import check_placement

HOLD_LAPSE = timedelta(seconds=30)
MAX_ATTEMPTS = 30
# Bookings that ended this long ago can no longer matter to a rest or weekly-hours check.
KEEP_PAST = timedelta(days=8)


@dataclass(frozen=True, slots=True)
class Placement:
    """Who is to work the shift, when, under which limits, and what the history will say."""

    caregiver_id: str
    start: datetime
    end: datetime
    limits: Limits
    tz: ZoneInfo
    history: HistoryEntry
    override: QualificationOverride | None = None
    swap: SwapRequest | None = None
    field: str | None = "caregiverId"
    # An edit's other changes, committed together with the times: None leaves a field as it is.
    required_qualifications: tuple[str, ...] | None = None
    notes: str | None = None


def new_hold(p: Placement, now: datetime) -> Hold:
    return Hold(token=new_id(), caregiver_id=p.caregiver_id, start=p.start, end=p.end, at=now)


async def finish(
    ports: Ports, held: Shift, hold: Hold, p: Placement, *, previous: str | None, keep_hold_on_refusal: bool = False
) -> Shift:
    """Steps 2 to 4 for a shift this placement holds; on a refusal the hold is released, unless the
    caller wants to decide what becomes of the shift while nobody else can take it."""
    try:
        await book(ports, held, hold, p)
    except DomainError:
        if not keep_hold_on_refusal:
            await ports.store.shifts.drop_hold(held.id, hold.token)
        raise
    committed = await ports.store.shifts.commit_hold(
        held.id,
        hold.token,
        history=p.history,
        now=ports.clock.now(),
        override=p.override,
        swap=p.swap,
        required=p.required_qualifications,
        notes=p.notes,
    )
    if committed is None:
        # The hold lapsed and was broken, or the shift was checked into or cancelled meanwhile.
        await ports.store.caregiver_schedules.remove_booking(p.caregiver_id, held.id, hold.token)
        raise StateConflict("The shift changed while it was being assigned; reload it and try again.")
    if previous is not None and previous != p.caregiver_id:
        await ports.store.caregiver_schedules.remove(previous, held.id)
    await ports.store.caregiver_schedules.remove(p.caregiver_id, held.id, keep_token=hold.token)
    return committed


async def book(ports: Ports, shift: Shift, hold: Hold, p: Placement) -> None:
    """Step 2: adds the hold's booking to the caregiver's schedule if every rule allows it."""
    candidate = Booking(shift.id, hold.token, hold.start, hold.end)
    schedules = ports.store.caregiver_schedules
    for attempt in range(MAX_ATTEMPTS):
        schedule = await schedules.get(p.caregiver_id)
        # The shift's own bookings never conflict with it: its committed booking (when it moves) stays
        # until the commit, and any other is garbage that step 4 removes.
        own = [b for b in schedule.bookings if b.shift_id == shift.id]
        others = [b for b in schedule.bookings if b.shift_id != shift.id]
        others = await checked_bookings(ports, p.caregiver_id, others, candidate, p)
        cutoff = ports.clock.now() - KEEP_PAST
        kept = [b for b in [*others, *own] if b.end > cutoff]
        if await schedules.replace(
            p.caregiver_id, shift.agency_id, expected_revision=schedule.revision, bookings=[*kept, candidate]
        ):
            return
        await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))  # spread the retries of many racers
    raise StateConflict("This caregiver's schedule is changing too quickly; try again.")


async def checked_bookings(
    ports: Ports, caregiver_id: str, others: Sequence[Booking], candidate: Booking, p: Placement
) -> list[Booking]:
    """`others` if the candidate fits; else the live ones if it fits those; else raises the violation."""
    try:
        check_placement(others, candidate, p.limits, p.tz, field=p.field)
    except PLACEMENT_VIOLATIONS:
        live = await live_bookings(ports, caregiver_id, others)
        check_placement(live, candidate, p.limits, p.tz, field=p.field)
        return live
    return list(others)


async def live_bookings(ports: Ports, caregiver_id: str, bookings: Sequence[Booking]) -> list[Booking]:
    """The bookings their shifts confirm or hold; lapsed holds are broken so they cannot commit later."""
    shifts = await ports.store.shifts.get_many(b.shift_id for b in bookings)
    lapsed_before = ports.clock.now() - HOLD_LAPSE
    live: list[Booking] = []
    for b in bookings:
        shift = shifts.get(b.shift_id)
        if shift is None:
            continue
        if confirms(shift, caregiver_id, b):
            live.append(b)
        elif shift.hold is not None and shift.hold.token == b.token:
            if shift.hold.at >= lapsed_before:
                live.append(b)
            elif not await ports.store.shifts.break_lapsed_hold(shift.id, b.token, lapsed_before):
                fresh = await ports.store.shifts.get(shift.id)  # it committed or moved on just now
                if fresh is not None and confirms(fresh, caregiver_id, b):
                    live.append(b)
    return live


def confirms(shift: Shift, caregiver_id: str, b: Booking) -> bool:
    return shift.caregiver_id == caregiver_id and shift.booking_token == b.token


async def series_violation(
    ports: Ports, caregiver_id: str, shifts: Sequence[tuple[str, datetime, datetime]], limits: Limits, tz: ZoneInfo
) -> DomainError | None:
    """A read-only check that the caregiver's schedule takes every (id, start, end), to refuse early."""
    ids = {shift_id for shift_id, _, _ in shifts}
    schedule = await ports.store.caregiver_schedules.get(caregiver_id)
    bookings = await live_bookings(ports, caregiver_id, [b for b in schedule.bookings if b.shift_id not in ids])
    for shift_id, start, end in shifts:
        candidate = Booking(shift_id, "", start, end)
        try:
            check_placement(bookings, candidate, limits, tz)
        except PLACEMENT_VIOLATIONS as exc:
            return exc
        bookings.append(candidate)
    return None


def require_placeable(shift: Shift, now: datetime) -> None:
    if shift.status not in PLACEABLE or shift.end <= now:
        raise StateConflict(f"A shift that is {shift.status.value.lower()} cannot be changed.", field="shiftId")


async def place(
    ports: Ports,
    shift: Shift,
    placement: Placement,
    *,
    expected_revision: int | None = None,
    statuses: Sequence[ShiftStatus] = PLACEABLE,
    expected_swap: tuple[str, SwapStatus] | None = None,
) -> Shift:
    """Holds the shift in the state it was read in (its caregiver; revision and swap if given), then
    places the caregiver."""
    hold = new_hold(placement, ports.clock.now())
    held = await ports.store.shifts.take_hold(
        shift.id,
        hold,
        statuses=statuses,
        lapsed_before=ports.clock.now() - HOLD_LAPSE,
        expected_revision=expected_revision,
        expected_caregiver=(shift.caregiver_id,),
        expected_swap=expected_swap,
    )
    if held is None:
        raise await why_not_held(ports, shift, expected_revision)
    return await finish(ports, held, hold, placement, previous=shift.caregiver_id)


async def why_not_held(ports: Ports, shift: Shift, expected_revision: int | None) -> DomainError:
    """Explains why a hold was refused, from a fresh read of the shift."""
    latest = await ports.store.shifts.get(shift.id)
    if latest is None:
        return NotFound("Shift", shift.id, field="shiftId")
    if expected_revision is not None and latest.revision != expected_revision:
        return VersionConflict(
            "The shift changed since you loaded it; reload it and try again.",
            current_revision=latest.revision,
            field="expectedRevision",
        )
    if latest.status not in PLACEABLE:
        return StateConflict(f"The shift is {latest.status.value.lower()} now.", field="shiftId")
    if latest.caregiver_id != shift.caregiver_id:
        return StateConflict("The shift was given to someone else meanwhile; reload it.", field="shiftId")
    return StateConflict("Someone else is changing this shift right now; try again in a moment.", field="shiftId")
