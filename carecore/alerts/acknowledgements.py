"""Acknowledging what an alert was about, without the alert pipeline knowing each domain.

The notification pipeline calls `acknowledge_subject` when a recipient acknowledges a notification;
the domain that owns the subject type (e.g. incidents for "Incident") registers its handler at the
composition root. The handler decides, with its own rules, whether that acknowledgement counts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from carecore.access.principal import Principal
from carecore.ports import Ports

Handler = Callable[[Ports, Principal, str], Awaitable[object]]

_handlers: dict[str, Handler] = {}


def register_acknowledgement(subject_type: str, handler: Handler) -> None:
    """Called once per subject type at start-up; registering again replaces the handler."""
    _handlers[subject_type] = handler


async def acknowledge_subject(ports: Ports, actor: Principal, subject_type: str, subject_id: str) -> bool:
    """Passes an acknowledgement to the subject's domain; False when no domain handles the type."""
    handler = _handlers.get(subject_type)
    if handler is None:
        return False
    await handler(ports, actor, subject_id)
    return True
