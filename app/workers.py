"""Background loops of this instance: every core job (carecore.background), push and the second channel.

Each loop claims its work from the database with leases (never holding it in memory), so any
number of instances run the same loops; a loop that fails logs and carries on after a pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import NoReturn

from carecore.alerts.dispatcher import Dispatcher
from carecore.alerts.ports import PushSender, SecondChannel
from carecore.alerts.second_channel import call_out_due
from carecore.background import core_jobs
from carecore.incidents.escalation import LEASE
from carecore.loops import repeat
from carecore.ports import Ports

logger = logging.getLogger("carecore.workers")


@dataclass
class Workers:
    tasks: list[asyncio.Task[NoReturn]]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def start_workers(
    ports: Ports,
    *,
    push: PushSender | None,
    second: SecondChannel | None,
    instance: str,
    interval: float,
    escalation_lease: timedelta = LEASE,
) -> Workers:
    steps: dict[str, tuple[Callable[[], Awaitable[int]], float]] = {
        job.name: (functools.partial(job.run, ports, f"{job.name}-{instance}"), job.every or interval)
        for job in core_jobs(escalation_lease=escalation_lease)
    }
    if push is not None:
        dispatcher = Dispatcher(ports, push, owner=f"dispatch-{instance}")
        steps["dispatcher"] = (dispatcher.run_once, interval)
    if second is not None:
        steps["second-channel"] = (lambda: call_out_due(ports, second, owner=f"callout-{instance}"), interval)
    tasks = [
        asyncio.create_task(repeat(name, step, idle), name=f"carecore-{name}") for name, (step, idle) in steps.items()
    ]
    logger.info("background loops started: %s", ", ".join(steps))
    return Workers(tasks)
