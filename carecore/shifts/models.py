"""Shifts (근무): who supports whom and when, and what the visit recorded.

Times are stored in UTC; the agency's time zone decides days, weeks and the local times people see.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum

CHECK_IN_OPENS_BEFORE = timedelta(minutes=15)
LATE_AFTER = timedelta(minutes=10)
MISSED_AFTER = timedelta(minutes=30)
# A change that tells people (assigned, opened, cancelled) is announced again this long after it by a
# lease-claimed job, in case the request that made it died before telling them (carecore.shifts.jobs).
ANNOUNCE_AFTER = timedelta(minutes=1)


class ShiftStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    MISSED = "MISSED"
    CANCELLED = "CANCELLED"


# A caregiver may still be placed on these; the others have started or ended.
PLACEABLE = (ShiftStatus.SCHEDULED, ShiftStatus.OPEN, ShiftStatus.MISSED)


class TaskOutcome(StrEnum):
    DONE = "DONE"
    REFUSED = "REFUSED"
    NOT_DONE = "NOT_DONE"


class HistoryAction(StrEnum):
    CREATED = "CREATED"
    ASSIGNED = "ASSIGNED"
    REASSIGNED = "REASSIGNED"
    OPENED = "OPENED"
    GIVEN_UP = "GIVEN_UP"
    CLAIMED = "CLAIMED"
    SWAPPED = "SWAPPED"
    RESCHEDULED = "RESCHEDULED"
    CANCELLED = "CANCELLED"


class SwapStatus(StrEnum):
    PENDING = "PENDING"  # waiting for the asked caregiver
    AWAITING_APPROVAL = "AWAITING_APPROVAL"  # accepted; the agency wants a coordinator to approve
    COMPLETED = "COMPLETED"
    DECLINED = "DECLINED"  # by the asked caregiver
    REJECTED = "REJECTED"  # by a coordinator
    WITHDRAWN = "WITHDRAWN"  # by the asker, or because the shift changed


OPEN_SWAP = (SwapStatus.PENDING, SwapStatus.AWAITING_APPROVAL)


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    accuracy_m: float | None = None


@dataclass(frozen=True, slots=True)
class DeviceTiming:
    """When a phone says something happened, next to when the server heard of it (offline visits).

    The record's own `at` is the device's time (clamped to the server's: never in the future); these
    keep what it was weighed against, and the two marks coordinators see.
    """

    device_at: datetime  # the phone's clock when the caregiver acted
    fix_at: datetime | None  # the GPS fix's time: a satellite clock, the check on the phone's
    received_at: datetime  # the server's clock when the request arrived
    late_submission: bool  # sent more than a few minutes after it happened (the phone was offline)
    clock_skew: bool  # the phone's clock is off by more than 5 minutes (from the fix, or in the future)


@dataclass(frozen=True, slots=True)
class VisitCheck:
    """A check-in or check-out (electronic visit verification)."""

    at: datetime
    location: Location | None
    distance_m: float | None  # from the person's home; None without a location or a home
    outside_geofence: bool  # also when no location could be taken: coordinators look at both
    timing: DeviceTiming | None = None  # None when the phone sent no time of its own


@dataclass(frozen=True, slots=True)
class TaskLogEntry:
    id: str
    task_id: str  # a task of the plan version in force at check-in (Shift.plan_id)
    outcome: TaskOutcome
    reason: str | None
    note: str
    at: datetime
    by: str
    timing: DeviceTiming | None = None
    key_hash: str | None = None  # ids.payload_hash of the request, when it came with an idempotency key


@dataclass(frozen=True, slots=True)
class ProgressNote:
    id: str
    text: str
    at: datetime
    by: str
    key_hash: str | None = None  # ids.payload_hash of the request, when it came with an idempotency key


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    action: HistoryAction
    at: datetime
    by: str
    from_caregiver_id: str | None = None
    to_caregiver_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class QualificationOverride:
    """A coordinator placed a caregiver without these qualifications, and said why."""

    missing: tuple[str, ...]
    reason: str
    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class SwapRequest:
    id: str
    from_caregiver_id: str
    to_caregiver_id: str
    status: SwapStatus
    requested_at: datetime
    message: str = ""
    decided_at: datetime | None = None
    decided_by: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Hold:
    """An unfinished placement of a caregiver on a shift (see carecore.shifts.placement)."""

    token: str
    caregiver_id: str | None
    start: datetime
    end: datetime
    at: datetime


@dataclass(frozen=True, slots=True)
class Shift:
    id: str
    agency_id: str
    person_id: str
    caregiver_id: str | None  # None while OPEN
    status: ShiftStatus
    start: datetime
    end: datetime
    required_qualifications: tuple[str, ...]
    notes: str
    revision: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    series_id: str | None = None
    check_in: VisitCheck | None = None
    check_out: VisitCheck | None = None
    plan_id: str | None = None  # the care plan version in force at check-in
    task_log: tuple[TaskLogEntry, ...] = ()
    progress_notes: tuple[ProgressNote, ...] = ()
    handover_note: str | None = None  # for the next caregiver of this person
    unlogged_critical_reason: str | None = None  # why check-out went ahead without a critical task
    history: tuple[HistoryEntry, ...] = ()
    qualification_override: QualificationOverride | None = None
    swap: SwapRequest | None = None
    late_at: datetime | None = None
    missed_at: datetime | None = None
    cancel_reason: str | None = None
    # The placement protocol's state: the booking the shift confirms, and an unfinished placement.
    booking_token: str | None = None
    hold: Hold | None = None

    @property
    def current_swap(self) -> SwapRequest | None:
        """The swap with its effective status: an open request lapses once the shift changes hands or
        starts, whatever its stored status says (that write happens in the same update as the change)."""
        swap = self.swap
        if swap is None or swap.status not in OPEN_SWAP:
            return swap
        live = self.status is ShiftStatus.SCHEDULED and self.caregiver_id == swap.from_caregiver_id
        return swap if live else replace(swap, status=SwapStatus.WITHDRAWN)

    def check_in_opens_at(self) -> datetime:
        return self.start - CHECK_IN_OPENS_BEFORE

    def is_late(self, now: datetime) -> bool:
        """No check-in 10 minutes after start, on a shift that should have one by now."""
        waiting = self.status in (ShiftStatus.SCHEDULED, ShiftStatus.OPEN, ShiftStatus.MISSED)
        return waiting and self.check_in is None and now >= self.start + LATE_AFTER and now < self.end


@dataclass(frozen=True, slots=True)
class Qualification:
    code: str  # e.g. "요양보호사", "간호조무사", "행동지원"
    expires_on: date | None = None

    def valid_on(self, day: date) -> bool:
        return self.expires_on is None or day <= self.expires_on


@dataclass(frozen=True, slots=True)
class AvailabilityWindow:
    """When a caregiver is willing to work, in the agency's time zone; end <= start runs past midnight."""

    weekdays: tuple[int, ...]  # 0 = Monday
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class CaregiverProfile:
    user_id: str
    agency_id: str
    qualifications: tuple[Qualification, ...] = ()
    max_weekly_hours: int | None = None  # None: the agency's limit
    min_rest_hours: int | None = None  # None: the agency's minimum
    availability: tuple[AvailabilityWindow, ...] = ()  # empty: any time
    revision: int = 0
    updated_at: datetime | None = None

    def valid_codes(self, day: date) -> set[str]:
        return {q.code for q in self.qualifications if q.valid_on(day)}


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits that apply to one caregiver: the agency's, tightened by their own profile."""

    max_weekly_hours: float
    min_rest_hours: float


@dataclass(frozen=True, slots=True)
class Booking:
    """One interval in a caregiver's schedule document; `token` ties it to the placement that wrote it."""

    shift_id: str
    token: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class CaregiverSchedule:
    caregiver_id: str
    revision: int  # 0: no document yet
    bookings: tuple[Booking, ...]


@dataclass(frozen=True, slots=True)
class ShiftFilter:
    """Which shifts a list holds: those of an agency overlapping [start, end), narrowed down."""

    agency_id: str
    start: datetime
    end: datetime
    person_id: str | None = None
    caregiver_id: str | None = None
    statuses: tuple[ShiftStatus, ...] | None = None


class GapKind(StrEnum):
    UNCOVERED = "UNCOVERED"  # support hours with no shift at all
    OPEN = "OPEN"  # an open shift nobody has claimed
    LATE = "LATE"  # an assigned caregiver has not checked in 10 minutes after start
    MISSED = "MISSED"  # nobody checked in 30 minutes after start


@dataclass(frozen=True, slots=True)
class CoverageGap:
    person_id: str
    kind: GapKind
    start: datetime
    end: datetime
    shift: Shift | None = None  # the open, late or missed shift; None for uncovered support hours

    @property
    def shift_id(self) -> str | None:
        return self.shift.id if self.shift else None

    @property
    def cursor(self) -> str:
        """Sorts like the gaps themselves (UTC ISO strings compare as times)."""
        return f"{self.start.isoformat()}|{self.end.isoformat()}|{self.person_id}|{self.kind.value}|{self.shift_id}"
