"""Inputs of vital-sign readings."""

from __future__ import annotations

from datetime import datetime

import strawberry

from carecore.health import models as m
from schema.types.health import Modality, VitalMetric


@strawberry.input
class ObservationValueInput:
    code: str = strawberry.field(description="LOINC: 8480-6 and 8462-4 for the BP panel, else the metric's code.")
    value: float


@strawberry.input(description="A reading taken during a visit; resending it (same device and time) is harmless.")
class RecordObservationInput:
    person_id: strawberry.ID
    metric: VitalMetric  # type: ignore[valid-type]
    values: list[ObservationValueInput]
    unit: str = strawberry.field(description="UCUM: mm[Hg], /min, %, kg, Cel, ms, or {score}.")
    effective_at: datetime
    modality: Modality = m.Modality.SELF_REPORTED  # type: ignore[valid-type]
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
