"""Recording reads of health data and every change (DESIGN: an audit entry for every change).

Reads are recorded after they happened (`record`). Changes are audited write-ahead (`audited`): the
entries are written PENDING before the change, so a process that dies anywhere in the change still
leaves its entry; they become DONE when the change returns and REFUSED when it raises a domain error.
Each step is one write for the whole batch of objects (insert_many, then update_many).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import ParamSpec, TypeVar

from carecore.access.principal import Principal
from carecore.audit.models import AuditEntry, AuditOutcome
from carecore.errors import DomainError
from carecore.ids import new_id
from carecore.ports import Ports

P = ParamSpec("P")
T = TypeVar("T")

SYSTEM = "system"  # actor id and role of changes the system makes by itself (e.g. a missed visit's incident)
OPERATOR = "platform_operator"  # the role of changes a platform operator makes from the command line


def _entries(
    ports: Ports,
    actor: Principal | None,
    action: str,
    object_type: str,
    object_ids: Iterable[str],
    *,
    agency_id: str | None,
    outcome: AuditOutcome,
    reason: str | None = None,
    operator: str | None = None,
) -> list[AuditEntry]:
    agency = actor.agency_id if actor is not None else agency_id
    if agency is None:
        raise ValueError("a system audit entry needs the agency it belongs to")
    at = ports.clock.now()
    actor_id, actor_role = (actor.user_id, actor.role.value) if actor is not None else (SYSTEM, SYSTEM)
    if actor is None and operator is not None:
        actor_id, actor_role = f"operator:{operator}", OPERATOR
    return [
        AuditEntry(
            id=new_id(),
            agency_id=agency,
            actor_id=actor_id,
            actor_role=actor_role,
            action=action,
            object_type=object_type,
            object_id=object_id,
            at=at,
            outcome=outcome,
            reason=reason,
        )
        for object_id in dict.fromkeys(object_ids)
    ]


async def record(ports: Ports, actor: Principal, action: str, object_type: str, object_ids: Iterable[str]) -> None:
    """Appends one DONE entry per object, in a single write: for reads, which change nothing."""
    await ports.store.audit.append(
        _entries(ports, actor, action, object_type, object_ids, agency_id=None, outcome=AuditOutcome.DONE)
    )


async def refused_changes(ports: Ports, object_id: str, action: str) -> list[AuditEntry]:
    """The attempts at one kind of change to an object that were refused, oldest first (no caller check:
    the domain that asks has checked its caller)."""
    entries = await ports.store.audit.for_action(object_id, action)
    return sorted((e for e in entries if e.outcome is AuditOutcome.REFUSED), key=lambda e: e.at)


class Audit:
    """The pending entries of one change, handed to the block that makes it."""

    def __init__(self, entries: list[AuditEntry]) -> None:
        self.entries = entries
        self.landed_on: str | None = None

    def landed(self, object_id: str) -> None:
        """Names the object a single-object change really landed on when it was only known after (a merge)."""
        self.landed_on = object_id


@asynccontextmanager
async def audited(
    ports: Ports,
    actor: Principal | None,
    action: str,
    object_type: str,
    object_ids: Iterable[str],
    *,
    agency_id: str | None = None,
    reason: str | None = None,
    operator: str | None = None,
) -> AsyncIterator[Audit]:
    """Audits the change made inside the block write-ahead: PENDING, then DONE or REFUSED.

    `actor` None is the system, or the platform `operator` named, which names the `agency_id`. An
    unexpected exception, or the process dying, leaves the entries PENDING: the change was attempted
    and its outcome is unknown.
    """
    audit = Audit(
        _entries(
            ports,
            actor,
            action,
            object_type,
            object_ids,
            agency_id=agency_id,
            outcome=AuditOutcome.PENDING,
            reason=reason,
            operator=operator,
        )
    )
    ids = [e.id for e in audit.entries]
    await ports.store.audit.append(audit.entries)
    try:
        yield audit
    except DomainError as exc:
        await ports.store.audit.settle(ids, AuditOutcome.REFUSED, error=type(exc).__name__)
        raise
    object_id = audit.landed_on if len(ids) == 1 else None
    await ports.store.audit.settle(ids, AuditOutcome.DONE, object_id=object_id)


def audits(
    action: str, object_type: str, id_param: str
) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """Audits a whole `verb_noun(ports, actor, ...)` service function write-ahead, like `audited`.

    The object is the function's `id_param` argument, so the entry is written before anything else,
    and an attempt refused on the way (not found, forbidden, invalid, conflicting) is recorded REFUSED.
    """

    def decorate(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        async def audited_fn(*args: P.args, **kwargs: P.kwargs) -> T:
            arguments = signature.bind(*args, **kwargs).arguments
            async with audited(arguments["ports"], arguments["actor"], action, object_type, [arguments[id_param]]):
                return await fn(*args, **kwargs)

        return audited_fn

    return decorate
