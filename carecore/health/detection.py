"""Detection: pure functions of (history, reading) in three layers, each with its own rule family.

1. Guideline safety rules, always on. CRITICAL only when a second reading within 10 minutes agrees (a
   repeat, or another source); a single reading is HIGH and asks for a repeat.
2. A personal baseline per series: median and MAD of the 28 days before the reading, active after 12
   valid readings on 4 days with the person's first day of measuring discarded (ESH home monitoring);
   robust z = (x - median) / (1.4826 · max(MAD, floor)).
3. Trends: a one-sided CUSUM on z clipped at 3 (k = 0.5, h = 5, reset after it fires), each z against
   the baseline at its own time; weight: the 7-day median 2 kg above the 28-day one.
Baseline and trend findings are MEDIUM; the stress index never raises anything above MEDIUM.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from carecore.health.models import (
    DIASTOLIC,
    SYSTOLIC,
    Finding,
    Metric,
    Observation,
    Reading,
    RuleFamily,
    component_codes,
)
from carecore.health.thresholds import DEFAULT_THRESHOLDS, Thresholds
from carecore.incidents.models import Severity

CONFIRM_WITHIN = timedelta(minutes=10)
BASELINE_WINDOW = timedelta(days=28)
MIN_READINGS, MIN_DAYS = 12, 4
MAD_SCALE = 1.4826  # makes the MAD estimate a normal standard deviation
BASELINE_Z = 3.0  # two readings in a row this far out raise a baseline finding
CUSUM_K, CUSUM_H = 0.5, 5.0
CUSUM_CLIP = 3.0  # one outlier adds at most 2.5: a trend takes several readings, a spike is the others' job
WEIGHT_WINDOW = timedelta(days=7)
MIN_WEIGHT_READINGS = 3
HISTORY = BASELINE_WINDOW * 2  # what detection needs before a reading: the CUSUM's baselines reach this far

# Floors on the MAD so a very steady series does not turn a trivial change into a large z.
MAD_FLOOR: dict[str, float] = {
    SYSTOLIC: 4.0,
    DIASTOLIC: 4.0,
    Metric.HEART_RATE.value: 3.0,
    Metric.SPO2.value: 1.0,
    Metric.BODY_WEIGHT.value: 0.3,
    Metric.BODY_TEMPERATURE.value: 0.2,
    Metric.HRV_SDNN.value: 5.0,
    Metric.STRESS_INDEX.value: 5.0,
}
# Which way is worse: oxygen and heart-rate variability falling, everything else rising.
WORSE: dict[str, float] = {Metric.SPO2.value: -1.0, Metric.HRV_SDNN.value: -1.0}
NO_BASELINE = frozenset({Metric.BODY_WEIGHT.value})  # weight has its own rule: day-to-day water is not a trend


@dataclass(frozen=True, slots=True)
class Point:
    at: datetime
    value: float
    current: bool = False


@dataclass(frozen=True, slots=True)
class Baseline:
    median: float
    scale: float  # 1.4826 · max(MAD, floor)
    readings: int
    days: int

    def z(self, value: float, worse: float = 1.0) -> float:
        return worse * (value - self.median) / self.scale


@dataclass(frozen=True, slots=True)
class Person:
    """What detection needs to know of the person: days in their agency's zone, and thresholds."""

    tz: ZoneInfo
    co2_retainer: bool = False
    first_measured_at: datetime | None = None  # their first accepted reading of this metric
    thresholds: Thresholds = DEFAULT_THRESHOLDS  # the agency's, or the person's own where a coordinator set them


def _day(at: datetime, tz: ZoneInfo) -> date:
    return at.astimezone(tz).date()


def baseline_at(points: Sequence[Point], at: datetime, person: Person, floor: float) -> Baseline | None:
    """The baseline of the 28 days before `at`; None until 12 readings on 4 days, first day discarded."""
    first_day = _day(person.first_measured_at, person.tz) if person.first_measured_at else None
    window = [p for p in points if at - BASELINE_WINDOW <= p.at < at and _day(p.at, person.tz) != first_day]
    days = {_day(p.at, person.tz) for p in window}
    if len(window) < MIN_READINGS or len(days) < MIN_DAYS:
        return None
    values = [p.value for p in window]
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    return Baseline(median, MAD_SCALE * max(mad, floor), len(window), len(days))


def guideline_families(reading: Reading, person: Person) -> list[tuple[RuleFamily, str, str]]:
    """The safety rules a reading breaks: (family, series, what it means)."""
    found: list[tuple[RuleFamily, str, str]] = []
    t = person.thresholds
    systolic, diastolic = reading.value(SYSTOLIC), reading.value(DIASTOLIC)
    if systolic is not None and diastolic is not None:
        if systolic > t.crisis_systolic or diastolic > t.crisis_diastolic:
            found.append((RuleFamily.BP_CRISIS, SYSTOLIC, f"Blood pressure {systolic:g}/{diastolic:g} mmHg: crisis"))
        if systolic <= t.low_systolic:
            found.append((RuleFamily.BP_LOW, SYSTOLIC, f"Blood pressure {systolic:g}/{diastolic:g} mmHg: low"))
    spo2 = reading.value(Metric.SPO2.value)
    limit = t.low_spo2_co2_retainer if person.co2_retainer else t.low_spo2
    if spo2 is not None and spo2 <= limit:
        found.append((RuleFamily.SPO2_LOW, Metric.SPO2.value, f"SpO2 {spo2:g}% (at or under {limit:g}%)"))
    rate = reading.value(Metric.HEART_RATE.value)
    if rate is not None and (rate <= t.low_heart_rate or rate >= t.high_heart_rate):
        found.append((RuleFamily.HEART_RATE, Metric.HEART_RATE.value, f"Resting heart rate {rate:g}/min"))
    return found


def _guideline(history: Sequence[Observation], reading: Reading, person: Person) -> list[Finding]:
    findings = []
    for family, series, meaning in guideline_families(reading, person):
        agreeing = [
            h
            for h in history
            if h.reading.metric is reading.metric
            and abs(h.reading.effective_at - reading.effective_at) <= CONFIRM_WITHIN
            and any(f == family for f, _, _ in guideline_families(h.reading, person))
        ]
        if agreeing:
            findings.append(Finding(family, series, Severity.CRITICAL, f"{meaning}, confirmed by a second reading."))
        else:
            repeat = f"{meaning}. Please repeat the measurement within 10 minutes."
            findings.append(Finding(family, series, Severity.HIGH, repeat, confirmed=False))
    return findings


def series_points(history: Sequence[Observation], current: Observation, code: str) -> list[Point]:
    """The series of one component, oldest first, with the current reading marked.

    The stress index is comparable only within one device, so its series keeps to the reading's source.
    """
    same = [h for h in history if h.reading.metric is current.reading.metric and h.id != current.id]
    if current.reading.metric is Metric.STRESS_INDEX:
        same = [h for h in same if h.source == current.source]
    points = [Point(h.reading.effective_at, value) for h in same if (value := h.reading.value(code)) is not None]
    mine = current.reading.value(code)
    if mine is not None:
        points.append(Point(current.reading.effective_at, mine, current=True))
    return sorted(points, key=lambda p: (p.at, p.current))


def baseline_z(points: Sequence[Point], point: Point, person: Person, code: str) -> float | None:
    base = baseline_at(points, point.at, person, MAD_FLOOR[code])
    return None if base is None else base.z(point.value, WORSE.get(code, 1.0))


def cusum_fires(points: Sequence[Point], person: Person, code: str) -> bool:
    """Whether the one-sided CUSUM crosses h at the current reading (it restarts after each crossing)."""
    index = next(i for i, p in enumerate(points) if p.current)
    current, total = points[index], 0.0
    for p in points[: index + 1]:
        if p.at <= current.at - BASELINE_WINDOW:
            continue
        z = baseline_z(points, p, person, code)
        if z is None:
            total = 0.0
            continue
        total = max(0.0, total + min(z, CUSUM_CLIP) - CUSUM_K)
        if total > CUSUM_H:
            if p is current:
                return True
            total = 0.0
    return False


def _previous(points: Sequence[Point]) -> Point | None:
    index = next(i for i, p in enumerate(points) if p.current)
    return points[index - 1] if index > 0 else None


def _personal(points: Sequence[Point], person: Person, code: str) -> list[Finding]:
    current = next(p for p in points if p.current)
    findings = []
    z = baseline_z(points, current, person, code)
    previous = _previous(points)
    z_before = baseline_z(points, previous, person, code) if previous else None
    if z is not None and z_before is not None and z >= BASELINE_Z and z_before >= BASELINE_Z:
        summary = f"Two readings in a row far from this person's usual {code} (z = {z:.1f})."
        findings.append(Finding(RuleFamily.BASELINE, code, Severity.MEDIUM, summary))
    if cusum_fires(points, person, code):
        summary = f"A sustained change in this person's {code} over the last days (CUSUM)."
        findings.append(Finding(RuleFamily.TREND, code, Severity.MEDIUM, summary))
    return findings


def _weight(points: Sequence[Point], person: Person) -> list[Finding]:
    current = next(p for p in points if p.current)
    recent = [p.value for p in points if current.at - WEIGHT_WINDOW < p.at <= current.at]
    base = baseline_at(points, current.at, person, MAD_FLOOR[Metric.BODY_WEIGHT.value])
    if base is None or len(recent) < MIN_WEIGHT_READINGS:
        return []
    gain = statistics.median(recent) - base.median
    if gain < person.thresholds.weight_gain_kg:
        return []
    summary = f"Weight up {gain:.1f} kg: the last 7 days' median over the 28 days' ({base.median:.1f} kg)."
    return [Finding(RuleFamily.WEIGHT_GAIN, Metric.BODY_WEIGHT.value, Severity.MEDIUM, summary)]


def _capped(finding: Finding, metric: Metric) -> Finding:
    if metric is Metric.STRESS_INDEX and finding.severity.rank > Severity.MEDIUM.rank:
        return Finding(finding.family, finding.series, Severity.MEDIUM, finding.summary, finding.confirmed)
    return finding


def detect(history: Sequence[Observation], current: Observation, person: Person) -> tuple[Finding, ...]:
    """What the rules find in an accepted reading, given the person's other accepted readings around it.

    A reading that breaks a safety rule raises no baseline finding too: one signal, one incident.
    """
    reading = current.reading
    history = [h for h in history if h.id != current.id]  # the stored reading itself confirms nothing
    findings = _guideline(history, reading, person)
    for code in component_codes(reading.metric):
        points = series_points(history, current, code)
        if code == Metric.BODY_WEIGHT.value:
            findings += _weight(points, person)
        elif code not in NO_BASELINE:
            personal = _personal(points, person, code)
            if any(f.family is not RuleFamily.TREND for f in findings):
                personal = [f for f in personal if f.family is RuleFamily.TREND]
            findings += personal
    return tuple(_capped(f, reading.metric) for f in findings)
