"""The quality gate before any detection rule: shape, units, plausibility, pulse pressure, duplicates. Pure."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from carecore import validation
from carecore.errors import ValidationFailed
from carecore.health.models import (
    DIASTOLIC,
    SYSTOLIC,
    UNITS,
    Metric,
    Reading,
    Rejection,
    RejectReason,
    component_codes,
)

MAX_ID = 200
SAME_MOMENT = timedelta(seconds=60)  # readings of one device this close are one reading when it sends no id
MIN_PULSE_PRESSURE = 10.0  # mmHg; below it the cuff mis-measured
FUTURE_TOLERANCE = timedelta(minutes=5)  # device clocks drift; a reading further ahead is a wrong clock

# Values outside these ranges are artefacts (a cuff off the arm, a finger probe in the light), not patients.
PLAUSIBLE: dict[str, tuple[float, float]] = {
    SYSTOLIC: (50, 300),
    DIASTOLIC: (20, 200),
    Metric.HEART_RATE.value: (20, 250),
    Metric.SPO2.value: (50, 100),
    Metric.BODY_WEIGHT.value: (2, 400),
    Metric.BODY_TEMPERATURE.value: (30, 45),
    Metric.HRV_SDNN.value: (1, 500),
    Metric.STRESS_INDEX.value: (0, 100),
}


def checked_reading(reading: Reading) -> Reading:
    """The reading if it is well formed; ValidationFailed (nothing stored) when it cannot be understood."""
    wanted = component_codes(reading.metric)
    codes = tuple(c.code for c in reading.components)
    if sorted(codes) != sorted(wanted):
        raise ValidationFailed(f"A {reading.metric.name} reading carries exactly {', '.join(wanted)}.", field="values")
    if not all(math.isfinite(c.value) for c in reading.components):
        raise ValidationFailed("Values must be finite numbers.", field="values")
    if reading.effective_at.tzinfo is None:
        raise ValidationFailed("effectiveAt needs a time zone.", field="effectiveAt")
    for name, value in (("deviceId", reading.device_id), ("sourceDataPointId", reading.source_data_point_id)):
        if value is not None:
            validation.text(value, name, max_len=MAX_ID, required=True)
    # In UTC at the database's millisecond precision, so a resent reading derives the same id.
    at = reading.effective_at.astimezone(UTC)
    return replace(reading, effective_at=at.replace(microsecond=at.microsecond // 1000 * 1000))


def quality_gate(reading: Reading, now: datetime) -> Rejection | None:
    """Why a well-formed reading cannot be trusted, or None: rejected readings are kept but never alert."""
    expected = UNITS[reading.metric]
    if reading.unit != expected:
        return Rejection(RejectReason.UNIT, f"{reading.metric.name} is accepted in {expected}, not {reading.unit}.")
    if reading.effective_at > now + FUTURE_TOLERANCE:
        return Rejection(RejectReason.FUTURE, "Measured in the future: the device's clock is wrong.")
    for c in reading.components:
        low, high = PLAUSIBLE[c.code]
        if not low <= c.value <= high:
            return Rejection(RejectReason.IMPLAUSIBLE, f"{c.code} = {c.value:g} is outside {low:g} to {high:g}.")
    systolic, diastolic = reading.value(SYSTOLIC), reading.value(DIASTOLIC)
    if systolic is not None and diastolic is not None and systolic - diastolic < MIN_PULSE_PRESSURE:
        pressure = systolic - diastolic
        return Rejection(
            RejectReason.PULSE_PRESSURE, f"Pulse pressure {pressure:g} mmHg is under {MIN_PULSE_PRESSURE:g}."
        )
    return None


def same_moment(a: Reading, a_source: str, b: Reading, b_source: str) -> bool:
    """Whether two readings are one measurement received twice.

    One source: within 60 s when either lacks the device's own id (with ids, the ids decide, elsewhere).
    Two sources: within 60 s with equal values, i.e. one measurement relayed by two apps or devices;
    different values from two sources are two measurements, and may confirm each other.
    """
    if a.person_id != b.person_id or a.metric is not b.metric:
        return False
    if abs(a.effective_at - b.effective_at) > SAME_MOMENT:
        return False
    if a_source == b_source:
        return a.source_data_point_id is None or b.source_data_point_id is None
    return sorted((c.code, c.value) for c in a.components) == sorted((c.code, c.value) for c in b.components)
