"""An agency's incident policy: triage, merge window, escalation ladders and reporting deadlines.

Defaults follow DESIGN "Incident" and "Escalation"; an agency may store its own (`incident_policies`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType

from carecore.alerts.models import DEFAULT_NIGHT_WINDOW, QuietHours
from carecore.health.thresholds import DEFAULT_THRESHOLDS, Thresholds
from carecore.incidents.models import IncidentType, Severity
from carecore.vocabulary import Audience


@dataclass(frozen=True, slots=True)
class LadderStep:
    """Who is asked to be alerted `after` the ladder started, if nobody has acknowledged by then."""

    after: timedelta
    audiences: tuple[Audience, ...]
    escalate: bool = False  # marks the incident ESCALATED: the last resort was called


@dataclass(frozen=True, slots=True)
class ReportRule:
    """Incidents of `types` (all when empty) at `min_severity` or above are reported within `hours`."""

    min_severity: Severity
    hours: int
    types: tuple[IncidentType, ...] = ()

    def applies(self, incident_type: IncidentType, severity: Severity) -> bool:
        return severity.rank >= self.min_severity.rank and (not self.types or incident_type in self.types)


_S, _T, _A = Severity, IncidentType, Audience

DEFAULT_BASE_SEVERITY: Mapping[IncidentType, Severity] = MappingProxyType(
    {
        _T.SEIZURE: _S.CRITICAL,
        _T.FALL: _S.HIGH,
        _T.WANDERING: _S.HIGH,
        _T.SELF_INJURY: _S.HIGH,
        _T.AGGRESSION: _S.HIGH,
        _T.MEDICAL: _S.HIGH,
        _T.NO_RESPONSE: _S.HIGH,
        _T.MISSED_VISIT: _S.HIGH,  # the person may be alone
        _T.MEDICATION: _S.MEDIUM,
        _T.OTHER: _S.MEDIUM,
    }
)

DEFAULT_LADDERS: Mapping[Severity, tuple[LadderStep, ...]] = MappingProxyType(
    {
        _S.CRITICAL: (
            LadderStep(timedelta(0), (_A.ON_SHIFT_CAREGIVERS, _A.COORDINATORS_ON_DUTY, _A.GUARDIANS)),
            LadderStep(timedelta(minutes=2), (_A.ALL_COORDINATORS,)),
            LadderStep(timedelta(minutes=5), (_A.EMERGENCY_CONTACT,), escalate=True),
        ),
        _S.HIGH: (
            LadderStep(timedelta(0), (_A.ON_SHIFT_CAREGIVERS, _A.COORDINATORS_ON_DUTY)),
            LadderStep(timedelta(minutes=10), (_A.CARE_TEAM, _A.ALL_COORDINATORS, _A.GUARDIANS)),
        ),
        # Pushed at once by day; in the agency's night window (`night_window`) they wait in the inbox.
        _S.MEDIUM: (LadderStep(timedelta(0), (_A.COORDINATORS_ON_DUTY,)),),
        _S.LOW: (),  # the review queue only
    }
)


@dataclass(frozen=True, slots=True)
class IncidentPolicy:
    # AI flags below this confidence go to the review queue and wake nobody.
    review_threshold: float = 0.6
    # AI flags at or above this confidence are one severity more urgent than their type's base.
    raise_threshold: float = 0.9
    merge_window: timedelta = timedelta(minutes=10)
    base_severity: Mapping[IncidentType, Severity] = field(default_factory=lambda: DEFAULT_BASE_SEVERITY)
    ladders: Mapping[Severity, tuple[LadderStep, ...]] = field(default_factory=lambda: DEFAULT_LADDERS)
    report_rules: tuple[ReportRule, ...] = (ReportRule(Severity.HIGH, 24),)
    safeguarding_report_hours: int = 24  # abuse and neglect are always reported
    # MEDIUM pushes wait until it ends (start == end: no night); CRITICAL and HIGH always push.
    night_window: QuietHours = DEFAULT_NIGHT_WINDOW
    # Where the vital-sign safety rules fire for everyone of the agency without thresholds of their own.
    health_thresholds: Thresholds = DEFAULT_THRESHOLDS

    def ladder(self, severity: Severity) -> tuple[LadderStep, ...]:
        return self.ladders.get(severity, ())


DEFAULT_POLICY = IncidentPolicy()
