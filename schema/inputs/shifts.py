"""Inputs of the shift queries and mutations."""

from __future__ import annotations

from datetime import date, datetime, time

import strawberry

from carecore.shifts.models import AvailabilityWindow, CaregiverProfile, Location, Qualification
from carecore.shifts.scheduling import ShiftPlan, WeeklyRecurrence
from schema.types.shifts import ShiftStatus, TaskOutcome


@strawberry.input
class LocationInput:
    latitude: float
    longitude: float
    accuracy_m: float | None = None

    def to_domain(self) -> Location:
        return Location(self.latitude, self.longitude, self.accuracy_m)


def location(value: LocationInput | None) -> Location | None:
    return value.to_domain() if value else None


@strawberry.input
class ScheduleShiftInput:
    person_id: strawberry.ID
    start: datetime
    end: datetime
    caregiver_id: strawberry.ID | None = strawberry.field(default=None, description="Leave out to open the shift.")
    required_qualifications: list[str] = strawberry.field(default_factory=list)
    notes: str = ""
    override_reason: str | None = strawberry.field(
        default=None, description="Places a caregiver without the required qualifications; kept with the shift."
    )
    idempotency_key: str | None = None

    def to_domain(self) -> ShiftPlan:
        return ShiftPlan(
            person_id=self.person_id,
            start=self.start,
            end=self.end,
            caregiver_id=self.caregiver_id,
            required_qualifications=tuple(self.required_qualifications),
            notes=self.notes,
            override_reason=self.override_reason,
        )


@strawberry.input
class WeeklyRecurrenceInput:
    weekdays: list[int] = strawberry.field(description="0 = Monday ... 6 = Sunday, in the agency's time zone.")
    until: date = strawberry.field(description="The last day that may hold a shift of the series.")

    def to_domain(self) -> WeeklyRecurrence:
        return WeeklyRecurrence(tuple(self.weekdays), self.until)


@strawberry.input
class ScheduleWeeklyShiftsInput:
    shift: ScheduleShiftInput = strawberry.field(description="The first shift; its idempotencyKey names the series.")
    recurrence: WeeklyRecurrenceInput


@strawberry.input
class UpdateShiftInput:
    shift_id: strawberry.ID
    expected_revision: int
    start: datetime
    end: datetime
    required_qualifications: list[str] = strawberry.field(default_factory=list)
    notes: str = ""
    override_reason: str | None = None


@strawberry.input
class CancelShiftInput:
    shift_id: strawberry.ID
    reason: str
    expected_revision: int | None = None


@strawberry.input
class AssignShiftInput:
    shift_id: strawberry.ID
    caregiver_id: strawberry.ID
    reason: str | None = strawberry.field(default=None, description="Required when the shift has a caregiver.")
    override_reason: str | None = None
    expected_revision: int | None = None


@strawberry.input
class OpenShiftInput:
    shift_id: strawberry.ID
    reason: str
    expected_revision: int | None = None


@strawberry.input
class GiveUpShiftInput:
    shift_id: strawberry.ID
    reason: str


@strawberry.input
class ShiftIdInput:
    shift_id: strawberry.ID


@strawberry.input
class RequestShiftSwapInput:
    shift_id: strawberry.ID
    to_caregiver_id: strawberry.ID
    message: str = ""


@strawberry.input
class RespondToShiftSwapInput:
    shift_id: strawberry.ID
    accept: bool


@strawberry.input
class DecideShiftSwapInput:
    shift_id: strawberry.ID
    approve: bool
    reason: str | None = None


@strawberry.input
class CheckInInput:
    shift_id: strawberry.ID
    location: LocationInput | None = strawberry.field(
        default=None, description="Leave out only when the phone has no fix: the visit is then flagged."
    )
    device_time: datetime | None = strawberry.field(
        default=None,
        description="Offline phones: when it happened by the phone's clock (accepted up to 24 hours late).",
    )
    fix_time: datetime | None = strawberry.field(default=None, description="The GPS fix's time, with deviceTime.")


@strawberry.input
class CheckOutInput:
    shift_id: strawberry.ID
    location: LocationInput | None = None
    handover_note: str | None = strawberry.field(default=None, description="For the next caregiver of this person.")
    reason: str | None = strawberry.field(
        default=None, description="Why a critical task has no log entry; without it check-out is refused."
    )
    device_time: datetime | None = strawberry.field(
        default=None,
        description="Offline phones: when it happened by the phone's clock (accepted up to 24 hours late).",
    )
    fix_time: datetime | None = strawberry.field(default=None, description="The GPS fix's time, with deviceTime.")


@strawberry.input
class LogTaskInput:
    shift_id: strawberry.ID
    task_id: strawberry.ID
    outcome: TaskOutcome
    reason: str | None = strawberry.field(default=None, description="Required when refused or not done.")
    note: str = ""
    idempotency_key: str | None = None
    device_time: datetime | None = strawberry.field(
        default=None,
        description="Offline phones: when it happened by the phone's clock (accepted up to 24 hours late).",
    )
    fix_time: datetime | None = strawberry.field(default=None, description="The GPS fix's time, with deviceTime.")


@strawberry.input
class AddProgressNoteInput:
    shift_id: strawberry.ID
    text: str
    idempotency_key: str | None = None


@strawberry.input
class QualificationInput:
    code: str
    expires_on: date | None = None


@strawberry.input
class AvailabilityWindowInput:
    weekdays: list[int]
    start: time
    end: time


@strawberry.input
class SetCaregiverProfileInput:
    user_id: strawberry.ID
    expected_revision: int = strawberry.field(description="0 when the caregiver has no profile yet.")
    qualifications: list[QualificationInput] = strawberry.field(default_factory=list)
    max_weekly_hours: int | None = None
    min_rest_hours: int | None = None
    availability: list[AvailabilityWindowInput] = strawberry.field(default_factory=list)

    def to_domain(self, agency_id: str) -> CaregiverProfile:
        return CaregiverProfile(
            user_id=self.user_id,
            agency_id=agency_id,
            qualifications=tuple(Qualification(q.code, q.expires_on) for q in self.qualifications),
            max_weekly_hours=self.max_weekly_hours,
            min_rest_hours=self.min_rest_hours,
            availability=tuple(AvailabilityWindow(tuple(w.weekdays), w.start, w.end) for w in self.availability),
        )


@strawberry.input
class ShiftFilterInput:
    from_: datetime = strawberry.field(name="from")
    to: datetime
    person_id: strawberry.ID | None = None
    caregiver_id: strawberry.ID | None = None
    statuses: list[ShiftStatus] | None = None
