"""The in-app inbox: every notification a user received, read and acknowledged state included."""

from __future__ import annotations

from dataclasses import dataclass

from carecore.access.principal import Principal
from carecore.alerts.acknowledgement import acknowledger_for
from carecore.alerts.models import Notification
from carecore.audit.service import audits, record
from carecore.errors import Forbidden, NotFound, StateConflict
from carecore.ids import is_valid_id
from carecore.pagination import Page, PageRequest
from carecore.ports import Ports


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    notification: Notification
    # True when the subject (e.g. the incident) counts as acknowledged: by this call or earlier.
    subject_acknowledged: bool


async def list_notifications(
    ports: Ports, actor: Principal, page: PageRequest, *, unread_only: bool
) -> Page[Notification]:
    """The caller's own notifications, newest first."""
    return await ports.store.notifications.list_for_user(actor.user_id, page, unread_only=unread_only)


async def mark_read(ports: Ports, actor: Principal, notification_id: str) -> Notification:
    """Marks one of the caller's notifications read (the first time is kept)."""
    found = await ports.store.notifications.mark_read(_valid(notification_id), actor.user_id, ports.clock.now())
    if found is None:
        raise NotFound("Notification", notification_id, field="id")
    await record(ports, actor, "notification.read", "Notification", [found.id])
    return found


@audits("notification.acknowledge", "Notification", "notification_id")
async def acknowledge_notification(ports: Ports, actor: Principal, notification_id: str) -> Acknowledgement:
    """Acknowledges a notification, and its subject too when the caller is an eligible responder."""
    now = ports.clock.now()
    found = await ports.store.notifications.acknowledge(_valid(notification_id), actor.user_id, now)
    if found is None:
        raise NotFound("Notification", notification_id, field="id")
    if found.subject_acknowledged_at is not None:
        return Acknowledgement(found, subject_acknowledged=True)
    if not await _acknowledge_subject(ports, actor, found):
        return Acknowledgement(found, subject_acknowledged=False)
    await ports.store.notifications.mark_subject_acknowledged(found.subject_id, now)
    refreshed = await ports.store.notifications.get(found.id)
    return Acknowledgement(refreshed or found, subject_acknowledged=True)


async def _acknowledge_subject(ports: Ports, actor: Principal, notification: Notification) -> bool:
    acknowledge = acknowledger_for(notification.subject_type)
    if acknowledge is None:
        return True  # nothing else to acknowledge: the recipient's word is the acknowledgement
    try:
        await acknowledge(ports, actor, notification.subject_id)
    except StateConflict:
        return True  # already acknowledged (or resolved) by someone else: nobody needs waking
    except (Forbidden, NotFound):
        return False  # told, but not an eligible responder (e.g. a guardian of a CRITICAL incident)
    return True


def _valid(notification_id: str) -> str:
    return notification_id if is_valid_id(notification_id) else "0" * 24
