"""The incidents' background work, safe to run on every instance at once: ladder steps, missed visits
and missed critical tasks."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import timedelta

from carecore.ids import new_id
from carecore.incidents.critical_tasks import consume_critical_tasks
from carecore.incidents.escalation import LEASE, run_due_steps
from carecore.incidents.missed_visits import consume_missed_visits
from carecore.ports import Ports


@dataclass
class IncidentWorker:
    """Everything it needs is claimed in the database; it holds nothing in memory that a crash could lose."""

    ports: Ports
    lease: timedelta = LEASE
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}-{new_id()}")

    async def run_once(self) -> int:
        """One pass: every due ladder step, then the missed visits and critical tasks; returns how much it did."""
        steps = await run_due_steps(self.ports, self.owner, lease=self.lease)
        missed = await consume_missed_visits(self.ports)
        tasks = await consume_critical_tasks(self.ports)
        return steps + missed + tasks
