"""The one loop every background task of an instance runs in, and how it stops.

A loop must end when its task is cancelled at shutdown. A library that catches the CancelledError
thrown into one of its awaits (closing a connection, retrying) and then raises something else or
returns would leave the loop running and the shutdown waiting for ever: measured here, about one
app shutdown in three hung in the clean-up loop's hour-long sleep. So after each pass the loop asks
its task whether a cancellation is pending, and honours it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import NoReturn

from carecore.storage.database import is_outage

logger = logging.getLogger("carecore.loops")


def stop_if_cancelled() -> None:
    """Raises CancelledError when the current task was asked to stop, whatever happened to the first one."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def repeat(name: str, step: Callable[[], Awaitable[int]], idle: float) -> NoReturn:
    """Runs `step` again at once while it finds work (it returns how much), else after `idle` seconds.

    A failing pass is logged and retried after `idle`: a database hiccup must not end the loop. An
    outage is one line per pass, without a traceback: during one, every loop fails every pass.
    """
    while True:
        try:
            done = await step()
        except Exception as exc:
            if is_outage(exc):
                logger.warning("background loop %s: a service is unavailable (%s); retrying", name, type(exc).__name__)
            else:
                logger.exception("background loop %s failed; retrying", name)
            done = 0
        stop_if_cancelled()
        await asyncio.sleep(0 if done else idle)
