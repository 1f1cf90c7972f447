"""Which consumer must handle which event kinds: the one place the clean-up job learns it from.

An event of a kind listed here is deleted only once every consumer of its kind has claimed it
(`handled_by`), so a consumer that is down, or failing on one event, loses nothing (docs I7). Events
of kinds nobody consumes (e.g. `incident.created`, read only by live subscriptions) just age out.

A consumer module takes its declaration with `consumer(name, *kinds)`, which fails at import when
this table does not say the same: a consumer the clean-up does not know of would lose its events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class EventConsumer:
    name: str  # what it writes into an event's `handled_by`
    kinds: tuple[str, ...]


CONSUMERS: tuple[EventConsumer, ...] = (
    EventConsumer("incidents", ("shift.missed",)),  # carecore/incidents/missed_visits.py
    EventConsumer("critical-tasks", ("shift.critical_task_missed",)),  # carecore/incidents/critical_tasks.py
    EventConsumer("alerts", ("incident.updated",)),  # carecore/alerts/events.py
    EventConsumer("reachability-alerts", ("reachability.changed",)),  # carecore/alerts/reachability.py
)


def consumers_by_kind(consumers: tuple[EventConsumer, ...] = CONSUMERS) -> Mapping[str, frozenset[str]]:
    """Event kind -> the names of the consumers that must handle each event of that kind."""
    found: dict[str, set[str]] = {}
    for c in consumers:
        for kind in c.kinds:
            found.setdefault(kind, set()).add(c.name)
    return MappingProxyType({kind: frozenset(names) for kind, names in found.items()})


def consumer(name: str, *kinds: str) -> EventConsumer:
    """The registered consumer `name`; raises unless it is declared for exactly `kinds`."""
    declared = next((c for c in CONSUMERS if c.name == name), None)
    if declared is None or set(declared.kinds) != set(kinds):
        raise LookupError(f"event consumer {name!r} of {kinds} is not declared in carecore/events/consumers.py")
    return declared
