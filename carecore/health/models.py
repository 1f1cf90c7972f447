"""Vital-sign observations (LOINC codes, UCUM units) and what the detection rules found in them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from carecore.vocabulary import Severity


class Metric(StrEnum):
    """What was measured, by LOINC code; the stress index has a local code (comparable within one device)."""

    BLOOD_PRESSURE = "85354-9"  # panel: systolic 8480-6 and diastolic 8462-4
    HEART_RATE = "8867-4"
    SPO2 = "59408-5"
    BODY_WEIGHT = "29463-7"
    BODY_TEMPERATURE = "8310-5"
    HRV_SDNN = "80404-7"
    STRESS_INDEX = "carecore-stress-index"


SYSTOLIC = "8480-6"
DIASTOLIC = "8462-4"

# The one UCUM unit each metric is accepted in; anything else is rejected rather than converted.
UNITS: dict[Metric, str] = {
    Metric.BLOOD_PRESSURE: "mm[Hg]",
    Metric.HEART_RATE: "/min",
    Metric.SPO2: "%",
    Metric.BODY_WEIGHT: "kg",
    Metric.BODY_TEMPERATURE: "Cel",
    Metric.HRV_SDNN: "ms",
    Metric.STRESS_INDEX: "{score}",
}


def component_codes(metric: Metric) -> tuple[str, ...]:
    """The values a reading of `metric` carries: the BP panel two, every other metric its own code."""
    return (SYSTOLIC, DIASTOLIC) if metric is Metric.BLOOD_PRESSURE else (metric.value,)


class Modality(StrEnum):
    SENSED = "SENSED"  # a device measured it
    SELF_REPORTED = "SELF_REPORTED"  # the person or a caregiver typed it in


class ObservationStatus(StrEnum):
    ACCEPTED = "ACCEPTED"  # passed the quality gate: counts in baselines and may alert
    REJECTED = "REJECTED"  # kept with its reason; never alerts, never counts


class RejectReason(StrEnum):
    IMPLAUSIBLE = "IMPLAUSIBLE"
    PULSE_PRESSURE = "PULSE_PRESSURE"
    UNIT = "UNIT"
    FUTURE = "FUTURE"
    DUPLICATE = "DUPLICATE"


@dataclass(frozen=True, slots=True)
class Component:
    code: str  # LOINC of the value (8480-6, 8462-4, or the metric's own)
    value: float


@dataclass(frozen=True, slots=True)
class Reading:
    """A reading as submitted by a device (webhook) or a caregiver (GraphQL), before the quality gate."""

    person_id: str
    metric: Metric
    components: tuple[Component, ...]
    unit: str
    effective_at: datetime
    modality: Modality
    device_id: str | None = None  # None: typed in by hand (the recorder is the source)
    source_data_point_id: str | None = None  # the device's own id of the reading, when it sends one

    def value(self, code: str) -> float | None:
        return next((c.value for c in self.components if c.code == code), None)


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: RejectReason
    detail: str


class RuleFamily(StrEnum):
    """At most one open incident per (person, family); baseline and trend families are per series."""

    BP_CRISIS = "bp_crisis"
    BP_LOW = "bp_low"
    SPO2_LOW = "spo2_low"
    HEART_RATE = "heart_rate"
    BASELINE = "baseline"
    TREND = "trend"
    WEIGHT_GAIN = "weight_gain"


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule that fired on a reading: opens or joins the incident of (person, `key`)."""

    family: RuleFamily
    series: str  # the component code the rule looked at
    severity: Severity
    summary: str
    confirmed: bool = True  # guideline rules: False until a repeat or a second source agrees

    @property
    def key(self) -> str:
        per_series = self.family in (RuleFamily.BASELINE, RuleFamily.TREND)
        return f"{self.family.value}:{self.series}" if per_series else self.family.value


@dataclass(frozen=True, slots=True)
class Observation:
    """A stored reading: accepted or rejected with its reason, and what the rules found once evaluated."""

    id: str
    agency_id: str
    reading: Reading
    status: ObservationStatus
    received_at: datetime
    recorded_by: str  # the user (caregiver, coordinator or AI service account) that submitted it
    rejection: Rejection | None = None
    evaluated: bool = False  # detection ran and its incidents were opened
    findings: tuple[Finding, ...] = ()
    incident_ids: tuple[str, ...] = ()

    @property
    def person_id(self) -> str:
        return self.reading.person_id

    @property
    def source(self) -> str:
        """Where the reading came from: the device, or the hands of whoever typed it in."""
        return self.reading.device_id or f"manual:{self.recorded_by}"


class IngestOutcome(StrEnum):
    RECORDED = "RECORDED"  # new and accepted
    REJECTED = "REJECTED"  # new, kept with the reason, alerts nobody
    DUPLICATE = "DUPLICATE"  # a reading already received (a retry, or the same moment from another device)
    INVALID = "INVALID"  # not stored: malformed, or no such person


@dataclass(frozen=True, slots=True)
class IngestResult:
    index: int
    outcome: IngestOutcome
    observation: Observation | None = None
    error: str | None = None
    field: str | None = None
