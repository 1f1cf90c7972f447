"""Publishing domain events."""

from __future__ import annotations

from carecore.errors import AlreadyExists
from carecore.events.models import DomainEvent
from carecore.ports import Ports


async def publish(ports: Ports, event: DomainEvent) -> bool:
    """Appends an event; False when an event with this id was already published (a retry)."""
    try:
        await ports.store.events.append(event)
    except AlreadyExists:
        return False
    return True
