"""Why a shift mutation was refused, with what a client needs to show it or fix it."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import strawberry

from carecore.errors import DomainError, NotFound
from carecore.shifts import errors as shift_errors
from carecore.shifts.queries import get_shift
from schema.errors import UserError, to_user_error
from schema.types.shifts import Info, Shift, agency_zone


async def visible_shift(info: Info, shift_id: str) -> Shift | None:
    """The shift if the caller may see it (e.g. a coordinator, or the caregiver it belongs to)."""
    try:
        found = await get_shift(info.context.ports, info.context.principal, shift_id)
    except NotFound:
        return None
    return Shift.from_domain(found, await agency_zone(info), info.context.ports.clock.now())


@strawberry.type(description="The caregiver already holds a shift at that time; no override can change that.")
class ShiftConflictError(UserError):
    conflicting_shift_id: strawberry.ID

    @strawberry.field(description="Null when you may not see it.")
    async def conflicting_shift(self, info: Info) -> Shift | None:
        return await visible_shift(info, self.conflicting_shift_id)


@strawberry.type(description="The caregiver lacks these qualifications (or they expired by the shift's day).")
class MissingQualificationsError(UserError):
    missing: list[str]


@strawberry.type(description="The week would exceed the caregiver's weekly hours.")
class WeeklyHoursExceededError(UserError):
    week_start: date = strawberry.field(description="Monday of the week, in the agency's time zone.")
    scheduled_hours: float
    shift_hours: float = strawberry.field(description="Hours of this shift that fall in that week.")
    limit_hours: float


@strawberry.type(description="Too little rest next to another of the caregiver's shifts.")
class RestTooShortError(UserError):
    rest_hours: float
    minimum_rest_hours: float
    neighbouring_shift_id: strawberry.ID

    @strawberry.field(description="Null when you may not see it.")
    async def neighbouring_shift(self, info: Info) -> Shift | None:
        return await visible_shift(info, self.neighbouring_shift_id)


@strawberry.type(description="Someone else took this open shift first.")
class ShiftTakenError(UserError):
    pass


@strawberry.type(description="Too early: check-in opens 15 minutes before the start.")
class CheckInNotOpenError(UserError):
    opens_at: datetime


@strawberry.type(description="Log these critical tasks, or give a reason, before checking out.")
class CriticalTasksUnloggedError(UserError):
    task_ids: list[strawberry.ID]
    titles: list[str]


def to_shift_error(exc: DomainError, tz: ZoneInfo) -> UserError:
    """The shift errors' own types; everything else as every mutation maps it."""
    match exc:
        case shift_errors.ShiftOverlap():
            return ShiftConflictError(
                message=exc.message, field=exc.field, conflicting_shift_id=strawberry.ID(exc.conflicting_shift_id)
            )
        case shift_errors.MissingQualifications():
            return MissingQualificationsError(message=exc.message, field=exc.field, missing=list(exc.missing))
        case shift_errors.WeeklyHoursExceeded():
            return WeeklyHoursExceededError(
                message=exc.message,
                field=exc.field,
                week_start=exc.week_start,
                scheduled_hours=exc.scheduled_hours,
                shift_hours=exc.shift_hours,
                limit_hours=exc.limit_hours,
            )
        case shift_errors.RestTooShort():
            return RestTooShortError(
                message=exc.message,
                field=exc.field,
                rest_hours=exc.rest_hours,
                minimum_rest_hours=exc.minimum_rest_hours,
                neighbouring_shift_id=strawberry.ID(exc.neighbouring_shift_id),
            )
        case shift_errors.ShiftTaken():
            return ShiftTakenError(message=exc.message, field=exc.field)
        case shift_errors.CheckInNotOpen():
            return CheckInNotOpenError(message=exc.message, field=exc.field, opens_at=exc.opens_at.astimezone(tz))
        case shift_errors.CriticalTasksUnlogged():
            ids = [strawberry.ID(t) for t in exc.task_ids]
            return CriticalTasksUnloggedError(
                message=exc.message, field=exc.field, task_ids=ids, titles=list(exc.titles)
            )
    return to_user_error(exc)
