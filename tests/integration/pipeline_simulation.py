"""A randomized, simulated-clock run of the flag → ladder → acknowledgement pipeline with crashes.

Each run gives a new person one to three AI flags of one type, kills the process at random writes of
the ingestion, of a background pass and of an acknowledgement, lets the sender and the acknowledger
retry as documented, and lets a random user (eligible responder or not) acknowledge at a random time.
Then it checks the invariants of docs/safety.md that this pipeline carries:
- I1: every accepted flag has an incident at (at least) the highest severity of the accepted flags,
  out of review when one of them was not for review, whose step 0 ran and whose later steps ran on
  time unless an eligible responder acknowledged first;
- I4: a notification is subject-acknowledged only after an eligible responder's acknowledgement
  stopped the ladder; nobody else's acknowledgement acknowledges the incident.
The suite runs a few hundred runs; `benchmarks/pipeline_crashes.py` runs 10,000 and reports the count.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import cast

from pymongo import AsyncMongoClient

from app.server import subject_acknowledgers
from carecore.access.principal import Principal
from carecore.alerts.inbox import acknowledge_notification
from carecore.background import core_jobs
from carecore.errors import DomainError
from carecore.incidents.escalation import LEASE, step_alert_id
from carecore.incidents.ingestion import ingest_flag
from carecore.incidents.models import (
    AiService,
    Escalation,
    Evidence,
    FlagSubmission,
    Incident,
    IncidentStatus,
    IncidentType,
    Severity,
)
from carecore.incidents.policy import DEFAULT_POLICY
from carecore.incidents.rules import triage
from carecore.incidents.service import acknowledge_incident
from carecore.people.models import ExternalRef, Person, Protocol
from carecore.ports import Ports
from carecore.storage.database import Db, Document, ensure_indexes
from carecore.storage.store import Store
from tests.conftest import World, build_world
from tests.crashes import Faults, FaultyDb, Killed
from tests.support import ALL_PERMISSIONS, FakeClock, RecordingClaims, RefusingTokens, link, person

SERVICE = "sim-detector"
TICK = timedelta(seconds=30)  # one worker cycle
HORIZON = timedelta(minutes=6)  # past the last step of the default CRITICAL ladder (0, 2 and 5 minutes)
TYPES = (IncidentType.SEIZURE, IncidentType.FALL, IncidentType.WANDERING)
# Who may acknowledge: staff who serve the person stop the ladder; the others may not.
ELIGIBLE = ("coordinator", "caregiver_on_team")
ACKNOWLEDGERS = (*ELIGIBLE, "caregiver_off_team", "guardian", "guardian_visits_only", None)


@dataclass
class Violation:
    run: int
    invariant: str
    detail: str


@dataclass
class Outcome:
    runs: int = 0
    crashes: int = 0
    violations: list[Violation] = field(default_factory=list)


@dataclass
class _Run:
    index: int
    person: Person
    accepted: list[tuple[Severity, bool]] = field(default_factory=list)  # (severity, in review) per flag
    sent: list[Severity] = field(default_factory=list)
    incident_id: str | None = None
    eligible_ack_at: datetime | None = None
    deaths: list[datetime] = field(default_factory=list)  # when a process died during this run


class Simulation:
    def __init__(self, store: Store, faults: Faults, clock: FakeClock, world: World, seed: int) -> None:
        self.store, self.faults, self.clock, self.world = store, faults, clock, world
        self.ports = Ports(
            store=store,
            clock=clock,
            claims=RecordingClaims(),
            tokens=RefusingTokens(),
            acknowledgers=subject_acknowledgers(),  # the app's wiring: acknowledging an alert reaches its incident
        )
        self.rng = random.Random(seed)
        self.outcome = Outcome()
        self.current: _Run | None = None
        # The jobs of a worker cycle; the hourly clean-ups find nothing to do within a run's minutes.
        self.jobs = [job for job in core_jobs() if job.every is None]
        self.service = AiService(world.ai_service.id, world.agency.id, SERVICE, "sim-secret", clock.now())

    async def _crashing(self, chance: float, most: int, action: Awaitable[None]) -> bool:
        """Runs `action` with a death at a random write with probability `chance`; False when it died."""
        crash_at = self.rng.randint(1, most) if self.rng.random() < chance else None
        self.faults.crash_at, self.faults.armed, self.faults.writes = crash_at, True, []
        try:
            await action
        except Killed:
            self.outcome.crashes += 1
            if self.current is not None:
                self.current.deaths.append(self.clock.now())
            for _ in range(20):  # what the dead process left running dies at its next write
                await asyncio.sleep(0)
            return False
        finally:
            self.faults.armed, self.faults.dead = False, False
        return True

    async def _new_person(self, index: int) -> Person:
        protocols = (
            (Protocol(IncidentType.SEIZURE, "Call 119 after 5 minutes", call_emergency_after_minutes=5),)
            if self.rng.random() < 0.5
            else ()
        )
        ref = ExternalRef(SERVICE, f"SIM-{index}")
        p = person(self.world.agency.id, f"sim-{index}", now=self.clock.now())
        p = replace(p, profile=replace(p.profile, external_refs=(ref,), protocols=protocols))
        await self.store.people.insert(p)
        await self.store.people.set_care_team(p.id, [self.world.caregiver_on_team.id], self.clock.now())
        await link(self.store, p, self.world.guardian, ALL_PERMISSIONS, self.clock.now())
        found = await self.store.people.get(p.id)
        assert found is not None
        return found

    async def _send_flag(self, run: _Run, flag: FlagSubmission) -> None:
        """The sender retries a flag that got no answer, as the README's contract says, or gives up."""
        severity, in_review = triage(DEFAULT_POLICY, flag, run.person)
        run.sent.append(severity)
        result: list[str] = []

        async def send() -> None:
            opened = await ingest_flag(self.ports, self.world.ai_service.principal(), self.service, flag)
            result.append(opened.incident.id)

        for attempt in range(3):
            if await self._crashing(0.4 if attempt < 2 else 0.0, 12, send()):
                run.incident_id = run.incident_id or result[0]
                run.accepted.append((severity, in_review))
                return
            if self.rng.random() < 0.15:
                return  # the sender gave up: not accepted, though a stored flag is still finished

    async def _pass(self, *, may_die: bool = True) -> None:
        """One worker cycle; now and then the instance dies in it and the next cycle takes over."""

        async def jobs() -> None:
            for job in self.jobs:
                await job.run(self.ports, "sim")

        await self._crashing(0.1 if may_die else 0.0, 8, jobs())

    async def _acknowledge(self, run: _Run, who: str) -> None:
        actor = cast(Principal, getattr(self.world, who).principal())
        incident_id = run.incident_id
        if incident_id is None:
            return
        mine = await self.store.db["notifications"].find_one({"subject_id": incident_id, "user_id": actor.user_id})

        async def act() -> None:
            try:
                if mine is not None:
                    await acknowledge_notification(self.ports, actor, mine["_id"])
                else:
                    await acknowledge_incident(self.ports, actor, incident_id)
            except DomainError:
                return
            incident = await self.store.incidents.get(incident_id)
            if who in ELIGIBLE and incident is not None and incident.status is IncidentStatus.ACKNOWLEDGED:
                run.eligible_ack_at = run.eligible_ack_at or self.clock.now()

        if not await self._crashing(0.3, 6, act()):
            await act()  # the app retries an acknowledgement that got no answer

    async def run_once(self, index: int) -> None:
        run = _Run(index, await self._new_person(index))
        self.current = run
        kind = self.rng.choice(TYPES)
        flags = [
            FlagSubmission(
                external_id=f"sim-{index}-{i}",
                person_ref=f"SIM-{index}",
                type=kind,
                confidence=round(self.rng.uniform(0.3, 0.99), 2),
                detector="sim",
                model_version="1",
                evidence=Evidence("simulated"),
            )
            for i in range(self.rng.randint(1, 3))
        ]
        who = self.rng.choice(ACKNOWLEDGERS)
        ack_at = self.clock.now() + self.rng.randint(0, int(HORIZON / TICK)) * TICK
        started = self.clock.now()
        for f in flags:
            await self._send_flag(run, f)
            self.clock.advance(timedelta(seconds=self.rng.randint(1, 40)))
        while self.clock.now() - started < HORIZON:
            if who is not None and self.clock.now() >= ack_at:
                await self._acknowledge(run, who)
                who = None
            await self._pass()
            self.clock.advance(TICK)
        await self._pass(may_die=False)
        self.outcome.violations += await check_run(self.store, run, self.clock.now())
        self.outcome.runs += 1
        self.clock.advance(timedelta(hours=1))


async def check_run(store: Store, run: _Run, now: datetime) -> list[Violation]:
    """I1 and I4 for one run, checked at `now`."""
    if not run.accepted:
        return []
    found: list[Violation] = []

    def violated(invariant: str, detail: str) -> None:
        found.append(Violation(run.index, invariant, detail))

    incident = await store.incidents.get(run.incident_id) if run.incident_id else None
    if incident is None:
        violated("I1", "an accepted flag has no incident")
        return found
    highest = max((s for s, _ in run.accepted), key=lambda s: s.rank)
    if incident.severity.rank < highest.rank or incident.severity.rank > max(s.rank for s in run.sent):
        violated("I1", f"severity {incident.severity.value}, accepted flags' highest {highest.value}")
    if incident.status is IncidentStatus.IN_REVIEW and not all(r for _, r in run.accepted):
        violated("I1", "in review although an accepted flag was not for review")
    if incident.status is not IncidentStatus.IN_REVIEW:
        found += [Violation(run.index, "I1", d) for d in await _ladder_on_time(store, incident, run, now)]
    found += [Violation(run.index, "I4", d) for d in await _acknowledged_only_by_eligible(store, incident, run)]
    return found


async def _ladder_on_time(store: Store, incident: Incident, run: _Run, now: datetime) -> list[str]:
    problems: list[str] = []
    e = incident.escalation
    if e.started_at is None:
        return ["the ladder never started"]
    ladder = DEFAULT_POLICY.ladder(incident.severity)
    late = LEASE + TICK + timedelta(seconds=1)  # a dead worker's lease, then one cycle
    for k, step in enumerate(ladder):
        request = await store.alert_requests.get(step_alert_id(incident.id, Escalation(round=e.round, step=k)))
        due = e.started_at + step.after
        if due + late > now:
            break  # not due yet when the run ends
        deadline = due + late
        for death in sorted(run.deaths):  # each death near the step gives the next process a lease and a cycle
            if due - TICK <= death <= deadline:
                deadline = death + late
        if deadline > now:
            break  # the deaths pushed it past the end of the run
        acknowledged = run.eligible_ack_at
        if acknowledged is not None and acknowledged <= due - TICK:
            if request is not None and k > 0:
                problems.append(f"step {k} ran after an eligible acknowledgement")
            continue
        ran_in_time = request is not None and request.created_at <= deadline
        if (acknowledged is None or acknowledged > deadline) and not ran_in_time:
            problems.append(f"step {k} due {due.time()} did not run by {deadline.time()}")
    return problems


async def _acknowledged_only_by_eligible(store: Store, incident: Incident, run: _Run) -> list[str]:
    problems: list[str] = []
    marked = await store.db["notifications"].count_documents(
        {"subject_id": incident.id, "subject_acknowledged_at": {"$ne": None}}
    )
    if run.eligible_ack_at is None:
        if incident.status is IncidentStatus.ACKNOWLEDGED:
            problems.append("acknowledged without an eligible responder")
        if marked:
            problems.append(f"{marked} notifications subject-acknowledged without an eligible responder")
    return problems


# Runs share a database in chunks: every run leaves its incidents, events and notifications behind, and
# the local server's cost per query grows with them (10,000 runs in one database slowed to a crawl).
RUNS_PER_DATABASE = 250


async def simulate(client: AsyncMongoClient[Document], *, runs: int, seed: int) -> Outcome:
    """`runs` random runs in fresh databases; the violations found, and how many deaths were injected."""
    total = Outcome()
    for chunk, first in enumerate(range(0, runs, RUNS_PER_DATABASE)):
        part = await _simulate_in_one_database(
            client, range(first, min(runs, first + RUNS_PER_DATABASE)), seed=seed * 1000 + chunk
        )
        total.runs += part.runs
        total.crashes += part.crashes
        total.violations += part.violations
    return total


async def _simulate_in_one_database(client: AsyncMongoClient[Document], indexes: range, *, seed: int) -> Outcome:
    name = f"sim_{uuid.uuid4().hex[:12]}"
    db = client[name]
    try:
        await ensure_indexes(db)
        faults = Faults()
        store = Store(cast(Db, FaultyDb(db, faults)))
        clock = FakeClock()
        world = await build_world(store, clock)
        sim = Simulation(store, faults, clock, world, seed)
        await store.ai_services.put(sim.service)
        for index in indexes:
            await sim.run_once(index)
        return sim.outcome
    finally:
        await client.drop_database(name)
