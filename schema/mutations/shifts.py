"""Shift mutations: scheduling (coordinators), the visit and open shifts (caregivers), swaps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, TypeVar
from zoneinfo import ZoneInfo

import strawberry
from typing_extensions import TypeForm

from carecore.shifts import caregivers, open_shifts, scheduling, swaps, visits
from carecore.shifts.models import CaregiverProfile as DomainProfile
from carecore.shifts.models import Shift as DomainShift
from carecore.shifts.models import TaskOutcome as DomainOutcome
from schema.errors import NotFoundError, StateConflictError, ValidationError, VersionConflictError
from schema.inputs.shifts import (
    AddProgressNoteInput,
    AssignShiftInput,
    CancelShiftInput,
    CheckInInput,
    CheckOutInput,
    DecideShiftSwapInput,
    GiveUpShiftInput,
    LogTaskInput,
    OpenShiftInput,
    RequestShiftSwapInput,
    RespondToShiftSwapInput,
    ScheduleShiftInput,
    ScheduleWeeklyShiftsInput,
    SetCaregiverProfileInput,
    ShiftIdInput,
    UpdateShiftInput,
    location,
)
from schema.mutations.support import Info, attempt
from schema.types.shift_errors import (
    CheckInNotOpenError,
    CriticalTasksUnloggedError,
    MissingQualificationsError,
    RestTooShortError,
    ShiftConflictError,
    ShiftTakenError,
    WeeklyHoursExceededError,
    to_shift_error,
)
from schema.types.shifts import CaregiverProfile, Shift, agency_zone

T = TypeVar("T")
R = TypeVar("R")


@strawberry.type
class ShiftPayload:
    shift: Shift


@strawberry.type
class ShiftsPayload:
    shifts: list[Shift]


@strawberry.type
class CaregiverProfilePayload:
    profile: CaregiverProfile


_ERRORS = (
    ValidationError
    | NotFoundError
    | VersionConflictError
    | StateConflictError
    | ShiftConflictError
    | MissingQualificationsError
    | WeeklyHoursExceededError
    | RestTooShortError
    | ShiftTakenError
    | CheckInNotOpenError
    | CriticalTasksUnloggedError
)
ShiftResult = Annotated[ShiftPayload | _ERRORS, strawberry.union("ShiftResult")]
ShiftsResult = Annotated[ShiftsPayload | _ERRORS, strawberry.union("ShiftsResult")]
CaregiverProfileResult = Annotated[
    CaregiverProfilePayload | ValidationError | NotFoundError | VersionConflictError,
    strawberry.union("CaregiverProfileResult"),
]


async def attempt_in_zone(
    result: TypeForm[R], info: Info, action: Callable[[], Awaitable[T]], wrap: Callable[[T, ZoneInfo, datetime], R]
) -> R:
    """`attempt` in the agency's time zone: the payload shows local times, the shift errors keep their own types."""
    tz = await agency_zone(info)
    return await attempt(
        result,
        action,
        lambda value: wrap(value, tz, info.context.ports.clock.now()),
        refuse=lambda exc: to_shift_error(exc, tz),
    )


def one(s: DomainShift, tz: ZoneInfo, now: datetime) -> ShiftPayload:
    return ShiftPayload(shift=Shift.from_domain(s, tz, now))


def many(shifts: list[DomainShift], tz: ZoneInfo, now: datetime) -> ShiftsPayload:
    return ShiftsPayload(shifts=[Shift.from_domain(s, tz, now) for s in shifts])


def profile(p: DomainProfile, _: ZoneInfo, __: datetime) -> CaregiverProfilePayload:
    return CaregiverProfilePayload(profile=CaregiverProfile.from_domain(p))


@strawberry.type
class ShiftMutation:
    @strawberry.mutation(description="Coordinators: schedules a shift with a caregiver, or opens it without one.")
    async def schedule_shift(self, info: Info, input: ScheduleShiftInput) -> ShiftResult:
        ctx = info.context
        return await attempt_in_zone(
            ShiftResult,
            info,
            lambda: scheduling.schedule_shift(
                ctx.ports, ctx.principal, input.to_domain(), idempotency_key=input.idempotency_key
            ),
            one,
        )

    @strawberry.mutation(description="Coordinators: the same local hours on chosen weekdays until a date.")
    async def schedule_weekly_shifts(self, info: Info, input: ScheduleWeeklyShiftsInput) -> ShiftsResult:
        ctx = info.context
        return await attempt_in_zone(
            ShiftsResult,
            info,
            lambda: scheduling.schedule_weekly_shifts(
                ctx.ports,
                ctx.principal,
                input.shift.to_domain(),
                input.recurrence.to_domain(),
                idempotency_key=input.shift.idempotency_key,
            ),
            many,
        )

    @strawberry.mutation(description="Coordinators: moves or edits a shift that has not started.")
    async def update_shift(self, info: Info, input: UpdateShiftInput) -> ShiftResult:
        ctx = info.context
        return await attempt_in_zone(
            ShiftResult,
            info,
            lambda: scheduling.update_shift(
                ctx.ports,
                ctx.principal,
                input.shift_id,
                expected_revision=input.expected_revision,
                start=input.start,
                end=input.end,
                required_qualifications=tuple(input.required_qualifications),
                notes=input.notes,
                override_reason=input.override_reason,
            ),
            one,
        )

    @strawberry.mutation
    async def cancel_shift(self, info: Info, input: CancelShiftInput) -> ShiftResult:
        ctx = info.context
        return await attempt_in_zone(
            ShiftResult,
            info,
            lambda: scheduling.cancel_shift(
                ctx.ports, ctx.principal, input.shift_id, reason=input.reason, expected_revision=input.expected_revision
            ),
            one,
        )

    @strawberry.mutation(description="Coordinators: gives a shift to a caregiver; a reassignment needs a reason.")
    async def assign_shift(self, info: Info, input: AssignShiftInput) -> ShiftResult:
        ctx = info.context
        return await attempt_in_zone(
            ShiftResult,
            info,
            lambda: scheduling.assign_shift(
                ctx.ports,
                ctx.principal,
                input.shift_id,
                caregiver_id=input.caregiver_id,
                reason=input.reason,
                override_reason=input.override_reason,
                expected_revision=input.expected_revision,
            ),
            one,
        )

    @strawberry.mutation(description="Coordinators: takes a shift from its caregiver and offers it to others.")
    async def open_shift(self, info: Info, input: OpenShiftInput) -> ShiftResult:
        ctx = info.context
        return await attempt_in_zone(
            ShiftResult,
            info,
            lambda: open_shifts.open_shift(
                ctx.ports, ctx.principal, input.shift_id, reason=input.reason, expected_revision=input.expected_revision
            ),
            one,
        )

    @strawberry.mutation(description="Caregivers: hands back a shift that has not started.")
    async def give_up_shift(self, info: Info, input: GiveUpShiftInput) -> ShiftResult:
        ctx = info.context
        return await attempt_in_zone(
            ShiftResult,
            info,
            lambda: open_shifts.give_up_shift(ctx.ports, ctx.principal, input.shift_id, reason=input.reason),
            one,
        )

    @strawberry.mutation(description="Caregivers: takes an open shift; the first valid claim wins.")
    async def claim_open_shift(self, info: Info, input: ShiftIdInput) -> ShiftResult:
        ctx = info.context
        return await attempt_in_zone(
            ShiftResult, info, lambda: open_shifts.claim_open_shift(ctx.ports, ctx.principal, input.shift_id), one
        )

    @strawberry.mutation(description="Caregivers: asks another caregiver to take one of your shifts.")
    async def request_shift_swap(self, info: Info, input: RequestShiftSwapInput) -> ShiftResult:
        ctx = info.context
        return await attempt_in_zone(
            ShiftResult,
            info,
            lambda: swaps.request_swap(
                ctx.ports, ctx.principal, input.shift_id, to_caregiver_id=input.to_caregiver_id, message=input.message
            ),
            one,
        )

    @strawberry.mutation(description="Caregivers: accepts or declines a swap offered to you.")
    async def respond_to_shift_swap(self, info: Info, input: RespondToShiftSwapInput) -> ShiftResult:
        ctx = info.context
        return await attempt_in_zone(
            ShiftResult,
            info,
            lambda: swaps.respond_to_swap(ctx.ports, ctx.principal, input.shift_id, accept=input.accept),
            one,
        )

    @strawberry.mutation(description="Coordinators: approves or rejects a swap both caregivers agreed on.")
    async def decide_shift_swap(self, info: Info, input: DecideShiftSwapInput) -> ShiftResult:
        ctx = info.context
        return await attempt_in_zone(
            ShiftResult,
            info,
            lambda: swaps.decide_swap(
                ctx.ports, ctx.principal, input.shift_id, approve=input.approve, reason=input.reason
            ),
            one,
        )

    @strawberry.mutation(description="Caregivers: takes back a swap request while it is open.")
    async def withdraw_shift_swap(self, info: Info, input: ShiftIdInput) -> ShiftResult:
        ctx = info.context
        return await attempt_in_zone(
            ShiftResult, info, lambda: swaps.withdraw_swap(ctx.ports, ctx.principal, input.shift_id), one
        )

    @strawberry.mutation(description="Caregivers: starts the visit, from 15 minutes before the start.")
    async def check_in(self, info: Info, input: CheckInInput) -> ShiftResult:
        ctx = info.context
        return await attempt_in_zone(
            ShiftResult,
            info,
            lambda: visits.check_in(
                ctx.ports,
                ctx.principal,
                input.shift_id,
                location=location(input.location),
                device_at=input.device_time,
                fix_at=input.fix_time,
            ),
            one,
        )

    @strawberry.mutation(description="Caregivers: ends the visit; critical tasks need a log entry or a reason.")
    async def check_out(self, info: Info, input: CheckOutInput) -> ShiftResult:
        ctx = info.context
        return await attempt_in_zone(
            ShiftResult,
            info,
            lambda: visits.check_out(
                ctx.ports,
                ctx.principal,
                input.shift_id,
                location=location(input.location),
                handover_note=input.handover_note,
                reason=input.reason,
                device_at=input.device_time,
                fix_at=input.fix_time,
            ),
            one,
        )

    @strawberry.mutation(description="Caregivers: records a task of the plan version the visit follows.")
    async def log_task(self, info: Info, input: LogTaskInput) -> ShiftResult:
        ctx = info.context
        return await attempt_in_zone(
            ShiftResult,
            info,
            lambda: visits.log_task(
                ctx.ports,
                ctx.principal,
                input.shift_id,
                task_id=input.task_id,
                outcome=DomainOutcome(input.outcome),
                reason=input.reason,
                note=input.note,
                idempotency_key=input.idempotency_key,
                device_at=input.device_time,
                fix_at=input.fix_time,
            ),
            one,
        )

    @strawberry.mutation(description="Caregivers: a progress note, during the visit or within a day after.")
    async def add_progress_note(self, info: Info, input: AddProgressNoteInput) -> ShiftResult:
        ctx = info.context
        return await attempt_in_zone(
            ShiftResult,
            info,
            lambda: visits.add_progress_note(
                ctx.ports, ctx.principal, input.shift_id, text=input.text, idempotency_key=input.idempotency_key
            ),
            one,
        )

    @strawberry.mutation(description="Coordinators: a caregiver's qualifications, limits and availability.")
    async def set_caregiver_profile(self, info: Info, input: SetCaregiverProfileInput) -> CaregiverProfileResult:
        ctx = info.context
        return await attempt_in_zone(
            CaregiverProfileResult,
            info,
            lambda: caregivers.set_caregiver_profile(
                ctx.ports,
                ctx.principal,
                input.to_domain(ctx.principal.agency_id),
                expected_revision=input.expected_revision,
            ),
            profile,
        )
