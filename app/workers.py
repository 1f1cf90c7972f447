"""Background loops of this instance: shift checks, routing, dispatch, second channel and clean-up.

Each loop claims its work from the database with leases (never holding it in memory), so any
number of instances run the same loops; a loop that fails logs and carries on after a pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from carecore.alerts.cleanup import clean_up
from carecore.alerts.dispatcher import Dispatcher
from carecore.alerts.events import alert_on_events
from carecore.alerts.ports import PushSender, SecondChannel
from carecore.alerts.router import route_due
from carecore.alerts.second_channel import call_out_due
from carecore.events.cleanup import delete_old_events
from carecore.ports import Ports
from carecore.shifts.jobs import run_due_jobs

logger = logging.getLogger("carecore.workers")

CLEAN_UP_EVERY = 3600.0


@dataclass
class Workers:
    tasks: list[asyncio.Task[None]]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _loop(name: str, step: Callable[[], Awaitable[int]], idle: float) -> None:
    """Runs `step` again at once while it finds work, else after `idle` seconds."""
    while True:
        try:
            done = await step()
        except Exception:
            logger.exception("background loop %s failed; retrying", name)
            done = 0
        await asyncio.sleep(0 if done else idle)


def start_workers(
    ports: Ports, *, push: PushSender | None, second: SecondChannel | None, instance: str, interval: float
) -> Workers:
    steps: dict[str, tuple[Callable[[], Awaitable[int]], float]] = {
        "shift-checks": (lambda: run_due_jobs(ports, owner=f"shifts-{instance}"), interval),
        "events": (lambda: alert_on_events(ports), interval),
        "router": (lambda: route_due(ports, owner=f"router-{instance}"), interval),
        "clean-up": (lambda: clean_up(ports), CLEAN_UP_EVERY),
        "events-clean-up": (lambda: delete_old_events(ports), CLEAN_UP_EVERY),
    }
    if push is not None:
        dispatcher = Dispatcher(ports, push, owner=f"dispatch-{instance}")
        steps["dispatcher"] = (dispatcher.run_once, interval)
    if second is not None:
        steps["second-channel"] = (lambda: call_out_due(ports, second, owner=f"callout-{instance}"), interval)
    tasks = [
        asyncio.create_task(_loop(name, step, idle), name=f"carecore-{name}") for name, (step, idle) in steps.items()
    ]
    logger.info("background loops started: %s", ", ".join(steps))
    return Workers(tasks)
