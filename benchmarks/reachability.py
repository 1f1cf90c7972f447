"""Reachability over a simulated month: nobody stays unreachable for a day without a human attempt.

1,000 people of one agency (Asia/Seoul), each with one to three weekly wellness calls between 08:00
and 20:30. A seeded script plays the month on a controllable clock through the real core services and
the dev database: the wellness-call service calls at each slot and retries an hour later, twice, never
21:00-07:59; people answer by temperament (most nearly always, some often not, a few never) and some
go silent for one to three days; a fifth of them also have a passive source (phone use, door, power)
while awake; 5 % of callbacks are dropped and some arrive late. Coordinators act on the human call task
after 10 minutes to 3 hours, or never (15 %); visits follow after 30 minutes to 3.5 hours, or never
(20 %). The `reachability` job runs every 5 simulated minutes.

Figures: for each episode of unreachability, the time from `unreachableSince` to the human call task
(the system's human attempt: goal at most 24 h), and to the first human contact the simulated people
recorded; episodes still open at the end count up to the end of the month.

    python -m benchmarks.reachability            BENCH_REACH_PEOPLE=200 BENCH_REACH_DAYS=7 for a quick run
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import os
import random
import sys
import time as wallclock
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from benchmarks import database_uri
from benchmarks.people_list import make_user
from benchmarks.shifts import _Unused
from carecore.access.principal import Principal, Role
from carecore.agencies.models import Agency
from carecore.ids import new_id
from carecore.incidents.models import AiService
from carecore.people.models import ExternalRef, Person, PersonProfile
from carecore.ports import Ports
from carecore.reachability import rules
from carecore.reachability.models import (
    GYEONGGI,
    CallOutcome,
    CallReport,
    CallSlot,
    Contact,
    ContactKind,
    HumanOutcome,
    ReachState,
    SignKind,
    SignReport,
)
from carecore.reachability.service import (
    record_call_outcome,
    record_human_contact,
    record_sign_of_life,
    run_reachability,
    set_call_schedule,
)
from carecore.storage.database import connect, ensure_indexes
from carecore.storage.store import Store

SEED = 20261202
PEOPLE = int(os.environ.get("BENCH_REACH_PEOPLE", "1000"))
DAYS = int(os.environ.get("BENCH_REACH_DAYS", "30"))
GOAL = timedelta(hours=24)
JOB_EVERY = timedelta(minutes=5)
SERVICE = "wellness-call"
ZONE = ZoneInfo("Asia/Seoul")
START = datetime(2026, 11, 2, 0, 0, tzinfo=ZONE).astimezone(UTC)  # a Monday, midnight in Seoul
DROPPED = 0.05
LATE = 0.02  # delivered 35 to 90 minutes after the call: after the grace that counted it unanswered
SIGNS_SHARE = 0.2
TEMPERAMENTS = ((0.80, 0.92), (0.12, 0.5), (0.05, 0.0), (0.03, 0.0))  # (share, chance to answer an attempt)
SILENT_SHARE = 0.15  # people who go silent once in the month (no answers, no signs)


class SimClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@dataclasses.dataclass
class Someone:
    person_id: str
    ref: str
    answers: float  # chance to answer one attempt when not silent
    signs: bool
    silent: tuple[datetime, datetime] | None

    def silent_at(self, at: datetime) -> bool:
        return self.silent is not None and self.silent[0] <= at < self.silent[1]


@dataclasses.dataclass
class Episode:
    person_id: str
    since: datetime
    human_task_at: datetime | None = None
    human_contact_at: datetime | None = None
    ended_at: datetime | None = None  # reachable again (the first job pass that no longer saw it)


@dataclasses.dataclass
class World:
    ports: Ports
    clock: SimClock
    service: AiService
    ai: Principal
    coordinator: Principal
    people: list[Someone]
    rng: random.Random
    queue: list[tuple[datetime, int, str, Callable[[], Awaitable[None]]]] = dataclasses.field(default_factory=list)
    seq: int = 0
    episodes: dict[tuple[str, datetime], Episode] = dataclasses.field(default_factory=dict)
    handled: set[tuple[str, str, datetime]] = dataclasses.field(default_factory=set)
    counts: dict[str, int] = dataclasses.field(default_factory=dict)

    def at(self, when: datetime, what: str, action: Callable[[], Awaitable[None]]) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (when, self.seq, what, action))

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1


def _temperament(rng: random.Random) -> float:
    pick, total = rng.random(), 0.0
    for share, answers in TEMPERAMENTS:
        total += share
        if pick < total:
            return answers
    return TEMPERAMENTS[0][1]


def _slots(rng: random.Random) -> list[CallSlot]:
    days = rng.sample(range(7), rng.choice((1, 2, 2, 3)))
    return [CallSlot(d, time(rng.randint(8, 20), rng.choice((0, 30)))) for d in days]


async def seed(store: Store, clock: SimClock, rng: random.Random) -> World:
    now = clock.now()
    agency = Agency(id=new_id(), name="벤치마크 돌봄 센터", region="경기도")
    await store.agencies.upsert(agency)
    coordinator = make_user(agency.id, Role.COORDINATOR, "김지현", now)
    service_user = make_user(agency.id, Role.AI_SERVICE, "안부전화 AI", now)
    for u in (coordinator, service_user):
        await store.users.insert(u)
    service = AiService(service_user.id, agency.id, SERVICE, "benchmark-secret-0123456789abcdef0123", now)
    await store.ai_services.put(service)
    ports = Ports(store=store, clock=clock, claims=_Unused(), tokens=_Unused())
    world = World(ports, clock, service, service_user.principal(), coordinator.principal(), [], rng)
    for i in range(PEOPLE):
        ref = f"WC-{i:05d}"
        profile = PersonProfile(name=f"이용자 {i:04d}", external_refs=(ExternalRef(SERVICE, ref),))
        person = Person(new_id(), agency.id, profile, (), (), None, 1, now, now)
        await store.people.insert(person)
        silent = None
        if rng.random() < SILENT_SHARE:
            begin = START + timedelta(hours=rng.uniform(24, 24 * (DAYS - 1)))
            silent = (begin, begin + timedelta(hours=rng.uniform(24, 72)))
        someone = Someone(person.id, ref, _temperament(rng), rng.random() < SIGNS_SHARE, silent)
        world.people.append(someone)
        await set_call_schedule(ports, world.coordinator, person.id, _slots(rng))
    return world


def _script_calls(world: World, someone: Someone, schedule: tuple[CallSlot, ...]) -> None:
    """The wellness-call service's month for one person: each slot, then up to two retries."""
    end = START + timedelta(days=DAYS)
    at = rules.next_slot(schedule, START, ZONE)
    while at is not None and at < end:
        session = f"{someone.ref}-{at.isoformat()}"
        world.at(at, "call", _attempt(world, someone, session, 1, at))
        at = rules.next_slot(schedule, at, ZONE)


def _attempt(world: World, someone: Someone, session: str, attempt: int, at: datetime) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        rng = world.rng
        answered = not someone.silent_at(at) and rng.random() < someone.answers
        outcome = (
            CallOutcome.ANSWERED if answered else rng.choice((CallOutcome.NOT_ANSWERED,) * 9 + (CallOutcome.FAILED,))
        )
        if not answered and attempt < 3:
            retry = rules.next_attempt_at(GYEONGGI, at, ZONE)
            world.at(retry, "call", _attempt(world, someone, session, attempt + 1, retry))
        roll = rng.random()
        if roll < DROPPED:
            world.count("callbacks dropped")
            return
        delay = (
            timedelta(minutes=rng.uniform(35, 90)) if roll < DROPPED + LATE else timedelta(minutes=rng.uniform(0, 8))
        )
        report = CallReport(someone.ref, session, attempt, outcome, at)
        world.at(at + delay, "callback", _deliver(world, report))

    return run


def _deliver(world: World, report: CallReport) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        await record_call_outcome(world.ports, world.ai, world.service, report)
        world.count("outcomes delivered")

    return run


def _script_signs(world: World, someone: Someone) -> None:
    """A passive source while awake (08:00-22:00 in Seoul): every one to four hours."""
    at, end = START + timedelta(hours=8), START + timedelta(days=DAYS)
    while at < end:
        local = at.astimezone(ZONE)
        if 8 <= local.hour < 22 and not someone.silent_at(at):
            kind = world.rng.choice((SignKind.PHONE_USED, SignKind.DOOR, SignKind.POWER, SignKind.APP_OPENED))
            world.at(at, "sign", _sign(world, SignReport(someone.ref, kind, at, f"{someone.ref}-{at.isoformat()}")))
        at += timedelta(hours=world.rng.uniform(1, 4))


def _sign(world: World, report: SignReport) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        await record_sign_of_life(world.ports, world.ai, world.service, report)
        world.count("signs")

    return run


def _human(world: World, someone: Someone, kind: ContactKind, key: str) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        now = world.clock.now()
        reachable = not someone.silent_at(now) and (someone.answers > 0 or kind is ContactKind.VISIT)
        reached = reachable and world.rng.random() < 0.8
        outcome = HumanOutcome.REACHED if reached else HumanOutcome.NOT_REACHED
        contact = Contact("", "", someone.person_id, kind, now, now, "", human_outcome=outcome)
        await record_human_contact(world.ports, world.coordinator, someone.person_id, contact, idempotency_key=key)
        world.count(f"{kind.value.lower()}s recorded")

    return run


async def _observe(world: World, by_id: dict[str, Someone]) -> None:
    """After each job pass: new episodes, new human tasks and visit requests, which people then act on."""
    unreachable = [ReachState.UNANSWERED.value, ReachState.HUMAN_CALLING.value, ReachState.VISIT_REQUESTED.value]
    seen: set[tuple[str, datetime]] = set()
    async for d in world.ports.store.db["reachability"].find({"state": {"$in": unreachable}}):
        since: datetime = d["unreachable_since"]
        seen.add((d["_id"], since))
        episode = world.episodes.setdefault((d["_id"], since), Episode(d["_id"], since))
        if d["state"] == ReachState.HUMAN_CALLING.value and d.get("human_task_at") and episode.human_task_at is None:
            episode.human_task_at = d["human_task_at"]
        step = (d["_id"], d["state"], d["state_since"])
        if step in world.handled or d["state"] == ReachState.UNANSWERED.value:
            continue
        world.handled.add(step)
        someone, rng, now = by_id[d["_id"]], world.rng, world.clock.now()
        if d["state"] == ReachState.HUMAN_CALLING.value and rng.random() < 0.85:
            key = f"call-{d['_id']}-{d['state_since'].isoformat()}"
            world.at(
                now + timedelta(minutes=rng.uniform(10, 180)),
                "human call",
                _human(world, someone, ContactKind.HUMAN_CALL, key),
            )
        elif d["state"] == ReachState.VISIT_REQUESTED.value and d.get("incident_id") is None and rng.random() < 0.8:
            key = f"visit-{d['_id']}-{d['state_since'].isoformat()}"
            world.at(
                now + timedelta(minutes=rng.uniform(30, 210)), "visit", _human(world, someone, ContactKind.VISIT, key)
            )
    for open_key, episode in world.episodes.items():
        if episode.ended_at is None and open_key not in seen:
            episode.ended_at = world.clock.now()


async def _first_human_contacts(world: World) -> None:
    for episode in world.episodes.values():
        query = {
            "person_id": episode.person_id,
            "kind": {"$in": [ContactKind.HUMAN_CALL.value, ContactKind.VISIT.value]},
            "at": {"$gte": episode.since},
        }
        first = await world.ports.store.db["reachability_contacts"].find_one(query, sort=[("at", 1)])
        episode.human_contact_at = first["at"] if first else None


async def simulate(store: Store) -> tuple[World, float]:
    rng = random.Random(SEED)
    clock = SimClock(START)
    world = await seed(store, clock, rng)
    for someone in world.people:
        reach = await store.reachability.get(someone.person_id)
        assert reach is not None
        _script_calls(world, someone, reach.schedule)
        if someone.signs:
            _script_signs(world, someone)
    by_id = {s.person_id: s for s in world.people}
    end = START + timedelta(days=DAYS)
    tick = START
    started = wallclock.perf_counter()
    while tick <= end:
        while world.queue and world.queue[0][0] <= tick:
            when, _, _what, action = heapq.heappop(world.queue)
            clock.at = max(when, clock.at)
            await action()
        clock.at = tick
        while await run_reachability(world.ports, "bench-job"):
            pass
        await _observe(world, by_id)
        tick += JOB_EVERY
    await _first_human_contacts(world)
    return world, wallclock.perf_counter() - started


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:6.2f} h"


def report(world: World, elapsed: float) -> bool:
    end = START + timedelta(days=DAYS)
    episodes = list(world.episodes.values())
    # Unreachable without a human attempt: until the human call task, or until reachable again, or the end.
    without = [(e.human_task_at or e.ended_at or end) - e.since for e in episodes]
    tasks = sorted(e.human_task_at - e.since for e in episodes if e.human_task_at is not None)
    contacts = sorted((e.human_contact_at or end) - e.since for e in episodes if e.human_task_at is not None)
    worst = max(without, default=timedelta(0))
    print(f"\nreachability: {PEOPLE} people, {DAYS} simulated days, job every {JOB_EVERY}")
    print(f"  seed {SEED}, {elapsed:.0f} s of wall time")
    for what, n in sorted(world.counts.items()):
        print(f"  {what:<22} {n:>7}")
    ended = sum(1 for e in episodes if e.human_task_at is None and e.ended_at is not None)
    print(f"  episodes of unreachability: {len(episodes)} ({ended} ended by an answer before a human was needed)")
    if tasks:
        median, longest = _hours(tasks[len(tasks) // 2]), _hours(tasks[-1])
        print(f"  unreachable -> human call task ({len(tasks)}): median {median}, longest {longest}")
    if contacts:
        median, longest = _hours(contacts[len(contacts) // 2]), _hours(contacts[-1])
        print(f"  unreachable -> recorded human call or visit (simulated): median {median}, longest {longest}")
    ok = worst <= GOAL
    verdict = "met" if ok else "NOT MET"
    print(f"  longest unreachable without a human contact attempt: {_hours(worst)} (goal <= 24 h): {verdict}")
    return ok


async def run(uri: str) -> bool:
    client = connect(uri)
    name = f"bench_reach_{uuid.uuid4().hex[:8]}"
    try:
        db = client[name]
        await ensure_indexes(db)
        world, elapsed = await simulate(Store(db))
        return report(world, elapsed)
    finally:
        await client.drop_database(name)
        await client.close()


def main() -> int:
    with database_uri() as uri:
        return 0 if asyncio.run(run(uri)) else 1


if __name__ == "__main__":
    sys.exit(main())
