"""The escalation ladder: each due step claimed with a lease, its alerts requested once, the next step timed.

The next step's time lives on the incident (`escalation_due_at`). A worker on any instance claims a
due step with a conditional find_one_and_update (carecore.storage.leases), asks for its alerts under an
id derived from (incident, round, step), and moves the ladder on only if its claim still holds and
nobody acknowledged meanwhile. A worker that dies mid-step loses its lease; the next one repeats the
request, which the id turns into a no-op, so a step is never skipped and never doubled.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from carecore import metrics
from carecore.alerts.models import AlertRequest
from carecore.alerts.service import request_alert
from carecore.ids import id_for_key
from carecore.incidents.events import publish_change
from carecore.incidents.models import Escalation, Incident, IncidentStatus, TimelineAction, TimelineEntry
from carecore.incidents.policies import policy_for
from carecore.incidents.policy import IncidentPolicy, LadderStep
from carecore.ports import Ports
from carecore.vocabulary import AlertKind, Audience

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=15)
MAX_STEPS_PER_PASS = 200
# Abuse and neglect reports reach coordinators and the last resort only: nobody else may see them.
_SAFEGUARDING_AUDIENCES = (Audience.COORDINATORS_ON_DUTY, Audience.ALL_COORDINATORS, Audience.EMERGENCY_CONTACT)


def step_alert_id(incident_id: str, escalation: Escalation) -> str:
    """Derived from the step, so a step repeated after a crash asks for the same, already stored, request."""
    if escalation.round == 0:
        return id_for_key("incident", incident_id, "step", str(escalation.step))
    return id_for_key("incident", incident_id, "round", str(escalation.round), "step", str(escalation.step))


def step_audiences(incident: Incident, step: LadderStep) -> tuple[Audience, ...]:
    if incident.safeguarding is None:
        return step.audiences
    kept = tuple(a for a in step.audiences if a in _SAFEGUARDING_AUDIENCES)
    return kept or (Audience.COORDINATORS_ON_DUTY,)


def restarted(current: Escalation, ladder: tuple[LadderStep, ...], now: datetime) -> Escalation:
    """The ladder from its first step at `now`; a new round if one ran before, so its alerts are asked anew."""
    round_ = current.round + 1 if current.started_at is not None else current.round
    return Escalation(round=round_, step=0, started_at=now, due_at=now if ladder else None)


async def run_due_step(
    ports: Ports,
    owner: str,
    *,
    incident_id: str | None = None,
    lease: timedelta = LEASE,
    policy: IncidentPolicy | None = None,
    announce: bool = True,
) -> Incident | None:
    """Claims and runs one due ladder step (of `incident_id`, or the earliest due); None when none is due.

    `lease` bounds how late a step can be when its worker dies holding it: another takes it over then.
    """
    now = ports.clock.now()
    claimed = await ports.store.incidents.claim_step(now=now, owner=owner, lease=lease, incident_id=incident_id)
    if claimed is None:
        return None
    return await run_claimed_step(ports, claimed, owner, policy=policy, announce=announce)


async def run_claimed_step(
    ports: Ports, claimed: Incident, owner: str, *, policy: IncidentPolicy | None = None, announce: bool = True
) -> Incident:
    """Runs the due step of an incident whose claim `owner` holds: its alerts asked for, the ladder moved on."""
    now = ports.clock.now()
    ladder = (policy or await policy_for(ports, claimed.agency_id)).ladder(claimed.severity)
    e = claimed.escalation
    if e.due_at is not None:
        metrics.ESCALATION_LAG.observe(max((now - e.due_at).total_seconds(), 0.0))
    if e.step >= len(ladder):  # the agency shortened its ladder since this one started
        await ports.store.incidents.stop_ladder(claimed.id, owner=owner)
        return claimed
    step = ladder[e.step]
    audiences = step_audiences(claimed, step)
    await request_alert(
        ports,
        AlertRequest(
            id=step_alert_id(claimed.id, e),
            agency_id=claimed.agency_id,
            kind=AlertKind.INCIDENT,
            severity=claimed.severity,
            subject_type="Incident",
            subject_id=claimed.id,
            audiences=audiences,
            created_at=now,
            person_id=claimed.person_id,
            exclude_user_ids=(claimed.alleged_perpetrator_id,) if claimed.alleged_perpetrator_id else (),
        ),
    )
    started = e.started_at or now
    next_due = started + ladder[e.step + 1].after if e.step + 1 < len(ladder) else None
    status = IncidentStatus.ESCALATED if step.escalate else claimed.status
    entry = TimelineEntry(
        at=now,
        action=TimelineAction.ESCALATED if step.escalate else TimelineAction.ALERTED,
        actor_id=None,
        status=status,
        detail=f"step {e.step + 1}: {', '.join(a.value for a in audiences)}",
    )
    finished = await ports.store.incidents.finish_step(claimed, owner=owner, next_due=next_due, entry=entry)
    if finished is None:  # acknowledged or restarted while we asked: the alert stands, the ladder is theirs
        await ports.store.incidents.abandon_step(claimed.id, owner=owner)
        return claimed
    if announce:
        await publish_change(ports, finished)
    return finished


def inline_owner(incident: Incident) -> str:
    """The claim's owner when a request runs a step itself: this step of this revision (see run_step_now)."""
    return f"inline-{incident.id}-{incident.revision}"


async def run_due_steps(ports: Ports, owner: str, *, lease: timedelta = LEASE) -> int:
    """Runs every step due now, oldest first; a ladder far behind (after an outage) catches up step by step."""
    done = 0
    while done < MAX_STEPS_PER_PASS and await run_due_step(ports, owner, lease=lease) is not None:
        done += 1
    return done


async def run_step_now(
    ports: Ports,
    incident: Incident,
    policy: IncidentPolicy | None = None,
    *,
    announce: bool = True,
    claimed: bool = False,
) -> Incident:
    """Runs a just-started ladder's first step in the request, rather than on the worker's next pass.

    `announce=False` leaves the event to the caller, who announces the incident once with the step.
    The owner names this step of this revision: a sender's retry after the process died mid-step is
    the same owner and takes the claim back at once, rather than leaving the incident silent until
    the claim lapses (the claim does not change the revision).
    """
    owner = inline_owner(incident)
    try:
        if claimed:  # inserted with the claim (IncidentStore.insert): no claim to take
            ran: Incident | None = await run_claimed_step(ports, incident, owner, policy=policy, announce=announce)
        else:
            ran = await run_due_step(ports, owner, incident_id=incident.id, policy=policy, announce=announce)
    except Exception:  # the step is stored as due: the worker runs it once this claim's lease lapses
        logger.exception("first ladder step of %s failed; the worker will retry", incident.id)
        return incident
    return ran or incident
