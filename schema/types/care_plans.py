"""Care plan types."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, TypeAlias

import strawberry

from carecore.care_plans.models import CarePlan as DomainCarePlan
from carecore.care_plans.models import CarePlanStatus as DomainStatus
from carecore.care_plans.models import TaskCategory as DomainCategory
from carecore.care_plans.models import effective_status
from carecore.incidents.models import IncidentType as DomainIncidentType

CarePlanStatus: TypeAlias = Annotated[DomainStatus, strawberry.enum(name="CarePlanStatus")]
TaskCategory: TypeAlias = Annotated[DomainCategory, strawberry.enum(name="TaskCategory")]
IncidentType: TypeAlias = Annotated[DomainIncidentType, strawberry.enum(name="IncidentType")]


@strawberry.type
class Goal:
    id: strawberry.ID
    description: str
    measure: str
    target_date: date | None


@strawberry.type
class TaskSchedule:
    times_of_day: list[time]
    every_hours: int | None
    weekdays: list[int] = strawberry.field(description="0 = Monday ... 6 = Sunday, in the agency's time zone.")


@strawberry.type
class SupportTask:
    id: strawberry.ID
    category: TaskCategory
    title: str
    instructions: str
    schedule: TaskSchedule
    critical: bool = strawberry.field(description="A missed occurrence raises an alert.")


@strawberry.type
class RiskProtocol:
    incident_type: IncidentType
    instructions: str


@strawberry.type
class Acknowledgement:
    user_id: strawberry.ID
    at: datetime


@strawberry.type
class CarePlan:
    id: strawberry.ID
    person_id: strawberry.ID
    version: int
    status: CarePlanStatus
    revision: int
    summary: str
    goals: list[Goal]
    tasks: list[SupportTask]
    risk_protocols: list[RiskProtocol]
    review_date: date | None
    based_on_id: strawberry.ID | None
    created_at: datetime
    updated_at: datetime
    approved_at: datetime | None
    approved_by_id: strawberry.ID | None
    acknowledgements: list[Acknowledgement]

    @classmethod
    def from_domain(cls, p: DomainCarePlan, active_plan_id: str | None) -> CarePlan:
        c = p.content
        return cls(
            id=strawberry.ID(p.id),
            person_id=strawberry.ID(p.person_id),
            version=p.version,
            status=effective_status(p, active_plan_id),
            revision=p.revision,
            summary=c.summary,
            goals=[
                Goal(id=strawberry.ID(g.id), description=g.description, measure=g.measure, target_date=g.target_date)
                for g in c.goals
            ],
            tasks=[
                SupportTask(
                    id=strawberry.ID(t.id),
                    category=t.category,
                    title=t.title,
                    instructions=t.instructions,
                    critical=t.critical,
                    schedule=TaskSchedule(
                        times_of_day=list(t.schedule.times_of_day),
                        every_hours=t.schedule.every_hours,
                        weekdays=list(t.schedule.weekdays),
                    ),
                )
                for t in c.tasks
            ],
            risk_protocols=[
                RiskProtocol(incident_type=r.incident_type, instructions=r.instructions) for r in c.risk_protocols
            ],
            review_date=c.review_date,
            based_on_id=strawberry.ID(p.based_on_id) if p.based_on_id else None,
            created_at=p.created_at,
            updated_at=p.updated_at,
            approved_at=p.approved_at,
            approved_by_id=strawberry.ID(p.approved_by) if p.approved_by else None,
            acknowledgements=[Acknowledgement(user_id=strawberry.ID(a.user_id), at=a.at) for a in p.acknowledgements],
        )
