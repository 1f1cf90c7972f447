"""Detection: pure functions of (history, reading) in three layers, each with its own rule family.

1. Guideline safety rules, always on. CRITICAL only when a second reading within 10 minutes agrees (a
   repeat, or another source); a single reading is HIGH and asks for a repeat.
2. A personal baseline per series: median and MAD of the 28 days before the reading, active after 12
   valid readings on 4 days with the person's first day of measuring discarded (ESH home monitoring);
   robust z = (x - median) / (1.4826 · max(MAD, floor)).
3. Trends: a one-sided CUSUM (k = 0.5, h = 5, reset after it fires) on the z of each local day's mean,
   clipped at 3, each day against the baseline before its first reading; weight: the 7-day median 2 kg
   above the 28-day one. A day, not a reading, is the CUSUM's step: on readings, k = 0.5 and h = 5 give
   an in-control run length of a few hundred readings, weeks for someone measuring twice a day; a day's
   mean of two readings has a smaller spread, so a stable series runs for years between false trends,
   while a sustained rise moves every day's mean and is still found within days. A series measured once a
   day (heart rate) would step on single readings again, so there two single-reading days make one step.
Baseline and trend findings are MEDIUM; the stress index never raises anything above MEDIUM.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left, bisect_right, insort
from collections import Counter
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
from carecore.health.rules import SAME_MOMENT
from carecore.health.thresholds import DEFAULT_THRESHOLDS, Thresholds
from carecore.vocabulary import Severity

CONFIRM_WITHIN = timedelta(minutes=10)
BASELINE_WINDOW = timedelta(days=28)
MIN_READINGS, MIN_DAYS = 12, 4
MAD_SCALE = 1.4826  # makes the MAD estimate a normal standard deviation
BASELINE_Z = 3.0  # two readings in a row this far out raise a baseline finding
CUSUM_K, CUSUM_H = 0.5, 5.0
MIN_STEP_READINGS = 2  # a CUSUM step of one reading keeps a reading's full spread: see `_steps`
CUSUM_CLIP = 3.0  # one day adds at most 2.5: a trend takes several days, a spike is the other rules' job
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


def _median(values: Sequence[float]) -> float:
    """The median of values already sorted."""
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def _mad(values: Sequence[float], median: float) -> float:
    """The median absolute deviation of sorted values: the deviations below and above the median are
    each sorted already, so merging them from the middle outwards reaches the median deviation in n/2 steps."""
    n = len(values)
    below, above = bisect_left(values, median) - 1, bisect_left(values, median)
    wanted = (n - 1) // 2, n // 2  # ranks of the median deviation (equal when n is odd)
    found: list[float] = []
    for rank in range(wanted[1] + 1):
        if above < n and (below < 0 or values[above] - median <= median - values[below]):
            deviation = values[above] - median
            above += 1
        else:
            deviation = median - values[below]
            below -= 1
        if rank >= wanted[0]:
            found.append(deviation)
    return sum(found) / len(found)


def _baseline(values: Sequence[float], days: Counter[date], floor: float) -> Baseline | None:
    """From the window's sorted values and readings per day; None until 12 readings on 4 days."""
    if len(values) < MIN_READINGS or len(days) < MIN_DAYS:
        return None
    median = _median(values)
    return Baseline(median, MAD_SCALE * max(_mad(values, median), floor), len(values), len(days))


class Series:
    """One component's points, oldest first, with their local days worked out once.

    Every baseline is a slice found by bisection, so a reading costs O(w log w) per baseline for the w
    readings of 28 days, whatever the length of the history: detection stays linear in history length.
    """

    def __init__(self, points: Sequence[Point], person: Person) -> None:
        self.points = points
        self.times = [p.at for p in points]
        self.days = [_day(p.at, person.tz) for p in points]
        self.first_day = _day(person.first_measured_at, person.tz) if person.first_measured_at else None

    def baseline(self, at: datetime, floor: float) -> Baseline | None:
        """The baseline of the 28 days before `at`; None until 12 readings on 4 days, first day discarded."""
        lo, hi = bisect_left(self.times, at - BASELINE_WINDOW), bisect_left(self.times, at)
        kept = [i for i in range(lo, hi) if self.days[i] != self.first_day]
        values = sorted(self.points[i].value for i in kept)
        return _baseline(values, Counter(self.days[i] for i in kept), floor)

    def baselines(self, start: int, stop: int, floor: float) -> list[Baseline | None]:
        """The baseline at each of points[start:stop], sliding one window along instead of re-reading it
        for every point: each reading enters and leaves the sorted window once."""
        window: list[float] = []
        days: Counter[date] = Counter()
        lo = hi = bisect_left(self.times, self.times[start] - BASELINE_WINDOW) if start < stop else 0
        found: list[Baseline | None] = []
        for i in range(start, stop):
            at = self.times[i]
            while hi < len(self.points) and self.times[hi] < at:
                if self.days[hi] != self.first_day:
                    insort(window, self.points[hi].value)
                    days[self.days[hi]] += 1
                hi += 1
            while self.times[lo] < at - BASELINE_WINDOW:
                if self.days[lo] != self.first_day:
                    window.pop(bisect_left(window, self.points[lo].value))
                    days[self.days[lo]] -= 1
                    if not days[self.days[lo]]:
                        del days[self.days[lo]]
                lo += 1
            found.append(_baseline(window, days, floor))
        return found

    def current_index(self) -> int:
        return next(i for i in range(len(self.points) - 1, -1, -1) if self.points[i].current)


def baseline_at(points: Sequence[Point], at: datetime, person: Person, floor: float) -> Baseline | None:
    """The baseline of the 28 days before `at`; None until 12 readings on 4 days, first day discarded."""
    return Series(points, person).baseline(at, floor)


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


@dataclass(frozen=True, slots=True)
class Unconfirmed:
    """A repeat request its repeat answered: `asked`'s unconfirmed guideline finding of `family`, and a
    later reading, `repeat`, that does not break the rule."""

    family: RuleFamily
    asked: Observation
    repeat: Observation


def _is_repeat(earlier: Reading, later: Reading) -> bool:
    """A second measurement after `earlier` within CONFIRM_WITHIN, later than a same-moment copy could be."""
    return SAME_MOMENT < later.effective_at - earlier.effective_at <= CONFIRM_WITHIN


def unconfirmed(
    history: Sequence[Observation], current: Observation, findings: Sequence[Finding], person: Person
) -> list[Unconfirmed]:
    """The repeat requests answered by a normal repeat, one side of each being the current reading: an
    earlier reading's request the current one answers, or the current reading's own when its repeat
    arrived first (out of order, or its evaluation died and is finished later). `findings` are the
    current reading's; a history reading's are those stored when it was evaluated (none before)."""
    found = []
    reading = current.reading
    history = [h for h in history if h.id != current.id and h.reading.metric is reading.metric]
    breaks = {family for family, _, _ in guideline_families(reading, person)}
    for h in history:
        if _is_repeat(h.reading, reading):
            found += [
                Unconfirmed(f.family, h, current) for f in h.findings if not f.confirmed and f.family not in breaks
            ]
    for f in findings:
        if f.confirmed:
            continue
        for h in history:
            if _is_repeat(reading, h.reading) and f.family not in {
                g for g, _, _ in guideline_families(h.reading, person)
            }:
                found.append(Unconfirmed(f.family, current, h))
                break
    return found


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


def _z(base: Baseline | None, value: float, code: str) -> float | None:
    return None if base is None else base.z(value, WORSE.get(code, 1.0))


def cusum_fires(zs: Sequence[float | None]) -> bool:
    """Whether the one-sided CUSUM crosses h at the last z (it restarts after each crossing); `zs` are the
    z of the day means of the last 28 days up to the current reading's day (None: no baseline that day)."""
    return _cusum(zs)[1]


def _cusum(zs: Sequence[float | None]) -> tuple[float, bool]:
    """The CUSUM after the last z, and whether it crossed h there; a crossing before restarts it."""
    total = 0.0
    last = len(zs) - 1
    for offset, z in enumerate(zs):
        if z is None:
            total = 0.0
            continue
        total = max(0.0, total + min(z, CUSUM_CLIP) - CUSUM_K)
        if total > CUSUM_H:
            if offset == last:
                return total, True
            total = 0.0
    return total, False


# Baselines of earlier readings by (component, time, value): see `detect`.
Memo = dict[tuple[str, datetime, float], Baseline | None]


def _bases(series: Series, code: str, indices: Sequence[int], memo: Memo | None) -> list[Baseline | None]:
    """The baseline at each of the points at `indices` (ascending), each at its own time."""
    floor = MAD_FLOOR[code]
    if not indices:
        return []
    if memo is None:
        every = series.baselines(indices[0], indices[-1] + 1, floor)
        return [every[i - indices[0]] for i in indices]
    found = []
    for i in indices:
        point = series.points[i]
        key = (code, point.at, point.value)
        if key not in memo:
            memo[key] = series.baseline(point.at, floor)
        found.append(memo[key])
    return found


def _steps(series: Series, start: int, stop: int) -> list[tuple[int, int]]:
    """The CUSUM's steps over points[start:stop], as (first, after) index ranges: a local day each, except
    that a day of a single reading shares its step with the measured day before it when that one is single
    too, paired back from the last day. A series measured once a day (heart rate) thus steps on two
    readings, whose mean has 1/√2 of a reading's spread; a day measured twice (blood pressure) is its own
    step, and so is the day so far (a morning reading after a day of two), as before."""
    firsts = [i for i in range(start, stop) if i == start or series.days[i] != series.days[i - 1]]
    days = list(zip(firsts, [*firsts[1:], stop], strict=True))
    steps: list[tuple[int, int]] = []
    at = len(days) - 1
    while at >= 0:
        first, after = days[at]
        if after - first < MIN_STEP_READINGS and at and days[at - 1][1] - days[at - 1][0] < MIN_STEP_READINGS:
            first, at = days[at - 1][0], at - 1
        steps.append((first, after))
        at -= 1
    return steps[::-1]


def _day_zs(series: Series, code: str, stop: int, memo: Memo | None) -> list[float | None]:
    """The z of each step's mean (a day, or two single-reading days: `_steps`) over the 28 local days up to
    points[stop - 1]'s (that day so far), each against the baseline before the step's first reading: the
    step's readings are one observation."""
    if not stop:
        return []
    last_day = series.days[stop - 1]
    start = bisect_right(series.days, last_day - BASELINE_WINDOW, 0, stop)
    steps = _steps(series, start, stop)
    bases = _bases(series, code, [first for first, _ in steps], memo)
    worse = WORSE.get(code, 1.0)
    zs: list[float | None] = []
    for (first, after), base in zip(steps, bases, strict=True):
        mean = statistics.fmean(series.points[i].value for i in range(first, after))
        zs.append(None if base is None else base.z(mean, worse))
    return zs


def _personal(series: Series, code: str, memo: Memo | None) -> list[Finding]:
    index = series.current_index()
    findings = []
    # Each reading against the baseline at its time: the current one and the one before it.
    previous = [index - 1] if index else []
    *before, base = _bases(series, code, [*previous, index], memo)
    z = _z(base, series.points[index].value, code)
    z_before = _z(before[0], series.points[index - 1].value, code) if before else None
    if z is not None and z_before is not None and z >= BASELINE_Z and z_before >= BASELINE_Z:
        summary = f"Two readings in a row far from this person's usual {code} (z = {z:.1f})."
        findings.append(Finding(RuleFamily.BASELINE, code, Severity.MEDIUM, summary))
    if cusum_fires(_day_zs(series, code, index + 1, memo)):
        summary = f"A sustained change in this person's {code} over the last days (CUSUM on daily means)."
        findings.append(Finding(RuleFamily.TREND, code, Severity.MEDIUM, summary))
    return findings


def _weight(series: Series, person: Person) -> list[Finding]:
    index = series.current_index()
    current = series.points[index]
    recent = [p.value for p in series.points[bisect_right(series.times, current.at - WEIGHT_WINDOW) : index + 1]]
    base = series.baseline(current.at, MAD_FLOOR[Metric.BODY_WEIGHT.value])
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


@dataclass(frozen=True, slots=True)
class SeriesState:
    """Where one component stands at a moment, for people to read: the window, its baseline, the trend."""

    code: str
    readings: int  # in the 28-day window, the person's first day discarded
    days: int
    median: float | None
    mad: float | None  # the raw median absolute deviation, before any floor
    active: bool  # 12 readings on 4 days: the baseline rules and the trend run
    cusum: float  # the one-sided CUSUM of daily means now (alerts above CUSUM_H)
    week_change: float | None  # the last 7 days' median minus the window's, in the component's unit


def series_state(points: Sequence[Point], person: Person, code: str, at: datetime) -> SeriesState:
    """The state of a series just after `at` (points oldest first; none marked current)."""
    series = Series(points, person)
    lo, hi = bisect_left(series.times, at - BASELINE_WINDOW), bisect_right(series.times, at)
    kept = [i for i in range(lo, hi) if series.days[i] != series.first_day]
    values = sorted(series.points[i].value for i in kept)
    days = len({series.days[i] for i in kept})
    median = _median(values) if values else None
    mad = _mad(values, median) if median is not None else None
    active = len(values) >= MIN_READINGS and days >= MIN_DAYS
    total = _cusum(_day_zs(series, code, hi, None))[0] if active else 0.0
    week = sorted(series.points[i].value for i in kept if series.times[i] > at - WEIGHT_WINDOW)
    change = _median(week) - median if week and median is not None else None
    return SeriesState(code, len(values), days, median, mad, active, total, change)


def detect(
    history: Sequence[Observation], current: Observation, person: Person, memo: Memo | None = None
) -> tuple[Finding, ...]:
    """What the rules find in an accepted reading, given the person's other accepted readings around it.

    A reading that breaks a safety rule raises no baseline finding too: one signal, one incident.
    `memo` (one per person and metric) keeps each reading's baseline for the next calls: only a replay of
    readings in time order may pass one, where a reading's baseline never changes after it arrived;
    the service, where readings arrive late, passes none.
    """
    reading = current.reading
    history = [h for h in history if h.id != current.id]  # the stored reading itself confirms nothing
    findings = _guideline(history, reading, person)
    for code in component_codes(reading.metric):
        series = Series(series_points(history, current, code), person)
        if code == Metric.BODY_WEIGHT.value:
            findings += _weight(series, person)
        elif code not in NO_BASELINE:
            personal = _personal(series, code, memo)
            if any(f.family is not RuleFamily.TREND for f in findings):
                personal = [f for f in personal if f.family is RuleFamily.TREND]
            findings += personal
    return tuple(_capped(f, reading.metric) for f in findings)
