"""Background work of this instance: polling the database for due checks every few seconds.

Nothing is held in memory: every job is claimed with a lease in the database, so several instances
can run this loop at once and a crashed instance's claims lapse to the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

from carecore.ids import new_id
from carecore.ports import Ports
from carecore.shifts.jobs import run_due_jobs

logger = logging.getLogger("carecore.workers")

POLL_SECONDS = 5.0

Job = Callable[[Ports, str], Awaitable[int]]


async def shift_checks(ports: Ports, owner: str) -> int:
    return await run_due_jobs(ports, owner=owner)


JOBS: tuple[Job, ...] = (shift_checks,)


def instance_owner() -> str:
    """Names this process in leases, so an operator can tell whose claim is whose."""
    return f"{socket.gethostname()}:{os.getpid()}:{new_id()[-8:]}"


async def poll(ports: Ports, owner: str, *, interval: float = POLL_SECONDS, jobs: tuple[Job, ...] = JOBS) -> None:
    """Runs every job, then sleeps; a failing round is logged and the loop goes on."""
    while True:
        for job in jobs:
            try:
                await job(ports, owner)
            except Exception:
                logger.exception("background job %s failed; retrying in %.0f s", job.__name__, interval)
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def running(ports: Ports, *, interval: float = POLL_SECONDS) -> AsyncIterator[asyncio.Task[None]]:
    """The polling loop for the lifetime of the app; cancelled at shutdown."""
    task = asyncio.create_task(poll(ports, instance_owner(), interval=interval), name="carecore-workers")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
