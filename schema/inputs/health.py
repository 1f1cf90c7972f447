"""Inputs of vital-sign readings."""

from __future__ import annotations

from datetime import datetime

import strawberry

from carecore.health import models as m
from carecore.health.thresholds import NAMES
from schema.types.health import Modality, VitalMetric


@strawberry.input
class ObservationValueInput:
    code: str = strawberry.field(description="LOINC: 8480-6 and 8462-4 for the BP panel, else the metric's code.")
    value: float


@strawberry.input(description="A reading taken during a visit; resending it (same device and time) is harmless.")
class RecordObservationInput:
    person_id: strawberry.ID
    metric: VitalMetric
    values: list[ObservationValueInput]
    unit: str = strawberry.field(description="UCUM: mm[Hg], /min, %, kg, Cel, ms, or {score}.")
    effective_at: datetime
    modality: Modality = m.Modality.SELF_REPORTED
    device_id: str | None = strawberry.field(default=None, description="The cuff or oximeter, when one was used.")
    source_data_point_id: str | None = None

    def to_domain(self) -> m.Reading:
        return m.Reading(
            person_id=self.person_id,
            metric=m.Metric(self.metric),
            components=tuple(m.Component(v.code, v.value) for v in self.values),
            unit=self.unit,
            effective_at=self.effective_at,
            modality=m.Modality(self.modality),
            device_id=self.device_id,
            source_data_point_id=self.source_data_point_id,
        )


@strawberry.input(description="Thresholds of the safety rules; what is not given is not changed (or not set).")
class HealthThresholdsInput:
    crisis_systolic: float | None = None
    crisis_diastolic: float | None = None
    low_systolic: float | None = None
    low_spo2: float | None = None
    low_spo2_co2_retainer: float | None = None
    low_heart_rate: float | None = None
    high_heart_rate: float | None = None
    weight_gain_kg: float | None = None

    def given(self) -> dict[str, float]:
        return {name: value for name in NAMES if (value := getattr(self, name)) is not None}


@strawberry.input(description="A person's own thresholds: those given replace the agency's; the rest follow it.")
class SetHealthThresholdsInput:
    person_id: strawberry.ID
    thresholds: HealthThresholdsInput = strawberry.field(description="The whole set; empty: none of their own.")
    reason: str = strawberry.field(description="Why, e.g. the clinician's instruction; kept in the audit.")
    expected_revision: int = strawberry.field(description="The revision you read (0 when never set).")
