"""Swaps: a caregiver asks another to take a shift; the other accepts; a coordinator approves when the
agency requires it. The shift changes hands through the same placement as any assignment."""

from __future__ import annotations

from dataclasses import replace

from carecore import validation
from carecore.access.policy import require_role
from carecore.access.principal import Principal, Role
from carecore.agencies.service import get_agency
from carecore.audit.service import audits
from carecore.errors import NotFound, StateConflict, ValidationFailed
from carecore.events.models import EventData
from carecore.ids import new_id
from carecore.ports import Ports
from carecore.shifts.errors import MissingQualifications
from carecore.shifts.models import HistoryAction, HistoryEntry, Shift, ShiftStatus, SwapRequest, SwapStatus
from carecore.shifts.placement import Placement, place, series_violation
from carecore.shifts.rules import missing_qualifications
from carecore.shifts.support import (
    load_caregiver,
    publish_shift_event,
    request_shift_alert,
    shift_in_scope,
    tell_caregivers,
    zone,
)
from carecore.vocabulary import AlertKind, Audience, Severity


@audits("shift.request_swap", "Shift", "shift_id")
async def request_swap(
    ports: Ports, actor: Principal, shift_id: str, *, to_caregiver_id: str, message: str = ""
) -> Shift:
    """Asks another caregiver to take one of your shifts that has not started."""
    require_role(actor, Role.CAREGIVER)
    shift = await _own_upcoming(ports, actor, shift_id)
    if to_caregiver_id == actor.user_id:
        raise ValidationFailed("Ask another caregiver.", field="toCaregiverId")
    message = validation.text(message, "message", max_len=500)
    agency = await get_agency(ports, actor.agency_id)
    other = await load_caregiver(ports, agency, to_caregiver_id, field="toCaregiverId")
    tz = zone(agency)
    missing = missing_qualifications(shift.required_qualifications, other.profile, shift.start.astimezone(tz).date())
    if missing:
        raise MissingQualifications(missing, field="toCaregiverId")
    violation = await series_violation(ports, other.user.id, [(shift.id, shift.start, shift.end)], other.limits, tz)
    if violation is not None:
        violation.field = "toCaregiverId"
        raise violation
    now = ports.clock.now()
    swap = SwapRequest(new_id(), actor.user_id, other.user.id, SwapStatus.PENDING, now, message)
    updated = await ports.store.shifts.put_swap(shift.id, swap, expected_swap=None, caregiver_id=actor.user_id, now=now)
    if updated is None:
        raise StateConflict("A swap of this shift is already waiting for an answer.", field="shiftId")
    await publish_shift_event(ports, updated, "shift.swap_requested", swap.id, data={"to_caregiver_id": other.user.id})
    await tell_caregivers(ports, updated, f"swap:{swap.id}", other.user.id)
    return updated


async def _own_upcoming(ports: Ports, actor: Principal, shift_id: str) -> Shift:
    shift = await shift_in_scope(ports, actor, shift_id)
    if shift.caregiver_id != actor.user_id:
        raise NotFound("Shift", shift_id, field="shiftId")
    if shift.status is not ShiftStatus.SCHEDULED or shift.start <= ports.clock.now():
        raise StateConflict("Only a scheduled shift that has not started can be swapped.", field="shiftId")
    return shift


def _open_swap(shift: Shift, *statuses: SwapStatus) -> SwapRequest:
    swap = shift.current_swap
    if swap is None or swap.status not in statuses:
        raise StateConflict("There is no swap of this shift waiting for that.", field="shiftId")
    return swap


@audits("shift.respond_to_swap", "Shift", "shift_id")
async def respond_to_swap(ports: Ports, actor: Principal, shift_id: str, *, accept: bool) -> Shift:
    """The asked caregiver accepts (the shift becomes theirs, or waits for approval) or declines."""
    require_role(actor, Role.CAREGIVER)
    shift = await shift_in_scope(ports, actor, shift_id)
    swap = _open_swap(shift, SwapStatus.PENDING)
    if swap.to_caregiver_id != actor.user_id:
        raise NotFound("Shift", shift_id, field="shiftId")
    agency = await get_agency(ports, actor.agency_id)
    if accept and not agency.swap_requires_approval:
        updated = await _complete(ports, actor, shift, swap)
    else:
        status = SwapStatus.AWAITING_APPROVAL if accept else SwapStatus.DECLINED
        updated = await _decide(ports, actor, shift, swap, status, None)
        if accept:
            coordinators = (Audience.COORDINATORS_ON_DUTY,)
            key = f"swap_approval:{swap.id}"
            await request_shift_alert(ports, updated, AlertKind.SHIFT_CHANGE, Severity.MEDIUM, coordinators, key)
    return updated


@audits("shift.decide_swap", "Shift", "shift_id")
async def decide_swap(
    ports: Ports, actor: Principal, shift_id: str, *, approve: bool, reason: str | None = None
) -> Shift:
    """A coordinator approves or rejects a swap both caregivers agreed on."""
    require_role(actor, Role.COORDINATOR)
    shift = await shift_in_scope(ports, actor, shift_id)
    swap = _open_swap(shift, SwapStatus.AWAITING_APPROVAL)
    reason = validation.optional_text(reason, "reason", max_len=500)
    if approve:
        updated = await _complete(ports, actor, shift, swap, reason)
    else:
        updated = await _decide(ports, actor, shift, swap, SwapStatus.REJECTED, reason)
    return updated


@audits("shift.withdraw_swap", "Shift", "shift_id")
async def withdraw_swap(ports: Ports, actor: Principal, shift_id: str) -> Shift:
    """The asking caregiver takes the request back while it is open."""
    require_role(actor, Role.CAREGIVER)
    shift = await shift_in_scope(ports, actor, shift_id)
    swap = _open_swap(shift, SwapStatus.PENDING, SwapStatus.AWAITING_APPROVAL)
    if swap.from_caregiver_id != actor.user_id:
        raise NotFound("Shift", shift_id, field="shiftId")
    return await _decide(ports, actor, shift, swap, SwapStatus.WITHDRAWN, None)


async def _decide(
    ports: Ports, actor: Principal, shift: Shift, swap: SwapRequest, status: SwapStatus, reason: str | None
) -> Shift:
    now = ports.clock.now()
    decided = replace(swap, status=status, decided_at=now, decided_by=actor.user_id, reason=reason)
    updated = await ports.store.shifts.put_swap(
        shift.id, decided, expected_swap=(swap.id, swap.status), caregiver_id=swap.from_caregiver_id, now=now
    )
    if updated is None:
        raise StateConflict("The swap changed meanwhile; reload the shift.", field="shiftId")
    await tell_caregivers(
        ports, updated, f"swap:{swap.id}:{status.value}", swap.from_caregiver_id, swap.to_caregiver_id
    )
    return updated


async def _complete(
    ports: Ports, actor: Principal, shift: Shift, swap: SwapRequest, reason: str | None = None
) -> Shift:
    """Places the asked caregiver on the shift, provided the swap is still the one that was agreed."""
    agency = await get_agency(ports, actor.agency_id)
    other = await load_caregiver(ports, agency, swap.to_caregiver_id, field="shiftId")
    tz = zone(agency)
    missing = missing_qualifications(shift.required_qualifications, other.profile, shift.start.astimezone(tz).date())
    if missing:
        raise MissingQualifications(missing, field="shiftId")
    now = ports.clock.now()
    placement = Placement(
        caregiver_id=other.user.id,
        start=shift.start,
        end=shift.end,
        limits=other.limits,
        tz=tz,
        history=HistoryEntry(HistoryAction.SWAPPED, now, actor.user_id, swap.from_caregiver_id, other.user.id, reason),
        swap=replace(swap, status=SwapStatus.COMPLETED, decided_at=now, decided_by=actor.user_id, reason=reason),
        field="shiftId",
    )
    swapped = await place(
        ports, shift, placement, statuses=(ShiftStatus.SCHEDULED,), expected_swap=(swap.id, swap.status)
    )
    data: EventData = {"previous_caregiver_id": swap.from_caregiver_id, "swap_id": swap.id}
    await publish_shift_event(ports, swapped, "shift.assigned", str(swapped.revision), data=data)
    await tell_caregivers(ports, swapped, f"swap:{swap.id}:done", swap.from_caregiver_id, other.user.id)
    return swapped
