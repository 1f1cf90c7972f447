"""An agency's incident policy as coordinators read and edit it."""

from __future__ import annotations

from typing import Annotated, TypeAlias

import strawberry

from carecore.alerts.models import Audience as DomainAudience
from carecore.incidents.policy import IncidentPolicy as DomainPolicy
from schema.types.alerts import QuietHours
from schema.types.care_plans import IncidentType
from schema.types.health import HealthThresholds
from schema.types.incidents import Severity

Audience: TypeAlias = Annotated[
    DomainAudience, strawberry.enum(name="Audience", description="Who a ladder step asks to be alerted.")
]


@strawberry.type
class TypeSeverity:
    type: IncidentType
    severity: Severity


@strawberry.type
class LadderStep:
    after_seconds: int = strawberry.field(description="After the ladder started, if nobody acknowledged by then.")
    audiences: list[Audience]
    escalate: bool = strawberry.field(description="Marks the incident ESCALATED: the last resort was called.")


@strawberry.type
class Ladder:
    severity: Severity
    steps: list[LadderStep]


@strawberry.type
class ReportRule:
    min_severity: Severity
    hours: int
    types: list[IncidentType] = strawberry.field(description="Empty: every type.")


@strawberry.type
class IncidentPolicy:
    review_threshold: float = strawberry.field(description="AI flags below this confidence wait for review.")
    raise_threshold: float = strawberry.field(description="AI flags at or above it are one severity more urgent.")
    merge_window_minutes: float
    base_severities: list[TypeSeverity]
    ladders: list[Ladder]
    report_rules: list[ReportRule]
    safeguarding_report_hours: int
    night_window: QuietHours = strawberry.field(
        description="The agency's night, in its time zone: MEDIUM pushes wait in the inbox until it ends; "
        "CRITICAL and HIGH always push. start = end: no night."
    )
    health_thresholds: HealthThresholds = strawberry.field(
        description="The agency's defaults for the vital-sign safety rules; a person may have their own."
    )

    @classmethod
    def from_domain(cls, p: DomainPolicy) -> IncidentPolicy:
        return cls(
            review_threshold=p.review_threshold,
            raise_threshold=p.raise_threshold,
            merge_window_minutes=p.merge_window.total_seconds() / 60,
            base_severities=[TypeSeverity(type=t, severity=s) for t, s in p.base_severity.items()],
            ladders=[
                Ladder(
                    severity=severity,
                    steps=[
                        LadderStep(
                            after_seconds=int(s.after.total_seconds()), audiences=list(s.audiences), escalate=s.escalate
                        )
                        for s in steps
                    ],
                )
                for severity, steps in p.ladders.items()
            ],
            report_rules=[
                ReportRule(min_severity=r.min_severity, hours=r.hours, types=list(r.types)) for r in p.report_rules
            ],
            safeguarding_report_hours=p.safeguarding_report_hours,
            night_window=QuietHours(start=p.night_window.start, end=p.night_window.end),
            health_thresholds=HealthThresholds.from_domain(p.health_thresholds),
        )
