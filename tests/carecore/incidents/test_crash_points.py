"""Invariant I1 under crashes (issue 9, docs/safety.md): every flag answered, or only stored, ends in an
incident at the highest severity of its flags, out of review if any flag was not for review, whose ladder
(restarted for that severity) ran its first step and runs the later ones on time.

Each flow is killed before each of its writes in turn (tests/crashes.py); recovery is what production
does: the sender's documented retry of the same external id (README "Webhooks") and/or the background
jobs of carecore/background.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import timedelta
from enum import StrEnum

import pytest

from carecore.incidents.escalation import run_due_steps, step_alert_id
from carecore.incidents.ingestion import ingest_flag
from carecore.incidents.models import (
    UNACKNOWLEDGED,
    AiService,
    Escalation,
    Incident,
    IncidentSource,
    IncidentStatus,
    IncidentType,
    Opened,
    Severity,
)
from carecore.incidents.opening import FLAG_GRACE, Opening
from carecore.incidents.policy import DEFAULT_POLICY
from carecore.incidents.stranded_flags import finish_stranded_flags
from carecore.ports import Ports
from tests.carecore.incidents.conftest import configure_ai, flag
from tests.conftest import World, build_world
from tests.crashes import CrashPoints, CrashRun, recover
from tests.support import FakeClock


class Recovery(StrEnum):
    RETRY = "the sender retries, then the jobs run"
    JOBS = "the sender never retries: only the jobs run"


Flow = Callable[[Ports, World, AiService], Awaitable[Opened]]


def _send(external_id: str, type: IncidentType, confidence: float) -> Flow:
    async def send(ports: Ports, world: World, ai: AiService) -> Opened:
        submission = flag(external_id, type=type, confidence=confidence)
        return await ingest_flag(ports, world.ai_service.principal(), ai, submission)

    return send


# (what is there before, the flow that is killed): FALL is HIGH at 0.7, CRITICAL at 0.95, for review at 0.3.
SCENARIOS: dict[str, tuple[Flow | None, Flow]] = {
    "new": (None, _send("new", IncidentType.SEIZURE, 0.8)),
    "merge": (_send("first", IncidentType.SEIZURE, 0.8), _send("again", IncidentType.SEIZURE, 0.8)),
    "merge-and-raise": (_send("high", IncidentType.FALL, 0.7), _send("critical", IncidentType.FALL, 0.95)),
    "merge-out-of-review": (_send("doubt", IncidentType.FALL, 0.3), _send("sure", IncidentType.FALL, 0.95)),
}


async def assert_flags_escalate(ports: Ports) -> list[Incident]:
    """I1's state part: every stored flag linked to an incident at its flags' highest severity, out of
    review if due, with the first step of the ladder of that severity asked for and routed."""
    by_incident: dict[str, list[dict[str, object]]] = defaultdict(list)
    async for f in ports.store.db["incident_flags"].find({}):
        assert f["incident_id"] is not None, f"flag {f['_id']} was never linked to an incident"
        by_incident[str(f["incident_id"])].append(f)
    incidents = []
    for incident_id, flags in by_incident.items():
        incident = await ports.store.incidents.get(incident_id)
        assert incident is not None, incident_id
        top = max((Severity(str(f["severity"])) for f in flags), key=lambda s: s.rank)
        assert incident.severity is top, f"{incident.severity} where its flags say {top}"
        if all(f["in_review"] for f in flags):
            assert incident.status is IncidentStatus.IN_REVIEW
            continue
        assert incident.status in UNACKNOWLEDGED, f"{incident.status}: a flag not for review waits in the queue"
        first = step_alert_id(incident.id, Escalation(round=incident.escalation.round, step=0))
        request = await ports.store.db["alert_requests"].find_one({"_id": first})
        assert request is not None, "the ladder's first step never asked for alerts"
        assert request["severity"] == top.value and request["routed_at"] is not None
        incidents.append(incident)
    return incidents


async def assert_ladder_on_time(run: CrashRun, incident: Incident) -> None:
    """Each later step runs once, never early, and no later than its time or the restart, whichever is later."""
    restarted_at = run.clock.now()
    ladder = DEFAULT_POLICY.ladder(incident.severity)
    started = incident.escalation.started_at
    assert started is not None
    for number, step in enumerate(ladder):
        due = started + step.after
        if due > run.clock.now():
            await recover(run, after=due - run.clock.now())
        request_id = step_alert_id(incident.id, Escalation(round=incident.escalation.round, step=number))
        request = await run.store.alert_requests.get(request_id)
        assert request is not None, f"step {number} never ran"
        assert due <= request.created_at <= max(due, restarted_at), f"step {number} due {due}, ran {request.created_at}"


@pytest.mark.parametrize("recovery", list(Recovery))
@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_a_flag_killed_at_any_write_still_escalates_at_its_severity(
    crash_points: CrashPoints, scenario: str, recovery: Recovery
) -> None:
    before, flow = SCENARIOS[scenario]
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        ai = await configure_ai(run.ports, world, run.clock)
        if before is not None:
            await before(run.ports, world, ai)
            run.clock.advance(timedelta(seconds=30))
        async with run.armed():
            answered = await flow(run.ports, world, ai)
        if run.crashed and recovery is Recovery.RETRY:
            run.faults.dead = False  # the process restarts and the sender sends the same flag again
            answered = await flow(run.ports, world, ai)
        await recover(run)

        incidents = await assert_flags_escalate(run.ports)
        if not run.crashed or recovery is Recovery.RETRY:  # answered: its incident is the one checked
            assert answered.incident.id in {i.id for i in incidents}, run.writes
        for incident in incidents:
            await assert_ladder_on_time(run, incident)


@pytest.mark.parametrize("first_confidence", [0.7, 0.3], ids=["from HIGH", "from the review queue"])
async def test_a_flag_raising_its_incident_killed_right_after_the_merge_is_raised_on_retry(
    crash_points: CrashPoints, first_confidence: float
) -> None:
    """Failure 5: the merge stored the flag id, the process died before the raise; the retry answered
    DUPLICATE and the incident stayed HIGH (or in the review queue), waking nobody for CRITICAL."""
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        ai = await configure_ai(run.ports, world, run.clock)
        first = await _send("first", IncidentType.FALL, first_confidence)(run.ports, world, ai)
        send_critical = _send("critical", IncidentType.FALL, 0.95)
        async with run.armed():
            await send_critical(run.ports, world, ai)
        run.faults.dead = False
        retried = await send_critical(run.ports, world, ai)
        await recover(run)

        assert retried.incident.id == first.incident.id
        incident = await run.store.incidents.get(first.incident.id)
        assert incident is not None and incident.severity is Severity.CRITICAL, run.writes
        assert incident.status in UNACKNOWLEDGED, run.writes
        step_0 = step_alert_id(incident.id, Escalation(round=incident.escalation.round, step=0))
        request = await run.store.alert_requests.get(step_0)
        assert request is not None and request.severity is Severity.CRITICAL, run.writes


async def test_a_flag_stored_before_its_request_died_is_finished_without_a_retry(crash_points: CrashPoints) -> None:
    """Failure 10: nothing but the sender's retry finished a flag record left without its incident."""
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        ai = await configure_ai(run.ports, world, run.clock)
        async with run.armed():
            await _send("lonely", IncidentType.SEIZURE, 0.8)(run.ports, world, ai)
        await recover(run)

        stored = await run.store.db["incident_flags"].find_one({})
        if stored is None:
            continue  # died before the flag was stored: nothing was received
        assert stored["incident_id"] is not None, run.writes
        incident = await run.store.incidents.get(stored["incident_id"])
        assert incident is not None and incident.severity is Severity.CRITICAL
        assert await run.store.alert_requests.for_subject(incident.id), "nobody was alerted"


async def test_a_ladder_step_killed_at_any_write_runs_once_and_the_next_on_time(crash_points: CrashPoints) -> None:
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        ai = await configure_ai(run.ports, world, run.clock)
        opened = await _send("seizure", IncidentType.SEIZURE, 0.8)(run.ports, world, ai)
        ladder = DEFAULT_POLICY.ladder(Severity.CRITICAL)
        run.clock.advance(ladder[1].after)
        async with run.armed():
            await run_due_steps(run.ports, "worker")
        await recover(run, after=timedelta(seconds=20))  # longer than the ladder's lease, before step 2

        [incident] = await assert_flags_escalate(run.ports)
        assert incident.id == opened.incident.id
        requests = await run.store.alert_requests.for_subject(incident.id)
        assert len(requests) == 2, f"{len(requests)} requests after {run.writes}"
        assert incident.escalation.step == 2 and incident.escalation.round == 0
        await assert_ladder_on_time(run, incident)


async def test_a_senders_retry_runs_the_first_step_at_once_wherever_the_first_attempt_died(
    crash_points: CrashPoints,
) -> None:
    """The inline first step died holding its claim: the retry, the same step under the same owner,
    takes it back at once instead of leaving the incident silent until the claim lapses."""
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        ai = await configure_ai(run.ports, world, run.clock)
        send = _send("seizure", IncidentType.SEIZURE, 0.8)
        async with run.armed():
            await send(run.ports, world, ai)
        run.faults.dead = False
        retried = await send(run.ports, world, ai)

        first = step_alert_id(retried.incident.id, Escalation(round=0, step=0))
        assert await run.store.alert_requests.get(first) is not None, run.writes
        assert retried.incident.escalation.step == 1, run.writes


async def test_a_stored_flag_keeps_everything_its_opening_needs(ports: Ports, world: World) -> None:
    """What the sweep finishes is the opening the request had: a SYSTEM flag of a missed visit here."""
    opening = Opening(
        key="missed-shift-1",
        agency_id=world.agency.id,
        person_id=world.minji.id,
        type=IncidentType.MISSED_VISIT,
        severity=Severity.HIGH,
        in_review=False,
        source=IncidentSource.SYSTEM,
        summary="No check-in 30 minutes after the shift started",
        mergeable=True,
        related_shift_id="shift-1",
    )
    now = ports.clock.now()
    await ports.store.incident_flags.insert(opening.flag_record(now), finish_due_at=now)

    stored = await ports.store.incident_flags.get(opening.key)

    assert stored is not None and Opening.of_flag(stored) == opening


async def test_the_sweep_leaves_a_flag_to_its_own_request_for_the_grace_then_finishes_it(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    opening = Opening(
        key="stranded",
        agency_id=world.agency.id,
        person_id=world.minji.id,
        type=IncidentType.FALL,
        severity=Severity.CRITICAL,
        in_review=False,
        source=IncidentSource.AI,
        summary="Fell in the bathroom",
        mergeable=True,
    )
    now = clock.now()
    await ports.store.incident_flags.insert(opening.flag_record(now), finish_due_at=now + FLAG_GRACE)

    assert await finish_stranded_flags(ports, "sweeper") == 0, "its request may still be running"
    clock.advance(FLAG_GRACE)
    assert await finish_stranded_flags(ports, "sweeper") == 1
    assert await finish_stranded_flags(ports, "sweeper") == 0, "a linked flag is done"

    incident = await ports.store.incidents.get(opening.incident_id)
    assert incident is not None and incident.severity is Severity.CRITICAL
    assert [a.severity for a in await ports.store.alert_requests.for_subject(incident.id)] == [Severity.CRITICAL]
