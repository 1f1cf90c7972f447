"""Open shifts: coordinators open them (or caregivers give them up), free and qualified caregivers are
offered them, and the first valid claim wins."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from carecore import validation
from carecore.access.policy import require_role
from carecore.access.principal import Principal, Role
from carecore.agencies.service import get_agency
from carecore.alerts.router import ALERTS_ROUTED, notification_id
from carecore.audit.service import audits, record
from carecore.errors import NotFound, StateConflict
from carecore.events.models import DomainEvent
from carecore.ids import is_valid_id
from carecore.pagination import Page, PageRequest
from carecore.ports import Ports
from carecore.shifts.errors import PLACEMENT_VIOLATIONS, ShiftTaken
from carecore.shifts.models import Booking, HistoryAction, HistoryEntry, Shift, ShiftStatus
from carecore.shifts.placement import HOLD_LAPSE, Placement, finish, new_hold, why_not_held
from carecore.shifts.policy import qualifies_for
from carecore.shifts.rules import check_placement, fits_availability, limits_for, missing_qualifications
from carecore.shifts.support import (
    change_key,
    load_caregiver,
    publish_shift_event,
    request_shift_alert,
    shift_in_scope,
    tell_caregivers,
    zone,
)
from carecore.vocabulary import AlertKind, Audience, Severity

OFFER_LEASE = timedelta(minutes=2)
MAX_OFFERS = 500
CLAIM_WAIT = timedelta(seconds=3)  # how long a claim waits for another placement of the shift to finish


@audits("shift.opened", "Shift", "shift_id")
async def open_shift(
    ports: Ports, actor: Principal, shift_id: str, *, reason: str, expected_revision: int | None = None
) -> Shift:
    """Takes a scheduled shift from its caregiver and offers it to free, qualified caregivers."""
    require_role(actor, Role.COORDINATOR)
    shift = await shift_in_scope(ports, actor, shift_id)
    if shift.status is ShiftStatus.OPEN:
        return await finish_release(ports, shift, HistoryAction.OPENED)  # a retry: finish what a crash left
    reason_text = validation.text(reason, "reason", max_len=500, required=True)
    return await _release(ports, actor, shift, HistoryAction.OPENED, reason_text, expected_revision)


@audits("shift.given_up", "Shift", "shift_id")
async def give_up_shift(ports: Ports, actor: Principal, shift_id: str, *, reason: str) -> Shift:
    """A caregiver hands back a shift that has not started; coordinators hear of it and it is offered."""
    require_role(actor, Role.CAREGIVER)
    shift = await shift_in_scope(ports, actor, shift_id)
    if _released(shift, HistoryAction.GIVEN_UP) == actor.user_id:
        return await finish_release(ports, shift, HistoryAction.GIVEN_UP)  # a retry: finish what a crash left
    if shift.caregiver_id != actor.user_id:
        raise NotFound("Shift", shift_id, field="shiftId")
    if shift.start <= ports.clock.now():
        raise StateConflict("A shift that has started cannot be given up; call your coordinator.", field="shiftId")
    reason_text = validation.text(reason, "reason", max_len=500, required=True)
    return await _release(ports, actor, shift, HistoryAction.GIVEN_UP, reason_text, None)


async def _release(
    ports: Ports,
    actor: Principal,
    shift: Shift,
    action: HistoryAction,
    reason: str,
    expected_revision: int | None,
) -> Shift:
    now = ports.clock.now()
    released = await ports.store.shifts.release_caregiver(
        shift.id,
        expected_caregiver=shift.caregiver_id,
        statuses=(ShiftStatus.SCHEDULED,),
        to_status=ShiftStatus.OPEN,
        history=HistoryEntry(action, now, actor.user_id, shift.caregiver_id, None, reason),
        now=now,
        lapsed_before=now - HOLD_LAPSE,
        expected_revision=expected_revision,
        offer=True,
    )
    if released is None:
        raise await why_not_held(ports, shift, expected_revision)
    return await finish_release(ports, released, action)


def _released(shift: Shift, action: HistoryAction) -> str | None:
    """The caregiver an OPEN shift's latest change released by `action`, if that is what it was."""
    last = shift.history[-1] if shift.history else None
    if shift.status is not ShiftStatus.OPEN or last is None or last.action is not action:
        return None
    return last.from_caregiver_id


async def finish_release(ports: Ports, released: Shift, action: HistoryAction) -> Shift:
    """Everything after the write that opened the shift, keyed by that change so a retry after a crash
    repeats none of it: the caregiver's booking freed, the event, who is told, the offers."""
    previous = _released(released, action)
    if previous is None:
        return released  # opened by another change, or changed since: that change announced itself
    await ports.store.caregiver_schedules.remove(previous, released.id)
    await publish_shift_event(ports, released, "shift.opened", change_key(released))
    await tell_caregivers(ports, released, change_key(released), previous)
    if action is HistoryAction.GIVEN_UP:
        coordinators = (Audience.COORDINATORS_ON_DUTY,)
        key = f"given_up:{change_key(released)}"
        await request_shift_alert(ports, released, AlertKind.SHIFT_CHANGE, Severity.HIGH, coordinators, key)
    await offer_now(ports, released.id)
    return released


@audits("shift.claim", "Shift", "shift_id")
async def claim_open_shift(ports: Ports, actor: Principal, shift_id: str) -> Shift:
    """A qualified caregiver takes an open shift; of racing claims the first valid one wins."""
    require_role(actor, Role.CAREGIVER)
    shift = await ports.store.shifts.get(shift_id) if is_valid_id(shift_id) else None
    if shift is None or shift.agency_id != actor.agency_id:
        raise NotFound("Shift", shift_id, field="shiftId")
    if shift.caregiver_id == actor.user_id:
        return shift  # a retry of a claim that won
    agency = await get_agency(ports, actor.agency_id)
    caregiver = await load_caregiver(ports, agency, actor.user_id, field="shiftId")
    tz = zone(agency)
    day = shift.start.astimezone(tz).date()
    if not qualifies_for(shift, caregiver.profile, day):
        raise NotFound("Shift", shift_id, field="shiftId")  # not offered to them: out of their scope
    if shift.status is not ShiftStatus.OPEN:
        raise ShiftTaken()
    if shift.end <= ports.clock.now():
        raise StateConflict("This shift is over.", field="shiftId")
    now = ports.clock.now()
    placement = Placement(
        caregiver_id=actor.user_id,
        start=shift.start,
        end=shift.end,
        limits=caregiver.limits,
        tz=tz,
        history=HistoryEntry(HistoryAction.CLAIMED, now, actor.user_id, None, actor.user_id),
        field="shiftId",
    )
    claimed = await _hold_and_place(ports, shift, placement)
    await publish_shift_event(ports, claimed, "shift.assigned", str(claimed.revision), data={"claimed": True})
    return claimed


async def _hold_and_place(ports: Ports, shift: Shift, placement: Placement) -> Shift:
    """Holds an OPEN shift for the claimer; while another claim holds it, waits to see if that one fails."""
    waited = timedelta(0)
    step = timedelta(milliseconds=20)
    while True:
        hold = new_hold(placement, ports.clock.now())
        held = await ports.store.shifts.take_hold(
            shift.id,
            hold,
            statuses=(ShiftStatus.OPEN,),
            lapsed_before=ports.clock.now() - HOLD_LAPSE,
            expected_caregiver=(None,),
        )
        if held is not None:
            return await finish(ports, held, hold, placement, previous=None)
        latest = await ports.store.shifts.get(shift.id)
        if latest is None or latest.status is not ShiftStatus.OPEN or latest.caregiver_id is not None:
            raise ShiftTaken()
        if waited >= CLAIM_WAIT:
            raise StateConflict("Someone else is claiming this shift right now; try again.", field="shiftId")
        await asyncio.sleep(step.total_seconds())
        waited += step


async def list_open_shifts(ports: Ports, actor: Principal, page: PageRequest) -> Page[Shift]:
    """Coordinators: every open shift. Caregivers: those they qualify for. Soonest first."""
    require_role(actor, Role.COORDINATOR, Role.CAREGIVER)
    now = ports.clock.now()
    result = await ports.store.shifts.open_shifts(actor.agency_id, ending_after=now, page=page)
    if actor.role is Role.CAREGIVER:
        profile = await ports.store.caregiver_profiles.get(actor.user_id)
        tz = zone(await get_agency(ports, actor.agency_id))
        edges = [(c, s) for c, s in result.edges if qualifies_for(s, profile, s.start.astimezone(tz).date())]
        result = Page(edges=edges, has_next_page=result.has_next_page)
    await record(ports, actor, "shift.read", "Shift", (s.id for s in result.items))
    return result


async def offer_now(ports: Ports, shift_id: str) -> None:
    """Sends the offers of a just-opened shift at once; the background job retries what this misses."""
    await send_offers(ports, shift_id=shift_id, owner=f"request:{shift_id}")


async def send_offers(ports: Ports, *, owner: str, shift_id: str | None = None) -> Shift | None:
    """Claims one shift due for offers (or the given one), offers it, and finishes the claim."""
    now = ports.clock.now()
    if shift_id is None:
        shift = await ports.store.shifts.claim_due_check("offer_due_at", now=now, owner=owner, lease=OFFER_LEASE)
    else:
        shift = await ports.store.shifts.claim_check_of(
            shift_id, "offer_due_at", now=now, owner=owner, lease=OFFER_LEASE
        )
    if shift is None:
        return None
    if shift.status is ShiftStatus.OPEN and shift.end > now:
        candidates = await free_qualified_caregivers(ports, shift)
        await request_shift_alert(
            ports,
            shift,
            AlertKind.OPEN_SHIFT_OFFER,
            Severity.MEDIUM,
            (Audience.USERS,),
            str(shift.revision),
            user_ids=tuple(candidates),
        )
    await ports.store.shifts.finish_check(shift.id, "offer_due_at", owner=owner)
    return shift


async def free_qualified_caregivers(ports: Ports, shift: Shift) -> list[str]:
    """Active caregivers who hold the qualifications, are available then, and whose schedule takes it."""
    agency = await get_agency(ports, shift.agency_id)
    tz = zone(agency)
    day = shift.start.astimezone(tz).date()
    users = await ports.store.users.active_with_role(shift.agency_id, Role.CAREGIVER)
    profiles = await ports.store.caregiver_profiles.get_many(u.id for u in users)
    qualified = [
        u.id
        for u in users
        if not missing_qualifications(shift.required_qualifications, profiles.get(u.id), day)
        and fits_availability(profiles[u.id].availability if u.id in profiles else (), shift.start, shift.end, tz)
    ]
    schedules = await ports.store.caregiver_schedules.get_many(qualified)
    candidate = Booking(shift.id, "", shift.start, shift.end)
    free: list[str] = []
    for user_id in qualified:
        others = [b for b in schedules[user_id].bookings if b.shift_id != shift.id]
        try:
            check_placement(others, candidate, limits_for(agency, profiles.get(user_id)), tz)
        except PLACEMENT_VIOLATIONS:
            continue
        free.append(user_id)
    return sorted(free)[:MAX_OFFERS]


def check_offer_watch(actor: Principal) -> None:
    """May the caller follow open-shift offers live? Offers go to caregivers only."""
    require_role(actor, Role.CAREGIVER)


async def offer_for_update(ports: Ports, actor: Principal, event: DomainEvent) -> Shift | None:
    """The open shift an event offers the calling caregiver, if it was offered to them and is still open,
    not over and theirs to qualify for (checked on every event, as `list_open_shifts` checks its list)."""
    if actor.role is not Role.CAREGIVER or event.kind != ALERTS_ROUTED or event.agency_id != actor.agency_id:
        return None
    if event.data.get("alert_kind") != AlertKind.OPEN_SHIFT_OFFER.value:
        return None
    offer = await ports.store.notifications.get(notification_id(event.subject_id, actor.user_id))
    if offer is None or offer.user_id != actor.user_id or offer.kind is not AlertKind.OPEN_SHIFT_OFFER:
        return None
    shift = await ports.store.shifts.get(offer.subject_id)
    if shift is None or shift.agency_id != actor.agency_id or shift.status is not ShiftStatus.OPEN:
        return None
    if shift.end <= ports.clock.now():
        return None
    profile = await ports.store.caregiver_profiles.get(actor.user_id)
    tz = zone(await get_agency(ports, actor.agency_id))
    if not qualifies_for(shift, profile, shift.start.astimezone(tz).date()):
        return None
    await record(ports, actor, "shift.read", "Shift", [shift.id])
    return shift
