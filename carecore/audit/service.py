"""Recording reads of health data and every change."""

from __future__ import annotations

from collections.abc import Iterable

from carecore.access.principal import Principal
from carecore.audit.models import AuditEntry
from carecore.ids import new_id
from carecore.ports import Ports


async def record(ports: Ports, actor: Principal, action: str, object_type: str, object_ids: Iterable[str]) -> None:
    """Appends one entry per object, in a single write."""
    at = ports.clock.now()
    await ports.store.audit.append(
        [
            AuditEntry(
                id=new_id(),
                agency_id=actor.agency_id,
                actor_id=actor.user_id,
                actor_role=actor.role.value,
                action=action,
                object_type=object_type,
                object_id=object_id,
                at=at,
            )
            for object_id in dict.fromkeys(object_ids)
        ]
    )
