"""Vital-sign readings as the API shows them: the LOINC codes and UCUM unit as received, and what was found."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypeAlias

import strawberry

from carecore.health import models as m
from carecore.health.detection import CUSUM_H, SeriesState
from carecore.health.personal_thresholds import ThresholdsView
from carecore.health.stats import HealthRuleStats as DomainRuleStats
from carecore.health.summary import MetricSummary
from carecore.health.thresholds import NAMES, PersonalThresholds, Thresholds
from schema.types.incidents import Severity

VitalMetric: TypeAlias = Annotated[
    m.Metric, strawberry.enum(name="VitalMetric", description="By LOINC code (`code` on a reading).")
]
Modality: TypeAlias = Annotated[m.Modality, strawberry.enum(name="ObservationModality")]
ObservationStatus: TypeAlias = Annotated[m.ObservationStatus, strawberry.enum(name="ObservationStatus")]
RejectReason: TypeAlias = Annotated[m.RejectReason, strawberry.enum(name="ObservationRejectReason")]
RuleFamily: TypeAlias = Annotated[m.RuleFamily, strawberry.enum(name="HealthRuleFamily")]
IngestOutcome: TypeAlias = Annotated[m.IngestOutcome, strawberry.enum(name="ObservationOutcome")]


@strawberry.type(description="One value of a reading: the BP panel has 8480-6 (systolic) and 8462-4 (diastolic).")
class ObservationValue:
    code: str
    value: float


@strawberry.type
class ObservationRejection:
    reason: RejectReason
    detail: str


@strawberry.type(description="A rule that fired on the reading; it opened or joined `incidentIds`.")
class HealthFinding:
    family: RuleFamily
    series: str
    severity: Severity
    summary: str
    confirmed: bool = strawberry.field(description="Safety rules: false until a repeat or a second source agrees.")


@strawberry.type
class Observation:
    id: strawberry.ID
    person_id: strawberry.ID
    metric: VitalMetric
    code: str
    values: list[ObservationValue]
    unit: str
    effective_at: datetime
    received_at: datetime
    modality: Modality
    device_id: str | None
    source_data_point_id: str | None
    recorded_by_id: strawberry.ID
    status: ObservationStatus = strawberry.field(description="REJECTED readings never alert and never count.")
    rejection: ObservationRejection | None
    findings: list[HealthFinding]
    incident_ids: list[strawberry.ID]

    @classmethod
    def from_domain(cls, o: m.Observation) -> Observation:
        r = o.reading
        return cls(
            id=strawberry.ID(o.id),
            person_id=strawberry.ID(r.person_id),
            metric=r.metric,
            code=r.metric.value,
            values=[ObservationValue(code=c.code, value=c.value) for c in r.components],
            unit=r.unit,
            effective_at=r.effective_at,
            received_at=o.received_at,
            modality=r.modality,
            device_id=r.device_id,
            source_data_point_id=r.source_data_point_id,
            recorded_by_id=strawberry.ID(o.recorded_by),
            status=o.status,
            rejection=ObservationRejection(reason=o.rejection.reason, detail=o.rejection.detail)
            if o.rejection
            else None,
            findings=[
                HealthFinding(
                    family=f.family, series=f.series, severity=f.severity, summary=f.summary, confirmed=f.confirmed
                )
                for f in o.findings
            ],
            incident_ids=[strawberry.ID(i) for i in o.incident_ids],
        )


@strawberry.type(description="Where the always-on safety rules fire: crisis above its limits, lows at or under.")
class HealthThresholds:
    crisis_systolic: float
    crisis_diastolic: float
    low_systolic: float
    low_spo2: float
    low_spo2_co2_retainer: float
    low_heart_rate: float = strawberry.field(description="Resting heart rate at or under it alerts.")
    high_heart_rate: float = strawberry.field(description="Resting heart rate at or over it alerts.")
    weight_gain_kg: float = strawberry.field(description="The 7-day median weight this far above the 28-day one.")

    @classmethod
    def from_domain(cls, t: Thresholds) -> HealthThresholds:
        return cls(**{name: getattr(t, name) for name in NAMES})


@strawberry.type(description="The thresholds a coordinator set for this person; null: the agency's default.")
class PersonalHealthThresholds:
    crisis_systolic: float | None
    crisis_diastolic: float | None
    low_systolic: float | None
    low_spo2: float | None
    low_spo2_co2_retainer: float | None
    low_heart_rate: float | None
    high_heart_rate: float | None
    weight_gain_kg: float | None
    reason: str
    set_by_id: strawberry.ID
    set_at: datetime | None

    @classmethod
    def from_domain(cls, p: PersonalThresholds) -> PersonalHealthThresholds:
        values = {name: p.overrides.get(name) for name in NAMES}
        return cls(**values, reason=p.reason, set_by_id=strawberry.ID(p.set_by), set_at=p.set_at)


@strawberry.type(description="A person's thresholds: the agency's defaults, the person's own, and what is in force.")
class PersonHealthThresholds:
    person_id: strawberry.ID
    agency_defaults: HealthThresholds = strawberry.field(description="From the agency's incident policy.")
    personal: PersonalHealthThresholds | None = strawberry.field(description="Null: the person has none of their own.")
    effective: HealthThresholds = strawberry.field(description="What detection uses from the next reading on.")
    revision: int = strawberry.field(description="Give it as expectedRevision when you change them (0: never set).")

    @classmethod
    def from_domain(cls, v: ThresholdsView) -> PersonHealthThresholds:
        return cls(
            person_id=strawberry.ID(v.person_id),
            agency_defaults=HealthThresholds.from_domain(v.agency_defaults),
            personal=PersonalHealthThresholds.from_domain(v.personal) if v.personal else None,
            effective=HealthThresholds.from_domain(v.effective),
            revision=v.personal.revision if v.personal else 0,
        )


@strawberry.type(description="One health rule's record over the period.")
class HealthRuleStat:
    rule: str = strawberry.field(description='The rule: a family ("bp_crisis") or family and series ("trend:8480-6").')
    alerts: int = strawberry.field(description="Incidents it opened; readings joining an open one are not new alerts.")
    dispositioned: int = strawberry.field(description="Of those, closed with a say on whether actionable.")
    actionable: int
    ppv: float | None = strawberry.field(description="actionable / dispositioned; null before any disposition.")
    alerts_per_person_week: float | None
    repeats_answered: int = strawberry.field(
        description="Repeat requests a normal repeat answered, closed by the system: apart from alerts and PPV."
    )


@strawberry.type(description="Per health rule: alerts, the share actionable (PPV) and alerts per person-week.")
class HealthRuleStats:
    since: datetime
    until: datetime
    person_weeks: int = strawberry.field(description="Weeks of the period in which each person was measured.")
    rules: list[HealthRuleStat]

    @classmethod
    def from_domain(cls, s: DomainRuleStats) -> HealthRuleStats:
        return cls(
            since=s.start,
            until=s.end,
            person_weeks=s.person_weeks,
            rules=[
                HealthRuleStat(
                    rule=r.rule,
                    alerts=r.alerts,
                    dispositioned=r.dispositioned,
                    actionable=r.actionable,
                    ppv=r.ppv,
                    alerts_per_person_week=s.alerts_per_person_week(r),
                    repeats_answered=r.repeats_answered,
                )
                for r in s.rules
            ],
        )


@strawberry.type(description="One component's baseline and trend: the last 28 days, the person's first day discarded.")
class VitalSeries:
    code: str
    readings: int
    days: int
    median: float | None
    mad: float | None = strawberry.field(description="Median absolute deviation, before the floor detection applies.")
    baseline_active: bool = strawberry.field(description="12 readings on 4 days: the personal rules are on.")
    cusum: float = strawberry.field(description="The trend statistic now; a sustained change is flagged above 5.")
    trend_flagged: bool
    week_change: float | None = strawberry.field(description="The last 7 days' median minus the 28 days'.")

    @classmethod
    def from_domain(cls, s: SeriesState) -> VitalSeries:
        return cls(
            code=s.code,
            readings=s.readings,
            days=s.days,
            median=s.median,
            mad=s.mad,
            baseline_active=s.active,
            cusum=round(s.cusum, 2),
            trend_flagged=s.cusum > CUSUM_H,
            week_change=s.week_change,
        )


@strawberry.type(description="A metric measured in the last 28 days: the latest reading, baseline and trend.")
class VitalSummary:
    metric: VitalMetric
    code: str
    unit: str
    latest: Observation
    series: list[VitalSeries]

    @classmethod
    def from_domain(cls, m: MetricSummary) -> VitalSummary:
        return cls(
            metric=m.metric,
            code=m.metric.value,
            unit=m.latest.reading.unit,
            latest=Observation.from_domain(m.latest),
            series=[VitalSeries.from_domain(s) for s in m.series],
        )
