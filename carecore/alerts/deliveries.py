"""What became of the alerts about a subject: per recipient, the channels used and what they did.

Coordinators follow an incident's alerts from the console: whether each push reached a device, was
held for quiet hours or found none, whether the recipient opened or acknowledged it, and for CRITICAL
alerts the second channel (SMS, then a voice call) once the acknowledgement window closed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from carecore.access.policy import require_role
from carecore.access.principal import Principal, Role
from carecore.alerts.models import DeliveryState
from carecore.ports import Ports
from carecore.vocabulary import Severity


@dataclass(frozen=True, slots=True)
class Delivery:
    notification_id: str
    subject_id: str
    recipient_id: str
    recipient_name: str
    created_at: datetime
    push: DeliveryState
    read_at: datetime | None
    acknowledged_at: datetime | None
    second_channel: str | None  # the callout's state (WAITING, CALLED, SKIPPED, FAILED) and call status

    @property
    def delivered(self) -> bool:
        return self.push is DeliveryState.SENT or (self.second_channel is not None and "CALLED" in self.second_channel)


async def deliveries_of(ports: Ports, actor: Principal, subject_ids: Sequence[str]) -> dict[str, list[Delivery]]:
    """Coordinators: per subject of their agency, each recipient's alert, oldest first (three queries in all).

    The caller passes subjects it has just read through their own scope checks; copies of another
    agency's alerts are dropped whatever the ids.
    """
    require_role(actor, Role.COORDINATOR)
    if not subject_ids:
        return {}
    found = [n for n in await ports.store.notifications.for_subjects(subject_ids) if n.agency_id == actor.agency_id]
    users = await ports.store.users.get_many({n.user_id for n in found})
    callouts = await ports.store.callouts.get_many(n.id for n in found if n.severity is Severity.CRITICAL)
    result: dict[str, list[Delivery]] = defaultdict(list)
    for n in found:
        recipient = users.get(n.user_id)
        callout = callouts.get(n.id)
        second = None
        if callout is not None:
            second = callout.state + (f" ({callout.call_status})" if callout.call_status else "")
        result[n.subject_id].append(
            Delivery(
                notification_id=n.id,
                subject_id=n.subject_id,
                recipient_id=n.user_id,
                recipient_name=recipient.display_name if recipient else n.user_id,
                created_at=n.created_at,
                push=n.state,
                read_at=n.read_at,
                acknowledged_at=n.acknowledged_at,
                second_channel=second,
            )
        )
    return dict(result)
