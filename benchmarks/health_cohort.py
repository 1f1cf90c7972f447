"""Vital-sign detection on a synthetic cohort: carecore's three layers against a fixed-threshold anchor.

Seeded and self-contained (no database): 500 people x 90 days, two blood pressure readings a day,
daily weight and heart rate, SpO2 for a third of them; within-person noise, missing days, device
duplicates (a copy resent seconds later, or relayed by a second app) and artefacts (a cuff off the
arm, a probe in the light). Injected events of known onset: crisis spikes (with the repeat a
caregiver takes), a 15 mmHg rise over 10 days, 2 kg in 3 days, SpO2 drops; and calm people with
naturally high but stable blood pressure, who should stay quiet.

Both detectors see the same readings after carecore's quality gate and same-moment dedupe (the
anchor would have its own gate; this keeps the comparison about the rules). carecore runs
`carecore.health.detection.detect` reading by reading, in time order, on the 56 days of history the
service reads (with the per-person memo a replay in time order may use; the first people are also
run without it, and must agree). The anchor is what a fixed-threshold programme does: every reading
at or over 140/90 (ACC/AHA stage 2), a crisis over 180/120, a weight 2 kg above any reading of the
3 days before, and (the same fixed guideline) SpO2 at or under 91 %.

An alert is an incident: findings of one (person, rule family) join the open incident, which a
coordinator is assumed to close 24 hours after it opened. The repeat protocol is modelled: for every
unconfirmed guideline finding (a HIGH "please repeat within 10 minutes" request) the person or the
caregiver takes the repeat 2-8 minutes later, drawn from the person's own distribution at that moment,
unless a reading already follows within 10 minutes (the crisis spikes carry their own repeat). A
normal repeat closes the request as carecore does (`detection.unconfirmed`, only an incident still
HIGH and standing on the asked reading): such a request is counted apart, not as an alert. The
anchor has no protocol and sees the cohort's readings only. An event is detected when an alert of its
metric opens within its window after onset; an alert is a true positive when it falls in the window
of an event of its person and metric. Figures: recall, median delay, alerts per person-week, PPV.
Goals: recall at least the anchor's, at most 0.5 alerts per person-week, zero alerts on stable
28-day series.

    python -m benchmarks.health_cohort
"""

from __future__ import annotations

import heapq
import os
import random
import statistics
import sys
import time
from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
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
from carecore.health.rules import quality_gate, same_moment
from carecore.incidents.models import Severity

SEED = 20261202
PEOPLE, DAYS = int(os.environ.get("BENCH_HEALTH_PEOPLE", "500")), 90
STABLE_SERIES = 100  # extra stable 28-day series, no events, for the zero-alert goal
SEOUL = ZoneInfo("Asia/Seoul")
START = datetime(2026, 6, 1, tzinfo=SEOUL)
INCIDENT_OPEN_FOR = timedelta(hours=24)
SPIKE_LASTS = timedelta(minutes=30)  # how long a crisis spike holds after it began
VERIFY_WITHOUT_MEMO = 10  # people whose detection also runs without the memo, to check it agrees
MAX_ALERTS_PER_PERSON_WEEK = 0.5
PROTOCOL = os.environ.get("BENCH_HEALTH_PROTOCOL", "1") != "0"  # 0: nobody takes the repeats asked for

BP_FAMILIES = {"bp_crisis", "bp_low", "baseline", "trend", "bp_high"}
WINDOWS = {  # how long after onset an alert still counts as finding the event
    "crisis": timedelta(days=1),
    "rise": timedelta(days=21),
    "weight": timedelta(days=10),
    "spo2": timedelta(days=3),
}


@dataclass
class Event:
    person: int
    kind: str  # crisis, rise, weight, spo2
    onset: datetime

    def matches(self, family: str, metric: Metric) -> bool:
        if self.kind in ("crisis", "rise"):
            return metric is Metric.BLOOD_PRESSURE and family.split(":")[0] in BP_FAMILIES
        if self.kind == "weight":
            return metric is Metric.BODY_WEIGHT
        return metric is Metric.SPO2


@dataclass
class Alert:
    person: int
    key: str
    metric: Metric
    at: datetime
    severity: str = ""  # carecore's: HIGH for a repeat request, raised to CRITICAL by a confirming repeat
    evidence: str = ""  # the id of the latest reading that joined it
    answered: bool = False  # a repeat request a normal repeat closed: not an alert


# Takes the repeat a request asks for: (metric, when, rng) -> a reading from the person's own distribution.
Retake = Callable[[Metric, datetime, random.Random], Reading]


@dataclass
class Cohort:
    readings: dict[int, list[Reading]] = field(default_factory=dict)
    retakes: dict[int, Retake] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    calm_high: set[int] = field(default_factory=set)


def _at(day: int, hour: float, rng: random.Random) -> datetime:
    return (START + timedelta(days=day, hours=hour, minutes=rng.uniform(-40, 40))).astimezone(UTC)


def _reading(person: int, metric: Metric, at: datetime, values: dict[str, float], unit: str, device: str) -> Reading:
    components = tuple(Component(code, round(v, 1)) for code, v in values.items())
    return Reading(str(person), metric, components, unit, at, Modality.SENSED, device_id=device)


def person_series(
    person: int, days: int, rng: random.Random, *, events: bool
) -> tuple[list[Reading], list[Event], bool, Retake]:
    """One person's readings (arrival order = time order, copies included), their events, and how they
    take a repeat when asked."""
    calm_high = rng.random() < 0.10
    systolic0 = rng.uniform(155, 168) if calm_high else rng.gauss(126, 9)
    heart0, weight0 = rng.gauss(72, 7), rng.gauss(64, 11)
    spo2_user = rng.random() < 1 / 3
    spo2_0 = rng.uniform(95, 98)
    missing = rng.uniform(0.03, 0.2)
    found: list[Event] = []
    kind = rng.choice(("crisis", "rise", "weight", "spo2" if spo2_user else "rise", None, None, None))
    if not events or calm_high:
        kind = None
    onset_day = rng.randint(35, days - 25) if kind else -1
    onset: datetime | None = None
    crisis: tuple[datetime, tuple[float, float]] | None = None  # when the spike began, and its level
    out: list[Reading] = []

    def add(reading: Reading) -> None:
        out.append(reading)
        if rng.random() < 0.03:  # the same measurement again: resent by the device, or relayed by a phone app
            copy_device = reading.device_id if rng.random() < 0.5 else "phone-app"
            later = reading.effective_at + timedelta(seconds=rng.uniform(5, 40))
            out.append(
                Reading(
                    reading.person_id,
                    reading.metric,
                    reading.components,
                    reading.unit,
                    later,
                    reading.modality,
                    device_id=copy_device,
                )
            )

    for day in range(days):
        if rng.random() < missing:
            continue
        rise = 0.0
        if kind == "rise" and day >= onset_day:
            rise = min(15.0, 1.5 * (day - onset_day + 1))
        for hour in (8, 20):
            at = _at(day, hour, rng)
            s = systolic0 + rise + rng.gauss(0, 7)
            d = s * 0.62 + rng.gauss(0, 4)
            if rng.random() < 0.01:  # artefacts: a cuff off the arm, a pulse pressure that cannot be
                s, d = rng.choice(((rng.uniform(300, 330), 80.0), (120.0, 116.0), (45.0, 30.0)))
            add(_reading(person, Metric.BLOOD_PRESSURE, at, {SYSTOLIC: s, DIASTOLIC: d}, "mm[Hg]", "cuff"))
            if kind == "crisis" and day == onset_day and hour == 8:
                onset = at
                spike = (rng.uniform(185, 200), rng.uniform(110, 125))
                crisis = (at, spike)
                # The spike, and the repeat the caregiver is asked for. Not 1 minute after the morning
                # reading: one cuff without ids within 60 s is one reading (`same_moment`), so the spike
                # vanished as its copy and the crisis was a single unconfirmed reading, found only while
                # a request that nobody answered counted as an alert.
                for minutes in (2, 7):
                    later = at + timedelta(minutes=minutes)
                    values = {SYSTOLIC: spike[0] + rng.gauss(0, 3), DIASTOLIC: spike[1] + rng.gauss(0, 2)}
                    add(_reading(person, Metric.BLOOD_PRESSURE, later, values, "mm[Hg]", "cuff"))
        at = _at(day, 8.2, rng)
        heart = heart0 + rng.gauss(0, 5) if rng.random() > 0.005 else 300.0  # 300: an artefact
        add(_reading(person, Metric.HEART_RATE, at, {Metric.HEART_RATE.value: heart}, "/min", "cuff"))
        gain = 0.0
        if kind == "weight" and day >= onset_day:
            gain = min(2.4, 0.8 * (day - onset_day + 1))
        weight = weight0 + gain + rng.gauss(0, 0.35)
        add(_reading(person, Metric.BODY_WEIGHT, _at(day, 7.5, rng), {Metric.BODY_WEIGHT.value: weight}, "kg", "scale"))
        if spo2_user:
            drop = kind == "spo2" and onset_day <= day < onset_day + 2
            spo2 = min(100.0, (rng.uniform(86, 90) if drop else spo2_0 + rng.gauss(0, 0.8)))
            spo2_at = _at(day, 9, rng)
            add(_reading(person, Metric.SPO2, spo2_at, {Metric.SPO2.value: round(spo2)}, "%", "oximeter"))
            if drop and day == onset_day:
                onset = spo2_at
        if kind in ("rise", "weight") and day == onset_day:
            onset = (START + timedelta(days=day)).astimezone(UTC)
    if kind and onset is not None:
        found.append(Event(person, kind, onset))
    out.sort(key=lambda r: r.effective_at)

    def retake(metric: Metric, at: datetime, r: random.Random) -> Reading:
        """The person's own distribution at `at`: their level (and any injected rise or drop) and noise."""
        day = (at.astimezone(SEOUL).date() - START.date()).days
        if metric is Metric.BLOOD_PRESSURE and crisis is not None and crisis[0] <= at <= crisis[0] + SPIKE_LASTS:
            # Still in the spike: a spike reading that came in under the limit leaves the next one
            # unconfirmed, and its repeat reads the spike, not the calm level (one crisis was lost so).
            values = {SYSTOLIC: crisis[1][0] + r.gauss(0, 3), DIASTOLIC: crisis[1][1] + r.gauss(0, 2)}
            unit, device = "mm[Hg]", "cuff"
        elif metric is Metric.BLOOD_PRESSURE:
            rise = min(15.0, 1.5 * (day - onset_day + 1)) if kind == "rise" and day >= onset_day else 0.0
            s = systolic0 + rise + r.gauss(0, 7)
            values, unit, device = {SYSTOLIC: s, DIASTOLIC: s * 0.62 + r.gauss(0, 4)}, "mm[Hg]", "cuff"
        elif metric is Metric.HEART_RATE:
            values, unit, device = {Metric.HEART_RATE.value: heart0 + r.gauss(0, 5)}, "/min", "cuff"
        elif metric is Metric.SPO2:
            drop = kind == "spo2" and onset_day <= day < onset_day + 2
            value = round(min(100.0, r.uniform(86, 90) if drop else spo2_0 + r.gauss(0, 0.8)))
            values, unit, device = {Metric.SPO2.value: value}, "%", "oximeter"
        else:
            raise ValueError(f"no guideline rule asks for a repeat of {metric}")
        return _reading(person, metric, at, values, unit, device)

    return out, found, calm_high, retake


def cohort(rng: random.Random) -> Cohort:
    c = Cohort()
    for person in range(PEOPLE):
        readings, events, calm_high, retake = person_series(person, DAYS, rng, events=True)
        c.readings[person] = readings
        c.retakes[person] = retake
        c.events += events
        if calm_high:
            c.calm_high.add(person)
    return c


def gated(readings: list[Reading]) -> Iterator[Observation]:
    """The readings carecore accepts: the quality gate, then one of each same-moment copy."""
    accepted: dict[Metric, list[Observation]] = defaultdict(list)
    for n, r in enumerate(readings):
        if quality_gate(r, r.effective_at) is not None:
            continue
        source = r.device_id or "manual"
        recent = accepted[r.metric][-3:]
        if any(same_moment(r, source, o.reading, o.source) for o in recent):
            continue
        observation = Observation(
            f"{r.person_id}-{n}", "agency", r, ObservationStatus.ACCEPTED, r.effective_at, "bench"
        )
        accepted[r.metric].append(observation)
        yield observation


@dataclass
class Found:
    """What a detector found in a reading: findings' keys and severities, and (carecore) what it found
    already and which repeat requests the reading answered (`detection.unconfirmed`)."""

    keys: list[tuple[str, str]]  # (key, severity)
    findings: tuple[Finding, ...] = ()
    answered: list[tuple[str, str]] = field(default_factory=list)  # (key, the asked reading's id)


Detector = Callable[[list[Observation], Observation], Found]


def carecore_detector(memo: bool) -> Callable[[], Detector]:
    def make() -> Detector:
        first: dict[Metric, datetime] = {}
        memos: dict[Metric, detection.Memo] = defaultdict(dict)

        def run(history: list[Observation], current: Observation) -> Found:
            metric = current.reading.metric
            first.setdefault(metric, current.reading.effective_at)
            person = detection.Person(SEOUL, first_measured_at=first[metric])
            found = detection.detect(history, current, person, memos[metric] if memo else None)
            answered = detection.unconfirmed(history, current, found, person)
            return Found(
                [(f.key, f.severity.value) for f in found], found, [(u.family.value, u.asked.id) for u in answered]
            )

        return run

    return make


def anchor_detector() -> Detector:
    def run(history: list[Observation], current: Observation) -> Found:
        r, at = current.reading, current.reading.effective_at
        found = []
        s, d = r.value(SYSTOLIC), r.value(DIASTOLIC)
        if s is not None and d is not None:
            if s > 180 or d > 120:
                found.append("bp_crisis")
            elif s >= 140 or d >= 90:
                found.append("bp_high")
        spo2 = r.value(Metric.SPO2.value)
        if spo2 is not None and spo2 <= 91:
            found.append("spo2_low")
        weight = r.value(Metric.BODY_WEIGHT.value)
        if weight is not None:
            before = [
                h.reading.value(Metric.BODY_WEIGHT.value) or 0
                for h in history
                if at - timedelta(days=3) <= h.reading.effective_at < at
            ]
            if before and weight - min(before) >= 2.0:
                found.append("weight_gain")
        return Found([(key, "") for key in found])

    return run


def alerts_of(
    person: int, observations: list[Observation], detector: Detector, retake: Retake | None = None
) -> tuple[list[Alert], tuple[int, int]]:
    """Runs a detector reading by reading; findings join the open incident of their key. With `retake`,
    every unconfirmed guideline finding without a reading of its metric in the next 10 minutes gets its
    repeat, taken 2-8 minutes later; a normal repeat closes the request. Returns the incidents (answered
    requests marked), how many repeats were taken and how many of those confirmed their request."""
    by_metric: dict[Metric, list[Observation]] = defaultdict(list)
    times: dict[Metric, list[datetime]] = defaultdict(list)
    coming: dict[Metric, list[datetime]] = defaultdict(list)  # every reading's time, for "a repeat is coming"
    for o in observations:
        coming[o.reading.metric].append(o.reading.effective_at)
    queue = [(o.reading.effective_at, n, o) for n, o in enumerate(observations)]
    heapq.heapify(queue)
    rng = random.Random(SEED * 1000 + person)  # the repeats' own, so plain and memo runs take the same
    opened: dict[str, Alert] = {}
    alerts = []
    retaken = confirmed = 0
    while queue:
        at, _, o = heapq.heappop(queue)
        metric = o.reading.metric
        series = by_metric[metric]
        history = series[bisect_left(times[metric], at - detection.HISTORY) :]
        found = detector(history, o)
        for key, severity in found.keys:
            current = opened.get(key)
            if current is None or at - current.at >= INCIDENT_OPEN_FOR:
                opened[key] = Alert(person, key, metric, at, severity, o.id)
                alerts.append(opened[key])
            else:  # joins the open incident as its latest evidence, raising it if more urgent
                current.evidence = o.id
                if severity == Severity.CRITICAL.value and current.severity != severity:
                    current.severity = severity
                    confirmed += o.id.endswith("-repeat")
        for key, asked in found.answered:
            current = opened.get(key)
            if current is not None and current.severity == Severity.HIGH.value and current.evidence == asked:
                current.answered = True
                del opened[key]
        if retake is not None and any(not f.confirmed for f in found.findings):
            times_of = coming[metric]
            later = bisect_left(times_of, at + timedelta(seconds=61))
            if later == len(times_of) or times_of[later] > at + detection.CONFIRM_WITHIN:
                when = at + timedelta(minutes=rng.uniform(2, 8))
                reading = retake(metric, when, rng)
                repeat = Observation(f"{o.id}-repeat", "agency", reading, ObservationStatus.ACCEPTED, when, "bench")
                heapq.heappush(queue, (when, len(observations) + retaken, repeat))
                insort(times_of, when)
                retaken += 1
        series.append(replace(o, findings=found.findings))
        times[metric].append(at)
    return alerts, (retaken, confirmed)


@dataclass
class Score:
    name: str
    alerts: int = 0
    true_alerts: int = 0
    detected: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    delays: list[float] = field(default_factory=list)  # hours
    kind_delays: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    calm_high_alerts: int = 0
    stable_alerts: int = 0
    stable_series_alerting: int = 0
    stable_rules: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # The repeat protocol (carecore's only): requests a normal repeat closed, not counted as alerts above.
    retaken: int = 0  # repeats taken because a request asked for one
    confirmed_by_repeat: int = 0  # requests a taken repeat confirmed: CRITICAL, alerts
    answered: int = 0
    answered_true: int = 0  # of those, in the window of an event of the person and metric
    stable_answered: int = 0

    def recall(self, events: list[Event]) -> float:
        return sum(self.detected.values()) / len(events)

    def per_person_week(self) -> float:
        return self.alerts / (PEOPLE * DAYS / 7)

    def ppv(self) -> float:
        return self.true_alerts / self.alerts if self.alerts else 0.0


def score(
    name: str,
    c: Cohort,
    stable: dict[int, list[Observation]],
    gated_readings: dict[int, list[Observation]],
    make: Callable[[], Detector],
    retakes: dict[int, Retake],
) -> tuple[Score, dict[int, list[Alert]]]:
    result = Score(name)
    events_of: dict[int, list[Event]] = defaultdict(list)
    for e in c.events:
        events_of[e.person].append(e)
    every: dict[int, list[Alert]] = {}
    for person, observations in gated_readings.items():
        incidents, (retaken, confirmed) = alerts_of(person, observations, make(), retakes.get(person))
        every[person] = incidents
        result.confirmed_by_repeat += confirmed
        alerts = [a for a in incidents if not a.answered]
        result.retaken += retaken
        for a in incidents:
            if a.answered:
                result.answered += 1
                result.answered_true += any(
                    e.matches(a.key, a.metric) and e.onset <= a.at <= e.onset + WINDOWS[e.kind]
                    for e in events_of[person]
                )
        result.alerts += len(alerts)
        if person in c.calm_high:
            result.calm_high_alerts += len(alerts)
        for a in alerts:
            if any(
                e.matches(a.key, a.metric) and e.onset <= a.at <= e.onset + WINDOWS[e.kind] for e in events_of[person]
            ):
                result.true_alerts += 1
        for e in events_of[person]:
            hits = [a.at for a in alerts if e.matches(a.key, a.metric) and e.onset <= a.at <= e.onset + WINDOWS[e.kind]]
            if hits:
                result.detected[e.kind] += 1
                result.delays.append((min(hits) - e.onset).total_seconds() / 3600)
                result.kind_delays[e.kind].append(result.delays[-1])
    for person, observations in stable.items():
        incidents, (retaken, confirmed) = alerts_of(person, observations, make(), retakes.get(person))
        result.confirmed_by_repeat += confirmed
        found = [a for a in incidents if not a.answered]
        result.retaken += retaken
        result.stable_answered += len(incidents) - len(found)
        result.stable_alerts += len(found)
        result.stable_series_alerting += bool(found)
        for a in found:
            result.stable_rules[a.key] += 1
    return result, every


def main() -> int:
    rng = random.Random(SEED)
    began = time.perf_counter()
    c = cohort(rng)
    stable_rng = random.Random(SEED + 1)
    stable: dict[int, list[Observation]] = {}
    retakes = dict(c.retakes) if PROTOCOL else {}
    for i in range(STABLE_SERIES):
        series, _, _, retake = person_series(PEOPLE + i, 28, stable_rng, events=False)
        stable[PEOPLE + i] = list(gated(series))
        if PROTOCOL:
            retakes[PEOPLE + i] = retake
    readings = {p: list(gated(rs)) for p, rs in c.readings.items()}
    raw = sum(len(rs) for rs in c.readings.values())
    accepted = sum(len(rs) for rs in readings.values())
    print(
        f"cohort: {PEOPLE} people x {DAYS} days, {raw} readings sent, {accepted} accepted after the gate "
        f"and dedupe; {len(c.events)} events; {len(c.calm_high)} calm people with high baselines",
        flush=True,
    )

    detect_began = time.perf_counter()
    ours, our_alerts = score("carecore", c, stable, readings, carecore_detector(memo=True), retakes)
    detect_seconds = time.perf_counter() - detect_began
    anchor, _ = score("anchor", c, stable, readings, anchor_detector, {})
    plain = {
        p: alerts_of(p, readings[p], carecore_detector(memo=False)(), retakes.get(p))[0]
        for p in list(readings)[:VERIFY_WITHOUT_MEMO]
    }
    memo_agrees = all(
        [(a.key, a.at, a.answered) for a in plain[p]] == [(a.key, a.at, a.answered) for a in our_alerts[p]]
        for p in plain
    )

    kinds = sorted({e.kind for e in c.events})
    counts = {k: sum(1 for e in c.events if e.kind == k) for k in kinds}
    for s in (ours, anchor):
        per_kind = ", ".join(
            f"{k} {s.detected[k]}/{counts[k]} in {statistics.median(s.kind_delays[k]) if s.kind_delays[k] else 0:.0f} h"
            for k in kinds
        )
        delay = statistics.median(s.delays) if s.delays else float("nan")
        print(
            f"{s.name:>8}: recall {s.recall(c.events):.3f} ({per_kind}); median delay {delay:.1f} h; "
            f"{s.per_person_week():.3f} alerts/person-week; PPV {s.ppv():.3f}; "
            f"{s.calm_high_alerts} alerts on calm high-baseline people; "
            f"{s.stable_alerts} alerts on {STABLE_SERIES} stable 28-day series ({s.stable_series_alerting} series "
            f"alerted; {dict(sorted(s.stable_rules.items()))})"
        )
    print(
        f"carecore repeat requests answered by a normal repeat and closed (not alerts): {ours.answered} "
        f"({ours.answered / (PEOPLE * DAYS / 7):.3f}/person-week; {ours.answered_true} of them in an event's "
        f"window), {ours.stable_answered} on the stable series; {ours.retaken} repeats taken when asked, "
        f"{ours.confirmed_by_repeat} of them confirming (CRITICAL: alerts); protocol modelled: {PROTOCOL}"
    )
    per_reading_ms = detect_seconds * 1000 / (accepted + sum(len(v) for v in stable.values()))
    print(
        f"carecore detection: {per_reading_ms:.2f} ms a reading (memo agrees with plain detection on "
        f"{len(plain)} people: {memo_agrees}); whole run {time.perf_counter() - began:.0f} s"
    )

    checks = {
        "recall at least the anchor's": ours.recall(c.events) >= anchor.recall(c.events),
        f"at most {MAX_ALERTS_PER_PERSON_WEEK} alerts per person-week": ours.per_person_week()
        <= MAX_ALERTS_PER_PERSON_WEEK,
        "no alert on stable 28-day series": ours.stable_alerts == 0,
        "the memo changes nothing": memo_agrees,
    }
    for name, ok in checks.items():
        print(f"  {'ok ' if ok else 'MISSED'} {name}")
    return 0 if all(checks.values()) else 1


async def run(uri: str) -> bool:  # self-contained: `uri` only for the common signature of `make bench`
    return main() == 0


if __name__ == "__main__":
    sys.exit(main())
