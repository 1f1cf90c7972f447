"""Why a shift change was refused, with what a client needs to show or fix it."""

from __future__ import annotations

from datetime import date, datetime

from carecore.errors import DomainError


class ShiftOverlap(DomainError):
    """The caregiver already holds a shift at that time (never overridable)."""

    def __init__(self, conflicting_shift_id: str, *, field: str | None = "caregiverId") -> None:
        super().__init__("The caregiver already has a shift at that time.", field=field)
        self.conflicting_shift_id = conflicting_shift_id


class MissingQualifications(DomainError):
    """The caregiver lacks (or has let expire) qualifications the shift requires."""

    def __init__(self, missing: tuple[str, ...], *, field: str | None = "caregiverId") -> None:
        super().__init__(f"The caregiver lacks required qualifications: {', '.join(missing)}.", field=field)
        self.missing = missing


class WeeklyHoursExceeded(DomainError):
    def __init__(
        self, *, week_start: date, scheduled_hours: float, shift_hours: float, limit_hours: float, field: str | None
    ) -> None:
        super().__init__(
            f"The week of {week_start.isoformat()} would have {scheduled_hours + shift_hours:g} h "
            f"({scheduled_hours:g} h scheduled + {shift_hours:g} h); the limit is {limit_hours:g} h.",
            field=field,
        )
        self.week_start = week_start
        self.scheduled_hours = scheduled_hours
        self.shift_hours = shift_hours
        self.limit_hours = limit_hours


class RestTooShort(DomainError):
    def __init__(
        self, *, rest_hours: float, minimum_rest_hours: float, neighbouring_shift_id: str, field: str | None
    ) -> None:
        super().__init__(
            f"Only {rest_hours:g} h of rest next to another shift; at least {minimum_rest_hours:g} h are required.",
            field=field,
        )
        self.rest_hours = rest_hours
        self.minimum_rest_hours = minimum_rest_hours
        self.neighbouring_shift_id = neighbouring_shift_id


class ShiftTaken(DomainError):
    """Someone else claimed or was given the shift first."""

    def __init__(self) -> None:
        super().__init__("Someone else has taken this shift.", field="shiftId")


class CheckInNotOpen(DomainError):
    def __init__(self, opens_at: datetime) -> None:
        super().__init__("Check-in opens 15 minutes before the shift starts.", field="shiftId")
        self.opens_at = opens_at


class CriticalTasksUnlogged(DomainError):
    """Check-out without a log entry for a critical task of the shift, and no reason given."""

    def __init__(self, task_ids: tuple[str, ...], titles: tuple[str, ...]) -> None:
        super().__init__(
            f"Log these critical tasks or give a reason before checking out: {', '.join(titles)}.", field="reason"
        )
        self.task_ids = task_ids
        self.titles = titles


# The rules a caregiver's schedule enforces, as a tuple for `except`.
PLACEMENT_VIOLATIONS = (ShiftOverlap, WeeklyHoursExceeded, RestTooShort)
