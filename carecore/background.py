"""Every background job of the core in one list: each instance runs them all, and crash tests recover
with exactly the same list, so a job that finishes an interrupted flow cannot be forgotten in either.

A job claims its work in the database (leases, per-consumer event claims), so any number of instances
run every job at once. `run(ports, owner)` does one pass and returns how much it did; 0 means idle.
The delivery adapters' loops (push, second channel) need senders and are added by the composition root.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from carecore.alerts.cleanup import clean_up
from carecore.alerts.events import alert_on_events
from carecore.alerts.reachability import alert_on_reachability
from carecore.alerts.router import route_due
from carecore.care_plans.service import finish_approvals
from carecore.events.cleanup import delete_old_events
from carecore.fhir.export import clean_up_exports, run_exports
from carecore.health.service import finish_evaluations
from carecore.incidents.escalation import LEASE
from carecore.incidents.stranded_flags import finish_stranded_flags
from carecore.incidents.worker import IncidentWorker
from carecore.ports import Ports
from carecore.reachability.service import run_reachability
from carecore.shifts.jobs import run_due_jobs
from carecore.users.service import publish_lagging_claims

HOURLY = 3600.0


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    run: Callable[[Ports, str], Awaitable[int]]
    every: float | None = None  # seconds between idle passes; None: the instance's poll interval


def core_jobs(*, escalation_lease: timedelta = LEASE) -> tuple[Job, ...]:
    """The jobs in the order a recovery pass runs them: what opens incidents before what alerts on them."""

    async def incidents(ports: Ports, owner: str) -> int:
        return await IncidentWorker(ports, lease=escalation_lease, owner=owner).run_once()

    async def stranded_flags(ports: Ports, owner: str) -> int:
        return await finish_stranded_flags(ports, owner)

    async def shift_checks(ports: Ports, owner: str) -> int:
        return await run_due_jobs(ports, owner=owner)

    async def incident_events(ports: Ports, owner: str) -> int:
        return await alert_on_events(ports)

    async def reachability_events(ports: Ports, owner: str) -> int:
        return await alert_on_reachability(ports)

    async def router(ports: Ports, owner: str) -> int:
        return await route_due(ports, owner=owner)

    async def alerts_clean_up(ports: Ports, owner: str) -> int:
        return await clean_up(ports)

    async def events_clean_up(ports: Ports, owner: str) -> int:
        return await delete_old_events(ports)

    return (
        Job("shift-checks", shift_checks),
        Job("stranded-flags", stranded_flags),
        Job("health-evaluations", finish_evaluations),
        Job("reachability", run_reachability),
        Job("incidents", incidents),
        Job("incident-events", incident_events),
        Job("reachability-events", reachability_events),
        Job("router", router),
        Job("care-plan-approvals", finish_approvals),
        Job("claims", publish_lagging_claims),
        Job("clean-up", alerts_clean_up, HOURLY),
        Job("events-clean-up", events_clean_up, HOURLY),
        Job("fhir-exports", run_exports),
        Job("fhir-exports-clean-up", clean_up_exports, HOURLY),
    )


JOBS = core_jobs()
