"""Vital-sign readings: two doors (a caregiver's GraphQL mutation, a device service's signed webhook) onto
one core that stores each reading, gates its quality, runs detection and opens incidents.

The order of writes is what makes a crash harmless:
1. the audit entries, PENDING, for the whole batch;
2. the batch's readings in one insert, each under an id derived from its source (a retry finds it) and
   with `evaluate_due_at` set;
3. per reading, same-moment copies settled: of readings that are one measurement, the senior stays accepted;
4. each finding's incident, through the incidents module's opening (idempotent by reading and rule);
   then each repeat request the reading answers normal (an earlier reading's, or its own when its repeat
   came first) closed by the system in one conditional update (`close_unconfirmed_incident`);
5. the reading marked evaluated (`evaluate_due_at` cleared): one with findings at once, those that
   found nothing together at the end of the request.
A reading left between 2 and 5 is evaluated again by a retry of the request or, after a minute, by the
`health-evaluations` background job; every step is idempotent, so running it twice changes nothing.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from carecore.access.policy import can_see_part, can_see_person, require_role
from carecore.access.principal import Principal, Role
from carecore.agencies.service import get_agency
from carecore.audit.service import audited, record
from carecore.errors import AlreadyExists, NotFound, ValidationFailed
from carecore.health import detection
from carecore.health.models import (
    Finding,
    IngestOutcome,
    IngestResult,
    Metric,
    Observation,
    ObservationStatus,
    Reading,
)
from carecore.health.personal_thresholds import in_force, thresholds_for
from carecore.health.rules import SAME_MOMENT, checked_reading, quality_gate, same_moment
from carecore.health.thresholds import Thresholds
from carecore.ids import id_for_key, is_valid_id
from carecore.incidents.models import HEALTH_DETECTOR_SERVICE, AiService, Detection, Evidence, Signal
from carecore.incidents.opening import Opening, open_incident
from carecore.incidents.policies import policy_for
from carecore.incidents.policy import IncidentPolicy
from carecore.incidents.service import close_unconfirmed_incident
from carecore.pagination import Page, PageRequest
from carecore.people.models import ExternalRef, Person
from carecore.ports import Ports
from carecore.vocabulary import GuardianPermission, IncidentSource, IncidentType

MAX_BATCH = 1000
EVALUATION_GRACE = timedelta(minutes=1)  # the request evaluates at once; the job only after this
EVALUATION_LEASE = timedelta(minutes=1)
# A health incident takes every later finding of its rule family while it is open (resolving or
# dismissing it retires its merge key), not only those of the flag merge window.
HEALTH_MERGE_WINDOW = timedelta(days=28)
DETECTOR_SERVICE = HEALTH_DETECTOR_SERVICE
RULES_VERSION = "1"
# What a reading's history spans: detection's 56 days before it, the repeat and same-moment checks after.
BEFORE, AFTER = detection.HISTORY, max(detection.CONFIRM_WITHIN, SAME_MOMENT)


def observation_id(agency_id: str, source: str, reading: Reading) -> str:
    """Derived from the device's own id of the reading, or from everything that makes it one reading."""
    if reading.source_data_point_id is not None:
        return id_for_key(agency_id, "observation", source, reading.source_data_point_id)
    values = ",".join(f"{c.code}={c.value!r}" for c in sorted(reading.components, key=lambda c: c.code))
    moment = reading.effective_at.isoformat()
    return id_for_key(agency_id, "observation", source, reading.person_id, reading.metric.value, moment, values)


async def record_observation(ports: Ports, actor: Principal, reading: Reading) -> IngestResult:
    """A caregiver who serves the person, or a coordinator, records a reading taken during a visit."""
    require_role(actor, Role.COORDINATOR, Role.CAREGIVER)
    person = await ports.store.people.get(reading.person_id) if is_valid_id(reading.person_id) else None
    if person is None or not can_see_person(actor, person):
        raise NotFound("Person", reading.person_id, field="personId")
    [result] = await _ingest(ports, actor, person.agency_id, [(person, checked_reading(reading))])
    return result


async def ingest_observations(
    ports: Ports, actor: Principal, service: AiService, readings: Sequence[tuple[str, Reading]]
) -> list[IngestResult]:
    """A device service's batch, each reading naming its person by the reference the agency gave the service.

    Results come in the batch's order; a reading that names nobody or cannot be understood is INVALID
    and stored nowhere, without holding up the others.
    """
    require_role(actor, Role.AI_SERVICE)
    if len(readings) > MAX_BATCH:
        raise ValidationFailed(f"At most {MAX_BATCH} readings a request.", field="readings")
    known = await ports.store.people.by_external_refs(
        service.agency_id, {ExternalRef(service.service, ref) for ref, _ in readings}
    )
    results: dict[int, IngestResult] = {}
    valid: list[tuple[int, Person, Reading]] = []
    for index, (ref, reading) in enumerate(readings):
        person = known.get(ExternalRef(service.service, ref))
        if person is None:
            results[index] = IngestResult(index, IngestOutcome.INVALID, error="No person has this reference.")
            continue
        try:
            valid.append((index, person, checked_reading(dataclasses.replace(reading, person_id=person.id))))
        except ValidationFailed as exc:
            results[index] = IngestResult(index, IngestOutcome.INVALID, error=exc.message, field=exc.field)
    stored = await _ingest(ports, actor, service.agency_id, [(p, r) for _, p, r in valid])
    for (index, _, _), result in zip(valid, stored, strict=True):
        results[index] = dataclasses.replace(result, index=index)
    return [results[i] for i in range(len(readings))]


async def _ingest(
    ports: Ports, actor: Principal, agency_id: str, readings: Sequence[tuple[Person, Reading]]
) -> list[IngestResult]:
    now = ports.clock.now()
    observations = []
    for _, reading in readings:
        source = reading.device_id or f"manual:{actor.user_id}"
        rejection = quality_gate(reading, now)
        status = ObservationStatus.REJECTED if rejection else ObservationStatus.ACCEPTED
        oid = observation_id(agency_id, source, reading)
        observations.append(Observation(oid, agency_id, reading, status, now, actor.user_id, rejection))
    results = []
    context = Context()
    async with audited(ports, actor, "observation.record", "Observation", [o.id for o in observations]):
        due = now + EVALUATION_GRACE
        not_stored = await ports.store.observations.insert_many(
            [(o, due if o.status is ObservationStatus.ACCEPTED else None) for o in observations]
        )
        await context.preload(ports, agency_id, [person for person, _ in readings])
        context.cover([o for o in observations if o.status is ObservationStatus.ACCEPTED])
        await context.read_batch(ports, agency_id)
        for index, ((person, _), observation) in enumerate(zip(readings, observations, strict=True)):
            results.append(await _store(ports, index, person, observation, context, index in not_stored))
        # Readings that found nothing are marked evaluated together; until then the job would redo them.
        await ports.store.observations.finish_quiet(context.quiet)
    return results


@dataclasses.dataclass
class Context:
    """What every reading of one request reads alike, read once a request instead of once a reading.

    A change of the agency's policy or a person's thresholds applies from the next request on.
    """

    timezone: ZoneInfo | None = None
    policy: IncidentPolicy | None = None
    thresholds: dict[str, Thresholds] = dataclasses.field(default_factory=dict)
    first_at: dict[tuple[str, Metric], datetime | None] = dataclasses.field(default_factory=dict)
    # Evaluated in this request: found nothing (marked evaluated in one write at its end), and every result.
    quiet: list[str] = dataclasses.field(default_factory=list)
    evaluated: dict[str, Observation] = dataclasses.field(default_factory=dict)
    demoted: set[str] = dataclasses.field(default_factory=set)  # copies this request rejected as duplicates
    # A person's readings of a metric around the whole batch's, read once after the batch was stored.
    spans: dict[tuple[str, Metric], tuple[datetime, datetime]] = dataclasses.field(default_factory=dict)
    read: dict[tuple[str, Metric], tuple[list[datetime], list[Observation]]] = dataclasses.field(default_factory=dict)

    async def history(self, ports: Ports, observation: Observation) -> list[Observation]:
        """The accepted readings of the person and metric from 56 days before the reading to 10 minutes
        after: one read serves the same-moment check (60 s) and detection. Within a batch, `read_batch`
        has read every person's and metric's at once; a reading outside it is read alone."""
        r = observation.reading
        key = (r.person_id, r.metric)
        start, end = self.spans.get(key, (r.effective_at, r.effective_at))
        if key in self.read and start <= r.effective_at <= end:
            times, found = self.read[key]
        else:  # not one of the batch's (the background job's, say): read for it alone
            found = await ports.store.observations.accepted_between(
                observation.agency_id, r.person_id, r.metric, r.effective_at - BEFORE, r.effective_at + AFTER
            )
            times = [h.reading.effective_at for h in found]
        window = found[bisect_left(times, r.effective_at - BEFORE) : bisect_right(times, r.effective_at + AFTER)]
        # Readings this request evaluated count as evaluated, though their mark waits for `finish_quiet`.
        return [self.evaluated.get(h.id, h) for h in window if h.id not in self.demoted]

    async def read_batch(self, ports: Ports, agency_id: str) -> None:
        """Every person's and metric's readings around the batch's, in one query; taken after the batch
        was stored, so of two racing copies at least one still sees the other (`_settle_same_moment`)."""
        found = await ports.store.observations.accepted_around(
            agency_id, {key: (start - BEFORE, end + AFTER) for key, (start, end) in self.spans.items()}
        )
        self.read.update({key: ([h.reading.effective_at for h in hs], hs) for key, hs in found.items()})

    async def preload(self, ports: Ports, agency_id: str, people: Sequence[Person]) -> None:
        """Reads for a whole batch at once what `subject` would read person by person."""
        self.timezone = ZoneInfo((await get_agency(ports, agency_id)).timezone)
        self.policy = policy = await policy_for(ports, agency_id)
        ids = {p.id for p in people}
        personal = await ports.store.health_thresholds.get_many(agency_id, ids)
        self.thresholds.update({i: in_force(policy, personal.get(i)) for i in ids})
        first = await ports.store.observations.first_accepted(agency_id, ids)
        self.first_at.update({(i, m): first.get((i, m)) for i in ids for m in Metric})

    def cover(self, observations: Sequence[Observation]) -> None:
        """The span of each person's and metric's readings in the batch, for `history` to read once."""
        for o in observations:
            r, key = o.reading, (o.reading.person_id, o.reading.metric)
            start, end = self.spans.get(key, (r.effective_at, r.effective_at))
            self.spans[key] = (min(start, r.effective_at), max(end, r.effective_at))

    async def subject(
        self, ports: Ports, observation: Observation, person: Person
    ) -> tuple[detection.Person, IncidentPolicy]:
        """What detection needs of the person, and the agency's policy the incidents open under."""
        r = observation.reading
        if self.timezone is None or self.policy is None:
            self.timezone = ZoneInfo((await get_agency(ports, observation.agency_id)).timezone)
            self.policy = await policy_for(ports, observation.agency_id)
        policy = self.policy
        if person.id not in self.thresholds:
            self.thresholds[person.id] = await thresholds_for(ports, person, policy)
        key = (person.id, r.metric)
        if key not in self.first_at:
            self.first_at[key] = await ports.store.observations.first_accepted_at(
                observation.agency_id, r.person_id, r.metric
            )
        first = self.first_at[key]
        if first is None or r.effective_at < first:  # this reading is stored: it may be the first now
            self.first_at[key] = first = r.effective_at
        subject = detection.Person(self.timezone, person.profile.co2_retainer, first, self.thresholds[person.id])
        return subject, policy


async def _store(
    ports: Ports, index: int, person: Person, observation: Observation, context: Context, received_before: bool
) -> IngestResult:
    accepted = observation.status is ObservationStatus.ACCEPTED
    if observation.id in context.evaluated:  # the same reading twice in one batch
        return IngestResult(index, IngestOutcome.DUPLICATE, context.evaluated[observation.id])
    if received_before:
        earlier = await ports.store.observations.get(observation.id)
        if earlier is None:
            raise AlreadyExists(observation.id)
        if not earlier.evaluated and earlier.status is ObservationStatus.ACCEPTED:
            earlier = await evaluate(ports, earlier, person, context)  # the first attempt died before finishing
        return IngestResult(index, IngestOutcome.DUPLICATE, earlier)
    if not accepted:
        return IngestResult(index, IngestOutcome.REJECTED, observation)
    evaluated = await evaluate(ports, observation, person, context)
    if evaluated.status is ObservationStatus.REJECTED:
        return IngestResult(index, IngestOutcome.DUPLICATE, evaluated)
    return IngestResult(index, IngestOutcome.RECORDED, evaluated)


def _seniority(o: Observation) -> tuple[bool, datetime, str]:
    """Which of two copies of one measurement stays: one already evaluated, else the first received."""
    return (not o.evaluated, o.received_at, o.id)


async def _settle_same_moment(
    ports: Ports, observation: Observation, near: Sequence[Observation]
) -> list[Observation] | None:
    """Of stored readings that are one measurement, the senior stays accepted; None if that is not this one,
    else the copies it demoted. `near`: the accepted readings of the metric around it, just read.

    Without transactions two copies may be stored at once. Each looks after its own insert, so at least
    one of two racers sees the other, and both rank them alike (`_seniority`): the junior yields, or the
    senior demotes it. A copy that finished evaluating just before the senior demoted it may have
    joined an incident as evidence already; it is the same measurement, so nothing is counted twice.
    """
    r = observation.reading
    copies = [
        n
        for n in near
        if n.id != observation.id
        and abs(n.reading.effective_at - r.effective_at) <= SAME_MOMENT
        and same_moment(r, observation.source, n.reading, n.source)
    ]
    senior = min(copies, key=_seniority, default=None)
    if senior is not None and _seniority(senior) < _seniority(observation):
        await ports.store.observations.reject_as_duplicate(observation.id, f"The same reading as {senior.id}.")
        return None
    for junior in copies:
        await ports.store.observations.reject_as_duplicate(junior.id, f"The same reading as {observation.id}.")
    return copies


async def evaluate(
    ports: Ports, observation: Observation, person: Person, context: Context | None = None
) -> Observation:
    """Runs detection on an accepted reading and opens or joins the incident of each finding; idempotent.

    Within a request (`context` given), a reading that found nothing is marked evaluated by the request's
    last write (`finish_quiet`); a reading with findings is marked as soon as its incidents are open.
    """
    deferring = context
    context = context or Context()
    history = await context.history(ports, observation)
    demoted = await _settle_same_moment(ports, observation, history)
    if demoted is None:
        context.demoted.add(observation.id)
        return await ports.store.observations.get(observation.id) or observation
    context.demoted.update(d.id for d in demoted)
    history = [h for h in history if h.id not in context.demoted]
    subject, policy = await context.subject(ports, observation, person)
    findings = detection.detect(history, observation, subject)
    incident_ids = [await _open(ports, observation, finding, policy) for finding in findings]
    for answered in detection.unconfirmed(history, observation, findings, subject):
        asked = answered.asked
        own = asked.id == observation.id
        opened = (
            zip(findings, incident_ids, strict=True) if own else zip(asked.findings, asked.incident_ids, strict=True)
        )
        await close_unconfirmed_incident(
            ports,
            next(incident for f, incident in opened if f.family is answered.family),
            agency_id=observation.agency_id,
            detector=answered.family.value,
            observation_id=asked.id,
            outcome=_not_confirmed(answered.repeat.reading, subject.tz),
        )
    if findings or deferring is None:
        await ports.store.observations.finish(observation.id, findings, tuple(incident_ids))
    else:
        deferring.quiet.append(observation.id)
    evaluated = dataclasses.replace(observation, evaluated=True, findings=findings, incident_ids=tuple(incident_ids))
    context.evaluated[observation.id] = evaluated
    return evaluated


def _not_confirmed(repeat: Reading, tz: ZoneInfo) -> str:
    """What the closed repeat request says: when the repeat was taken (the agency's time) and what it read."""
    values = "/".join(f"{c.value:g}" for c in repeat.components)
    return f"Not confirmed by the repeat at {repeat.effective_at.astimezone(tz):%H:%M}: {values} {repeat.unit}"


async def _open(ports: Ports, observation: Observation, finding: Finding, policy: IncidentPolicy) -> str:
    r = observation.reading
    signals = (
        Signal("observationId", observation.id),
        Signal("effectiveAt", r.effective_at.isoformat()),
        *(Signal(c.code, f"{c.value:g}") for c in r.components),
    )
    opening = Opening(
        key=id_for_key(observation.agency_id, "observation", observation.id, finding.key),
        agency_id=observation.agency_id,
        person_id=r.person_id,
        type=IncidentType.MEDICAL,
        severity=finding.severity,
        in_review=False,  # the rules are the review: an unconfirmed reading already only asks for a repeat
        source=IncidentSource.SYSTEM,
        summary=finding.summary,
        mergeable=True,
        detection=Detection(DETECTOR_SERVICE, finding.key, RULES_VERSION, 1.0),
        evidence=Evidence(finding.summary, signals),
        merge_scope=f"health:{finding.key}",  # one incident per (person, rule family), kept on the flag
        merge_window=HEALTH_MERGE_WINDOW,
        raise_reopens=True,  # a higher severity re-escalates; nothing else re-notifies
    )
    opened = await open_incident(ports, opening, policy, None)
    return opened.incident.id


async def finish_evaluations(ports: Ports, owner: str, limit: int = 100) -> int:
    """Background job: evaluates readings whose request died before detection finished."""
    done = 0
    for _ in range(limit):
        observation = await ports.store.observations.claim_unevaluated(ports.clock.now(), owner, EVALUATION_LEASE)
        if observation is None:
            break
        person = await ports.store.people.get(observation.person_id)
        if person is None:  # the person is gone: nothing to alert anyone about
            await ports.store.observations.finish(observation.id, (), ())
        else:
            await evaluate(ports, observation, person)
        done += 1
    return done


async def list_observations(
    ports: Ports, actor: Principal, person_id: str, page: PageRequest, *, metric: Metric | None = None
) -> Page[Observation]:
    """A person's readings, newest first: staff in scope, and guardians whose link allows `health`."""
    person = await ports.store.people.get(person_id) if is_valid_id(person_id) else None
    if person is None or not can_see_part(actor, person, GuardianPermission.HEALTH):
        raise NotFound("Person", person_id, field="personId")
    found = await ports.store.observations.page_for_person(person.agency_id, person.id, page, metric)
    await record(ports, actor, "observations.read", "Person", [person.id])
    return found
