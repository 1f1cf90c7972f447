"""Care plans (개인별 지원계획): versioned per person, at most one ACTIVE version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from carecore.vocabulary import CarePlanStatus as CarePlanStatus
from carecore.vocabulary import IncidentType
from carecore.vocabulary import TaskCategory as TaskCategory


@dataclass(frozen=True, slots=True)
class TaskSchedule:
    """When a task is due, in the agency's time zone: fixed times of day or every N hours, on weekdays."""

    times_of_day: tuple[time, ...] = ()
    every_hours: int | None = None
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)  # 0 = Monday


@dataclass(frozen=True, slots=True)
class Goal:
    id: str
    description: str
    measure: str
    target_date: date | None = None


@dataclass(frozen=True, slots=True)
class SupportTask:
    id: str
    category: TaskCategory
    title: str
    instructions: str
    schedule: TaskSchedule
    critical: bool = False


@dataclass(frozen=True, slots=True)
class RiskProtocol:
    incident_type: IncidentType
    instructions: str


@dataclass(frozen=True, slots=True)
class PlanContent:
    """The editable body of a version."""

    goals: tuple[Goal, ...] = ()
    tasks: tuple[SupportTask, ...] = ()
    risk_protocols: tuple[RiskProtocol, ...] = ()
    review_date: date | None = None
    summary: str = ""


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    user_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CarePlan:
    id: str
    agency_id: str
    person_id: str
    version: int
    status: CarePlanStatus
    # The ACTIVE version this draft was written from; approving is refused once another took its place.
    based_on_id: str | None
    content: PlanContent
    revision: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    acknowledgements: tuple[Acknowledgement, ...] = ()
    # Set on a DRAFT from the first write of its approval until the last: edits are refused meanwhile,
    # and a crashed approval is finished by `finish_approvals` (carecore.care_plans.service).
    approving_by: str | None = None

    def acknowledged_by(self, user_id: str) -> bool:
        return any(a.user_id == user_id for a in self.acknowledgements)


def effective_status(plan: CarePlan, active_plan_id: str | None) -> CarePlanStatus:
    """The person's active-plan pointer is the commit point of an approval; stored statuses follow it.

    Without transactions a crash can fall between moving the pointer and rewriting the two plans'
    statuses, so readers trust the pointer until `finish_approvals` has made the statuses agree.
    """
    if plan.id == active_plan_id:
        return CarePlanStatus.ACTIVE
    if plan.status is CarePlanStatus.ACTIVE:
        return CarePlanStatus.SUPERSEDED
    return plan.status
