"""SYSTEM incidents from the shift module: a critical task occurrence missed, refused or not done
(`shift.critical_task_missed`, one event per occurrence).

I3: every such occurrence raises exactly one incident. Its key derives from (shift, task, due time),
so racing instances, a rerun after a crash, and two reasons for one occurrence (overdue, then logged
as refused) all find the same incident. As with missed visits the incident is opened before the event
is claimed, and these incidents never merge: each occurrence is a dose or a task of its own.

A MEDICATION task raises a MEDICATION incident, any other an OTHER one; the plan's risk protocol for
that type goes into the summary and the evidence, so whoever is woken reads what to do. The plan
marked the task critical, "a missed one must raise an alert": the incident is at least HIGH, so it
reaches the caregiver on shift and coordinators at once, at night too, and escalates on its ladder.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from carecore import tracing
from carecore.agencies.service import get_agency
from carecore.care_plans.models import CarePlan, SupportTask
from carecore.events.consumers import consumer
from carecore.events.models import DomainEvent
from carecore.ids import id_for_key
from carecore.incidents.models import Evidence, IncidentSource, IncidentType, Opened, Severity, Signal
from carecore.incidents.opening import Opening, open_incident
from carecore.incidents.policies import policy_for
from carecore.incidents.rules import base_severity
from carecore.ports import Ports
from carecore.vocabulary import TaskCategory

CRITICAL_TASK_MISSED = "shift.critical_task_missed"
CONSUMER = consumer("critical-tasks", CRITICAL_TASK_MISSED).name
OUTCOMES = {"MISSED": "was not logged", "REFUSED": "was refused", "NOT_DONE": "was not done"}

logger = logging.getLogger(__name__)


def _task(plan: CarePlan | None, task_id: object) -> SupportTask | None:
    return next((t for t in plan.content.tasks if t.id == task_id), None) if plan else None


def _protocol(plan: CarePlan | None, incident_type: IncidentType) -> str | None:
    found = [p.instructions for p in plan.content.risk_protocols if p.incident_type is incident_type] if plan else []
    return found[0] if found else None


async def _summary(ports: Ports, event: DomainEvent, task: SupportTask | None, protocol: str | None) -> str:
    title = task.title if task else "a critical task"
    what = OUTCOMES.get(str(event.data.get("outcome")), "was not done")
    due_at = event.data.get("due_at")
    when = ""
    if isinstance(due_at, str):
        tz = (await get_agency(ports, event.agency_id)).timezone
        when = f" (due {datetime.fromisoformat(due_at).astimezone(ZoneInfo(tz)).strftime('%H:%M')})"
    summary = f"Critical task {title}{when} {what}."
    return f"{summary} Protocol: {protocol}" if protocol else summary


async def open_critical_task_incident(ports: Ports, event: DomainEvent) -> Opened | None:
    """Opens the incident of one occurrence; None when the event names no person of its agency."""
    person = await ports.store.people.get(event.person_id) if event.person_id else None
    if person is None or person.agency_id != event.agency_id:
        logger.warning("%s %s names no person of its agency; skipped", CRITICAL_TASK_MISSED, event.id)
        return None
    plan_id = event.data.get("plan_id")
    plan = await ports.store.care_plans.get(plan_id) if isinstance(plan_id, str) else None
    task = _task(plan, event.data.get("task_id"))
    # A plan or task that cannot be read still raises the incident: the signal matters more than its label.
    incident_type = IncidentType.MEDICATION if task and task.category is TaskCategory.MEDICATION else IncidentType.OTHER
    protocol = _protocol(plan, incident_type)
    policy = await policy_for(ports, person.agency_id)
    severity = max(base_severity(policy, incident_type, person), Severity.HIGH, key=lambda s: s.rank)
    signals = tuple(
        Signal(name, str(event.data[name])) for name in ("task_id", "due_at", "outcome") if event.data.get(name)
    )
    summary = await _summary(ports, event, task, protocol)
    opening = Opening(
        key=id_for_key(person.agency_id, CRITICAL_TASK_MISSED, event.subject_id, *_occurrence(event)),
        agency_id=person.agency_id,
        person_id=person.id,
        type=incident_type,
        severity=severity,
        in_review=False,  # the plan said a miss must raise an alert: never left waiting for review
        source=IncidentSource.SYSTEM,
        summary=summary,
        mergeable=False,
        evidence=Evidence(summary=protocol or "", signals=signals),
        related_shift_id=event.subject_id,
    )
    return await open_incident(ports, opening, policy, None)


def _occurrence(event: DomainEvent) -> tuple[str, str]:
    return str(event.data.get("task_id")), str(event.data.get("due_at"))


async def consume_critical_tasks(ports: Ports, limit: int = 100) -> int:
    """One pass over unclaimed `shift.critical_task_missed` events; returns how many this instance claimed."""
    claimed = 0
    for event in await ports.store.events.unclaimed(
        CONSUMER, [CRITICAL_TASK_MISSED], now=ports.clock.now(), limit=limit
    ):
        with tracing.scope(event.request_id):
            await open_critical_task_incident(ports, event)  # effect first: a crash before the claim repeats it
            claimed += await ports.store.events.claim(event.id, CONSUMER)
    return claimed
