"""Vital-sign readings as the API shows them: the LOINC codes and UCUM unit as received, and what was found."""

from __future__ import annotations

from datetime import datetime

import strawberry

from carecore.health import models as m
from schema.types.incidents import Severity

VitalMetric = strawberry.enum(m.Metric, name="VitalMetric", description="By LOINC code (`code` on a reading).")
Modality = strawberry.enum(m.Modality, name="ObservationModality")
ObservationStatus = strawberry.enum(m.ObservationStatus, name="ObservationStatus")
RejectReason = strawberry.enum(m.RejectReason, name="ObservationRejectReason")
RuleFamily = strawberry.enum(m.RuleFamily, name="HealthRuleFamily")
IngestOutcome = strawberry.enum(m.IngestOutcome, name="ObservationOutcome")


@strawberry.type(description="One value of a reading: the BP panel has 8480-6 (systolic) and 8462-4 (diastolic).")
class ObservationValue:
    code: str
    value: float


@strawberry.type
class ObservationRejection:
    reason: RejectReason  # type: ignore[valid-type]
    detail: str


@strawberry.type(description="A rule that fired on the reading; it opened or joined `incidentIds`.")
class HealthFinding:
    family: RuleFamily  # type: ignore[valid-type]
    series: str
    severity: Severity  # type: ignore[valid-type]
    summary: str
    confirmed: bool = strawberry.field(description="Safety rules: false until a repeat or a second source agrees.")


@strawberry.type
class Observation:
    id: strawberry.ID
    person_id: strawberry.ID
    metric: VitalMetric  # type: ignore[valid-type]
    code: str
    values: list[ObservationValue]
    unit: str
    effective_at: datetime
    received_at: datetime
    modality: Modality  # type: ignore[valid-type]
    device_id: str | None
    source_data_point_id: str | None
    recorded_by_id: strawberry.ID
    status: ObservationStatus = strawberry.field(description="REJECTED readings never alert and never count.")  # type: ignore[valid-type]
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
