"""Pure incident rules: triage, review, reporting deadlines, input limits and policy checks."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from itertools import pairwise

from carecore import validation
from carecore.errors import ValidationFailed
from carecore.health.thresholds import check_thresholds
from carecore.incidents.models import (
    Evidence,
    FlagSubmission,
    HumanReport,
    IncidentType,
    Safeguarding,
    Severity,
    Signal,
)
from carecore.incidents.policy import IncidentPolicy
from carecore.people.models import Person

_BY_RANK = {s.rank: s for s in Severity}
MAX_SIGNALS = 30


def more_urgent(severity: Severity, steps: int = 1) -> Severity:
    return _BY_RANK[min(Severity.CRITICAL.rank, severity.rank + steps)]


def base_severity(policy: IncidentPolicy, incident_type: IncidentType, person: Person) -> Severity:
    """The type's severity, raised by the person's protocol for it.

    A protocol that calls emergency services after some minutes (e.g. seizures: 119 after 5) makes the
    incident CRITICAL: the clock is running. Any protocol for the type makes it at least HIGH.
    """
    severity = policy.base_severity.get(incident_type, Severity.MEDIUM)
    for protocol in person.profile.protocols:
        if protocol.incident_type is not incident_type:
            continue
        if protocol.call_emergency_after_minutes is not None:
            return Severity.CRITICAL
        severity = max(severity, Severity.HIGH, key=lambda s: s.rank)
    return severity


def triage(policy: IncidentPolicy, flag: FlagSubmission, person: Person) -> tuple[Severity, bool]:
    """The severity of an AI flag and whether it waits for review instead of waking anyone."""
    severity = base_severity(policy, flag.type, person)
    if flag.confidence >= policy.raise_threshold:
        severity = more_urgent(severity)
    return severity, needs_review(policy, severity, flag.confidence)


def needs_review(policy: IncidentPolicy, severity: Severity, confidence: float = 1.0) -> bool:
    """Low-confidence flags and LOW incidents go to the review queue (DESIGN: "LOW: review queue only")."""
    return confidence < policy.review_threshold or severity is Severity.LOW


def report_due_at(
    policy: IncidentPolicy,
    incident_type: IncidentType,
    severity: Severity,
    learned_at: datetime,
    safeguarding: Safeguarding | None = None,
) -> datetime | None:
    """When the authority must have the report, counted from when the agency learned of the incident."""
    hours = [r.hours for r in policy.report_rules if r.applies(incident_type, severity)]
    if safeguarding is not None:
        hours.append(policy.safeguarding_report_hours)
    return learned_at + timedelta(hours=min(hours)) if hours else None


def earliest(*times: datetime | None) -> datetime | None:
    present = [t for t in times if t is not None]
    return min(present) if present else None


def checked_flag(flag: FlagSubmission) -> FlagSubmission:
    """Trims and checks a flag; raises ValidationFailed naming the field."""
    external_id = validation.text(flag.external_id, "externalId", max_len=validation.MAX_NAME, required=True)
    person_ref = validation.text(flag.person_ref, "personRef", max_len=validation.MAX_NAME, required=True)
    validation.in_range(flag.confidence, "confidence", 0, 1)
    detector = validation.text(flag.detector, "detector", max_len=validation.MAX_NAME, required=True)
    model_version = validation.text(flag.model_version, "modelVersion", max_len=validation.MAX_NAME, required=True)
    return replace(
        flag,
        external_id=external_id,
        person_ref=person_ref,
        detector=detector,
        model_version=model_version,
        evidence=checked_evidence(flag.evidence),
    )


def checked_evidence(evidence: Evidence) -> Evidence:
    validation.items(evidence.signals, "evidence.signals", max_items=MAX_SIGNALS)
    signals = tuple(
        Signal(
            validation.text(s.name, "evidence.signals.name", max_len=validation.MAX_NAME, required=True),
            validation.text(s.value, "evidence.signals.value", max_len=validation.MAX_NAME),
        )
        for s in evidence.signals
    )
    return Evidence(summary=validation.text(evidence.summary, "evidence.summary"), signals=signals)


def checked_report(report: HumanReport) -> HumanReport:
    summary = validation.text(report.summary, "summary", required=True)
    return replace(report, summary=summary)


def check_policy(policy: IncidentPolicy) -> None:
    """Thresholds in range and ladders that start at once and only move forward in time."""
    validation.in_range(policy.review_threshold, "reviewThreshold", 0, 1)
    validation.in_range(policy.raise_threshold, "raiseThreshold", 0, 1)
    minutes = policy.merge_window.total_seconds() / 60
    validation.in_range(minutes, "mergeWindowMinutes", 0, 24 * 60)
    for severity, steps in policy.ladders.items():
        field = f"ladders.{severity.value}"
        validation.items(steps, field, max_items=10)
        offsets = [s.after for s in steps]
        if offsets and offsets[0] != timedelta(0):
            raise ValidationFailed(f"{field}: the first step must be at once.", field=field)
        if any(b <= a for a, b in pairwise(offsets)):
            raise ValidationFailed(f"{field}: steps must come later one after another.", field=field)
        if any(not s.audiences for s in steps):
            raise ValidationFailed(f"{field}: every step needs an audience.", field=field)
    for rule in policy.report_rules:
        validation.in_range(rule.hours, "reportRules.hours", 1, 24 * 30)
    validation.in_range(policy.safeguarding_report_hours, "safeguardingReportHours", 1, 24 * 30)
    check_thresholds(policy.health_thresholds, "healthThresholds.")
