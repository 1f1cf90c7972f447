"""The input of `updateIncidentPolicy`: what is given replaces the current setting, the rest stays."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import strawberry

from carecore.alerts.models import Audience as DomainAudience
from carecore.alerts.models import QuietHours
from carecore.incidents import models as m
from carecore.incidents import policy as p
from schema.inputs.alerts import QuietHoursInput
from schema.inputs.health import HealthThresholdsInput
from schema.types.care_plans import IncidentType
from schema.types.incident_policy import Audience
from schema.types.incidents import Severity


@strawberry.input
class TypeSeverityInput:
    type: IncidentType
    severity: Severity


@strawberry.input
class LadderStepInput:
    after_seconds: int
    audiences: list[Audience]
    escalate: bool = False


@strawberry.input
class LadderInput:
    severity: Severity
    steps: list[LadderStepInput]


@strawberry.input
class ReportRuleInput:
    min_severity: Severity
    hours: int
    types: list[IncidentType] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateIncidentPolicyInput:
    review_threshold: float | None = None
    raise_threshold: float | None = None
    merge_window_minutes: float | None = None
    base_severities: list[TypeSeverityInput] | None = strawberry.field(
        default=None, description="Replaces the base severity of the types given."
    )
    ladders: list[LadderInput] | None = strawberry.field(
        default=None, description="Replaces the ladders of the severities given."
    )
    report_rules: list[ReportRuleInput] | None = strawberry.field(default=None, description="Replaces every rule.")
    safeguarding_report_hours: int | None = None
    night_window: QuietHoursInput | None = strawberry.field(
        default=None, description="The agency's night, in its time zone; start = end: no night."
    )
    health_thresholds: HealthThresholdsInput | None = strawberry.field(
        default=None, description="Replaces the default thresholds given; the others stay."
    )

    def applied_to(self, current: p.IncidentPolicy) -> p.IncidentPolicy:
        policy = current
        if self.review_threshold is not None:
            policy = replace(policy, review_threshold=self.review_threshold)
        if self.raise_threshold is not None:
            policy = replace(policy, raise_threshold=self.raise_threshold)
        if self.merge_window_minutes is not None:
            policy = replace(policy, merge_window=timedelta(minutes=self.merge_window_minutes))
        if self.base_severities is not None:
            given = {m.IncidentType(b.type): m.Severity(b.severity) for b in self.base_severities}
            policy = replace(policy, base_severity={**policy.base_severity, **given})
        if self.ladders is not None:
            ladders = {m.Severity(ladder.severity): _steps(ladder) for ladder in self.ladders}
            policy = replace(policy, ladders={**policy.ladders, **ladders})
        if self.report_rules is not None:
            rules = tuple(
                p.ReportRule(m.Severity(r.min_severity), r.hours, tuple(m.IncidentType(t) for t in r.types))
                for r in self.report_rules
            )
            policy = replace(policy, report_rules=rules)
        if self.safeguarding_report_hours is not None:
            policy = replace(policy, safeguarding_report_hours=self.safeguarding_report_hours)
        if self.night_window is not None:
            policy = replace(policy, night_window=QuietHours(self.night_window.start, self.night_window.end))
        if self.health_thresholds is not None:
            thresholds = replace(policy.health_thresholds, **self.health_thresholds.given())
            policy = replace(policy, health_thresholds=thresholds)
        return policy


def _steps(ladder: LadderInput) -> tuple[p.LadderStep, ...]:
    return tuple(
        p.LadderStep(timedelta(seconds=s.after_seconds), tuple(DomainAudience(a) for a in s.audiences), s.escalate)
        for s in ladder.steps
    )
