"""A person's vitals at a glance, for staff and for family whose guardian link allows `health`: per metric
the latest reading, the personal baseline (median and MAD, active or not) and the trend."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from carecore.access.policy import can_see_part
from carecore.access.principal import Principal
from carecore.agencies.service import get_agency
from carecore.audit.service import record
from carecore.errors import NotFound
from carecore.health import detection
from carecore.health.models import Metric, Observation, component_codes
from carecore.ids import is_valid_id
from carecore.ports import Ports
from carecore.vocabulary import GuardianPermission


@dataclass(frozen=True, slots=True)
class MetricSummary:
    metric: Metric
    latest: Observation
    series: tuple[detection.SeriesState, ...]  # one per component (the BP panel: systolic, diastolic)


async def health_summary(ports: Ports, actor: Principal, person_id: str) -> list[MetricSummary]:
    """Per metric measured in the last 28 days: the latest reading, baseline and trend of each component."""
    person = await ports.store.people.get(person_id) if is_valid_id(person_id) else None
    if person is None or not can_see_part(actor, person, GuardianPermission.HEALTH):
        raise NotFound("Person", person_id, field="personId")
    now = ports.clock.now()
    agency = await get_agency(ports, person.agency_id)
    # Twice the window: the trend weighs each reading of the last 28 days against the 28 days before it.
    store = ports.store.observations
    readings = await store.accepted_for_person(person.agency_id, person.id, now - detection.HISTORY, now)
    by_metric: dict[Metric, list[Observation]] = defaultdict(list)
    for o in readings:
        by_metric[o.reading.metric].append(o)
    found = []
    for metric, observations in sorted(by_metric.items(), key=lambda item: list(Metric).index(item[0])):
        if observations[-1].reading.effective_at < now - detection.BASELINE_WINDOW:
            continue
        first = await store.first_accepted_at(person.agency_id, person.id, metric)
        subject = detection.Person(ZoneInfo(agency.timezone), person.profile.co2_retainer, first)
        series = []
        for code in component_codes(metric):
            points = [
                detection.Point(o.reading.effective_at, value)
                for o in observations
                if (value := o.reading.value(code)) is not None
            ]
            series.append(detection.series_state(points, subject, code, now))
        found.append(MetricSummary(metric, observations[-1], tuple(series)))
    await record(ports, actor, "health_summary.read", "Person", [person.id])
    return found
