"""Seeded series of readings for the pure detection tests, and a replay that runs detection on each."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from carecore.health import detection
from carecore.health.models import (
    DIASTOLIC,
    SYSTOLIC,
    Component,
    Finding,
    Metric,
    Modality,
    Observation,
    ObservationStatus,
    Reading,
)
from carecore.ids import new_id

SEOUL = ZoneInfo("Asia/Seoul")
START = datetime(2026, 9, 1, 8, 0, tzinfo=SEOUL).astimezone(UTC)


def bp(at: datetime, systolic: float, diastolic: float, *, device: str = "cuff-1", person: str = "p") -> Observation:
    reading = Reading(
        person_id=person,
        metric=Metric.BLOOD_PRESSURE,
        components=(Component(SYSTOLIC, systolic), Component(DIASTOLIC, diastolic)),
        unit="mm[Hg]",
        effective_at=at,
        modality=Modality.SENSED,
        device_id=device,
    )
    return Observation(new_id(), "agency", reading, ObservationStatus.ACCEPTED, at, "recorder")


def single(metric: Metric, at: datetime, value: float, unit: str, *, device: str = "dev-1") -> Observation:
    reading = Reading("p", metric, (Component(metric.value, value),), unit, at, Modality.SENSED, device_id=device)
    return Observation(new_id(), "agency", reading, ObservationStatus.ACCEPTED, at, "recorder")


def twice_daily(days: int, systolic: Callable[[int], float], *, seed: int = 7) -> list[Observation]:
    """Readings at 08:00 and 20:00 Seoul time for `days` days; `systolic(day)` is the day's true mean."""
    rng = random.Random(seed)
    series = []
    for day in range(days):
        for hours in (0, 12):
            at = START + timedelta(days=day, hours=hours)
            s = round(systolic(day) + rng.gauss(0, 5))
            series.append(bp(at, s, round(s * 0.62 + rng.gauss(0, 3))))
    return series


def replay(series: list[Observation], *, co2_retainer: bool = False) -> list[tuple[int, tuple[Finding, ...]]]:
    """Detection on each reading in arrival order, as the service runs it: (day index, findings)."""
    out = []
    first = series[0].reading.effective_at
    for i, current in enumerate(series):
        person = detection.Person(SEOUL, co2_retainer, first)
        found = detection.detect(series[:i], current, person)
        out.append(((current.reading.effective_at - START).days, found))
    return out
