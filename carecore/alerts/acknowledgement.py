"""Acknowledging the subject of a notification (e.g. an incident) through its own domain.

A small registry the composition root fills, so the alerts core needs no import of the domains that
raise alerts. The incidents branch registers `acknowledge_incident` for subject type "Incident"; it
decides who is eligible and stops the ladder. Until then nothing is registered for incidents.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from carecore.access.principal import Principal
from carecore.ports import Ports

# (ports, actor, subject_id) -> None; raises Forbidden or NotFound when the actor is not eligible.
SubjectAcknowledger = Callable[[Ports, Principal, str], Awaitable[object]]

_ACKNOWLEDGERS: dict[str, SubjectAcknowledger] = {}


def register_acknowledger(subject_type: str, acknowledge: SubjectAcknowledger) -> None:
    """Idempotent: the same wiring may run once per app the process builds."""
    _ACKNOWLEDGERS[subject_type] = acknowledge


def unregister_acknowledger(subject_type: str) -> None:
    _ACKNOWLEDGERS.pop(subject_type, None)


def acknowledger_for(subject_type: str) -> SubjectAcknowledger | None:
    return _ACKNOWLEDGERS.get(subject_type)
