"""Inputs of the care plan mutations."""

from __future__ import annotations

from datetime import date, time

import strawberry

from carecore.care_plans.models import Goal, PlanContent, RiskProtocol, SupportTask, TaskSchedule
from carecore.care_plans.models import TaskCategory as DomainCategory
from carecore.ids import new_id
from carecore.incidents.models import IncidentType as DomainIncidentType
from schema.types.care_plans import IncidentType, TaskCategory

ALL_WEEKDAYS = [0, 1, 2, 3, 4, 5, 6]


@strawberry.input
class GoalInput:
    description: str
    measure: str
    target_date: date | None = None
    id: strawberry.ID | None = strawberry.field(default=None, description="Keep to carry a goal over to a new version.")


@strawberry.input
class TaskScheduleInput:
    times_of_day: list[time] = strawberry.field(default_factory=list)
    every_hours: int | None = None
    weekdays: list[int] = strawberry.field(default_factory=lambda: list(ALL_WEEKDAYS))


@strawberry.input
class SupportTaskInput:
    category: TaskCategory
    title: str
    schedule: TaskScheduleInput
    instructions: str = ""
    critical: bool = False
    id: strawberry.ID | None = strawberry.field(default=None, description="Keep to carry a task over to a new version.")


@strawberry.input
class RiskProtocolInput:
    incident_type: IncidentType
    instructions: str


@strawberry.input
class PlanContentInput:
    summary: str = ""
    goals: list[GoalInput] = strawberry.field(default_factory=list)
    tasks: list[SupportTaskInput] = strawberry.field(default_factory=list)
    risk_protocols: list[RiskProtocolInput] = strawberry.field(default_factory=list)
    review_date: date | None = None

    def to_domain(self) -> PlanContent:
        return PlanContent(
            summary=self.summary,
            review_date=self.review_date,
            goals=tuple(Goal(g.id or new_id(), g.description, g.measure, g.target_date) for g in self.goals),
            tasks=tuple(
                SupportTask(
                    id=t.id or new_id(),
                    category=DomainCategory(t.category),
                    title=t.title,
                    instructions=t.instructions,
                    critical=t.critical,
                    schedule=TaskSchedule(
                        tuple(t.schedule.times_of_day), t.schedule.every_hours, tuple(t.schedule.weekdays)
                    ),
                )
                for t in self.tasks
            ),
            risk_protocols=tuple(
                RiskProtocol(DomainIncidentType(r.incident_type), r.instructions) for r in self.risk_protocols
            ),
        )


@strawberry.input
class CreateCarePlanDraftInput:
    person_id: strawberry.ID
    content: PlanContentInput | None = strawberry.field(
        default=None, description="Leave out to start from a copy of the active version."
    )
    idempotency_key: str | None = None


@strawberry.input
class UpdateCarePlanDraftInput:
    plan_id: strawberry.ID
    expected_revision: int
    content: PlanContentInput


@strawberry.input
class CarePlanRevisionInput:
    plan_id: strawberry.ID
    expected_revision: int


@strawberry.input
class AcknowledgeCarePlanInput:
    plan_id: strawberry.ID
