"""Shift types. Times are shown in the agency's time zone; the visit record only to those who may see it."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING, Annotated, TypeAlias
from zoneinfo import ZoneInfo

import strawberry

from carecore.shifts.models import CaregiverProfile as DomainProfile
from carecore.shifts.models import CoverageGap as DomainGap
from carecore.shifts.models import DeviceTiming as DomainTiming
from carecore.shifts.models import GapKind as DomainGapKind
from carecore.shifts.models import HistoryAction as DomainHistoryAction
from carecore.shifts.models import Shift as DomainShift
from carecore.shifts.models import ShiftStatus as DomainStatus
from carecore.shifts.models import SwapStatus as DomainSwapStatus
from carecore.shifts.models import TaskOutcome as DomainOutcome
from carecore.shifts.models import VisitCheck as DomainCheck
from carecore.shifts.policy import can_see_visit_record
from schema.context import Context
from schema.types.users import User

if TYPE_CHECKING:
    from schema.types.people import Person

ShiftStatus: TypeAlias = Annotated[DomainStatus, strawberry.enum(name="ShiftStatus")]
TaskOutcome: TypeAlias = Annotated[DomainOutcome, strawberry.enum(name="TaskOutcome")]
ShiftHistoryAction: TypeAlias = Annotated[DomainHistoryAction, strawberry.enum(name="ShiftHistoryAction")]
SwapStatus: TypeAlias = Annotated[DomainSwapStatus, strawberry.enum(name="SwapStatus")]
GapKind: TypeAlias = Annotated[DomainGapKind, strawberry.enum(name="CoverageGapKind")]

Info = strawberry.Info[Context, None]
LazyPerson = Annotated["Person", strawberry.lazy("schema.types.people")]


async def agency_zone(info: Info) -> ZoneInfo:
    return await info.context.loaders.zones.load(info.context.principal.agency_id)


async def load_user(info: Info, user_id: str | None) -> User | None:
    found = await info.context.loaders.users.load(user_id) if user_id else None
    return User.from_domain(found) if found else None


@strawberry.type
class Location:
    latitude: float
    longitude: float
    accuracy_m: float | None


@strawberry.type(
    description="An offline phone's times next to the server's: coordinators look at lateSubmission and clockSkew."
)
class DeviceTiming:
    device_at: datetime = strawberry.field(description="The phone's clock when the caregiver acted.")
    fix_at: datetime | None = strawberry.field(description="The GPS fix's time, when the phone sent it.")
    received_at: datetime = strawberry.field(description="The server's clock when the request arrived.")
    late_submission: bool = strawberry.field(description="Sent more than 5 minutes after it happened (offline).")
    clock_skew: bool = strawberry.field(
        description="The phone's clock is off by more than 5 minutes from the fix's, or ahead of the server's."
    )

    @classmethod
    def from_domain(cls, t: DomainTiming | None, tz: ZoneInfo) -> DeviceTiming | None:
        if t is None:
            return None
        return cls(
            device_at=t.device_at.astimezone(tz),
            fix_at=t.fix_at.astimezone(tz) if t.fix_at else None,
            received_at=t.received_at.astimezone(tz),
            late_submission=t.late_submission,
            clock_skew=t.clock_skew,
        )


@strawberry.type(description="A check-in or check-out: electronic visit verification.")
class VisitCheck:
    at: datetime = strawberry.field(description="The phone's time when it sent one (never after the server's).")
    outside_geofence: bool = strawberry.field(description="Also true when no location could be taken.")
    location: Location | None = strawberry.field(description="Coordinators and the shift's caregiver only.")
    distance_m: float | None = strawberry.field(description="From the person's home, in metres.")
    timing: DeviceTiming | None = strawberry.field(
        description="Coordinators and the shift's caregiver only; null when the phone sent no time."
    )

    @classmethod
    def from_domain(cls, c: DomainCheck, tz: ZoneInfo, *, full: bool) -> VisitCheck:
        loc = c.location if full else None
        return cls(
            at=c.at.astimezone(tz),
            outside_geofence=c.outside_geofence,
            location=None
            if loc is None
            else Location(latitude=loc.latitude, longitude=loc.longitude, accuracy_m=loc.accuracy_m),
            distance_m=c.distance_m if full else None,
            timing=DeviceTiming.from_domain(c.timing, tz) if full else None,
        )


@strawberry.type
class TaskLogEntry:
    id: strawberry.ID
    task_id: strawberry.ID
    outcome: TaskOutcome
    reason: str | None
    note: str
    at: datetime
    timing: DeviceTiming | None


@strawberry.type
class ProgressNote:
    id: strawberry.ID
    text: str
    at: datetime
    by_id: strawberry.ID


@strawberry.type(description="Every assignment, reassignment, opening, swap and cancellation: from, to, by, why.")
class ShiftHistoryEntry:
    action: ShiftHistoryAction
    at: datetime
    by_id: strawberry.ID
    from_caregiver_id: strawberry.ID | None
    to_caregiver_id: strawberry.ID | None
    reason: str | None


@strawberry.type(description="A coordinator placed a caregiver without these qualifications, and why.")
class QualificationOverride:
    missing: list[str]
    reason: str
    by_id: strawberry.ID
    at: datetime


@strawberry.type
class ShiftSwap:
    id: strawberry.ID
    from_caregiver_id: strawberry.ID
    to_caregiver_id: strawberry.ID
    status: SwapStatus
    requested_at: datetime
    message: str
    decided_at: datetime | None
    reason: str | None


@strawberry.type
class Handover:
    note: str
    written_at: datetime
    shift_id: strawberry.ID
    caregiver_id: strawberry.ID | None


@strawberry.type
class Shift:
    domain: strawberry.Private[DomainShift]
    tz: strawberry.Private[ZoneInfo]
    id: strawberry.ID
    person_id: strawberry.ID
    caregiver_id: strawberry.ID | None
    status: ShiftStatus
    start: datetime
    end: datetime
    check_in_opens_at: datetime
    required_qualifications: list[str]
    notes: str
    series_id: strawberry.ID | None
    revision: int
    late: bool = strawberry.field(description="No check-in 10 minutes after the start.")
    late_at: datetime | None
    missed_at: datetime | None
    cancel_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, s: DomainShift, tz: ZoneInfo, now: datetime) -> Shift:
        def local(value: datetime | None) -> datetime | None:
            return value.astimezone(tz) if value else None

        return cls(
            domain=s,
            tz=tz,
            id=strawberry.ID(s.id),
            person_id=strawberry.ID(s.person_id),
            caregiver_id=strawberry.ID(s.caregiver_id) if s.caregiver_id else None,
            status=s.status,
            start=s.start.astimezone(tz),
            end=s.end.astimezone(tz),
            check_in_opens_at=s.check_in_opens_at().astimezone(tz),
            required_qualifications=list(s.required_qualifications),
            notes=s.notes,
            series_id=strawberry.ID(s.series_id) if s.series_id else None,
            revision=s.revision,
            late=s.late_at is not None or s.is_late(now),
            late_at=local(s.late_at),
            missed_at=local(s.missed_at),
            cancel_reason=s.cancel_reason,
            created_at=s.created_at.astimezone(tz),
            updated_at=s.updated_at.astimezone(tz),
        )

    def _full(self, info: Info) -> bool:
        return can_see_visit_record(info.context.principal, self.domain)

    @strawberry.field(description="Null when you may not see the person.")
    async def person(self, info: Info) -> LazyPerson | None:
        from schema.types.people import Person

        found = await info.context.loaders.people.load(self.domain.person_id)
        return Person.from_domain(found) if found else None

    @strawberry.field
    async def caregiver(self, info: Info) -> User | None:
        return await load_user(info, self.domain.caregiver_id)

    @strawberry.field
    def check_in(self, info: Info) -> VisitCheck | None:
        c = self.domain.check_in
        return VisitCheck.from_domain(c, self.tz, full=self._full(info)) if c else None

    @strawberry.field
    def check_out(self, info: Info) -> VisitCheck | None:
        c = self.domain.check_out
        return VisitCheck.from_domain(c, self.tz, full=self._full(info)) if c else None

    @strawberry.field(description="The care plan version in force at check-in, which the task log follows.")
    def plan_id(self, info: Info) -> strawberry.ID | None:
        plan_id = self.domain.plan_id
        return strawberry.ID(plan_id) if plan_id and self._full(info) else None

    @strawberry.field(description="Coordinators and the shift's caregiver only.")
    def task_log(self, info: Info) -> list[TaskLogEntry]:
        if not self._full(info):
            return []
        return [
            TaskLogEntry(
                id=strawberry.ID(e.id),
                task_id=strawberry.ID(e.task_id),
                outcome=e.outcome,
                reason=e.reason,
                note=e.note,
                at=e.at.astimezone(self.tz),
                timing=DeviceTiming.from_domain(e.timing, self.tz),
            )
            for e in self.domain.task_log
        ]

    @strawberry.field(description="Coordinators and the shift's caregiver only.")
    def progress_notes(self, info: Info) -> list[ProgressNote]:
        if not self._full(info):
            return []
        return [
            ProgressNote(id=strawberry.ID(n.id), text=n.text, at=n.at.astimezone(self.tz), by_id=strawberry.ID(n.by))
            for n in self.domain.progress_notes
        ]

    @strawberry.field(description="Left at check-out for the next caregiver of this person.")
    def handover_note(self, info: Info) -> str | None:
        return self.domain.handover_note if self._full(info) else None

    @strawberry.field(description="Why check-out went ahead without a critical task's log entry.")
    def unlogged_critical_reason(self, info: Info) -> str | None:
        return self.domain.unlogged_critical_reason if self._full(info) else None

    @strawberry.field(description="The handover note of this person's previous visit, for this shift's caregiver.")
    async def previous_handover(self, info: Info) -> Handover | None:
        previous = await info.context.loaders.handovers.load(self.domain)
        if previous is None or previous.handover_note is None or previous.check_out is None:
            return None
        return Handover(
            note=previous.handover_note,
            written_at=previous.check_out.at.astimezone(self.tz),
            shift_id=strawberry.ID(previous.id),
            caregiver_id=strawberry.ID(previous.caregiver_id) if previous.caregiver_id else None,
        )

    @strawberry.field(description="Coordinators and the shift's caregiver only.")
    def history(self, info: Info) -> list[ShiftHistoryEntry]:
        if not self._full(info):
            return []
        return [
            ShiftHistoryEntry(
                action=h.action,
                at=h.at.astimezone(self.tz),
                by_id=strawberry.ID(h.by),
                from_caregiver_id=strawberry.ID(h.from_caregiver_id) if h.from_caregiver_id else None,
                to_caregiver_id=strawberry.ID(h.to_caregiver_id) if h.to_caregiver_id else None,
                reason=h.reason,
            )
            for h in self.domain.history
        ]

    @strawberry.field
    def qualification_override(self, info: Info) -> QualificationOverride | None:
        o = self.domain.qualification_override
        if o is None or not self._full(info):
            return None
        return QualificationOverride(
            missing=list(o.missing), reason=o.reason, by_id=strawberry.ID(o.by), at=o.at.astimezone(self.tz)
        )

    @strawberry.field(description="The latest swap request; its caregivers and coordinators see it.")
    def swap(self, info: Info) -> ShiftSwap | None:
        w = self.domain.current_swap
        principal = info.context.principal
        if w is None or not (principal.is_coordinator or principal.user_id in (w.from_caregiver_id, w.to_caregiver_id)):
            return None
        return ShiftSwap(
            id=strawberry.ID(w.id),
            from_caregiver_id=strawberry.ID(w.from_caregiver_id),
            to_caregiver_id=strawberry.ID(w.to_caregiver_id),
            status=w.status,
            requested_at=w.requested_at.astimezone(self.tz),
            message=w.message,
            decided_at=w.decided_at.astimezone(self.tz) if w.decided_at else None,
            reason=w.reason,
        )


@strawberry.type(description="An interval when a person is, or may be, without a caregiver.")
class CoverageGap:
    domain: strawberry.Private[DomainGap]
    kind: GapKind
    person_id: strawberry.ID
    start: datetime
    end: datetime
    shift: Shift | None = strawberry.field(description="The open, late or missed shift; null for uncovered hours.")

    @classmethod
    def from_domain(cls, g: DomainGap, tz: ZoneInfo, now: datetime) -> CoverageGap:
        return cls(
            domain=g,
            kind=g.kind,
            person_id=strawberry.ID(g.person_id),
            start=g.start.astimezone(tz),
            end=g.end.astimezone(tz),
            shift=Shift.from_domain(g.shift, tz, now) if g.shift else None,
        )

    @strawberry.field
    async def person(self, info: Info) -> LazyPerson | None:
        from schema.types.people import Person

        found = await info.context.loaders.people.load(self.domain.person_id)
        return Person.from_domain(found) if found else None


@strawberry.type
class Qualification:
    code: str
    expires_on: date | None


@strawberry.type
class AvailabilityWindow:
    weekdays: list[int]
    start: time
    end: time = strawberry.field(description="Before start: runs past midnight.")


@strawberry.type
class CaregiverProfile:
    user_id: strawberry.ID
    qualifications: list[Qualification]
    max_weekly_hours: int | None = strawberry.field(description="Null: the agency's limit applies.")
    min_rest_hours: int | None = strawberry.field(description="Null: the agency's minimum applies.")
    availability: list[AvailabilityWindow] = strawberry.field(description="Empty: available any time.")
    revision: int

    @classmethod
    def from_domain(cls, p: DomainProfile) -> CaregiverProfile:
        return cls(
            user_id=strawberry.ID(p.user_id),
            qualifications=[Qualification(code=q.code, expires_on=q.expires_on) for q in p.qualifications],
            max_weekly_hours=p.max_weekly_hours,
            min_rest_hours=p.min_rest_hours,
            availability=[
                AvailabilityWindow(weekdays=list(w.weekdays), start=w.start, end=w.end) for w in p.availability
            ],
            revision=p.revision,
        )
