"""The in-app inbox: every notification a user received, read and acknowledged state included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from carecore.access.policy import require_role
from carecore.access.principal import Principal, Role
from carecore.alerts.models import Notification
from carecore.alerts.router import ALERTS_ROUTED, notification_id
from carecore.audit.service import audits, record
from carecore.errors import NotFound, ValidationFailed
from carecore.events.models import DomainEvent
from carecore.ids import is_valid_id
from carecore.pagination import Page, PageRequest
from carecore.ports import Ports


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    notification: Notification
    # True when an eligible responder acknowledged the subject (e.g. the incident): by this call or earlier.
    subject_acknowledged: bool


async def list_notifications(
    ports: Ports, actor: Principal, page: PageRequest, *, unread_only: bool, updated_since: datetime | None = None
) -> Page[Notification]:
    """The caller's own notifications, newest first; with `updated_since`, those created, read,
    acknowledged or delivered after it, oldest change first: a mobile app's delta."""
    if updated_since is not None and updated_since.tzinfo is None:
        raise ValidationFailed("updatedSince needs a time zone offset.", field="updatedSince")
    return await ports.store.notifications.list_for_user(
        actor.user_id, page, unread_only=unread_only, updated_since=updated_since
    )


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
    """Only the subject's own domain says whether this acknowledgement stopped its ladder (invariant I4).

    An unknown subject type acknowledges nothing (fail closed): a recipient's word then silences
    only their own notification, and everyone else's second channel still runs.
    """
    acknowledge = ports.acknowledgers.get(notification.subject_type)
    if acknowledge is None:
        return False
    return await acknowledge(ports, actor, notification.subject_id)


def _valid(notification_id: str) -> str:
    return notification_id if is_valid_id(notification_id) else "0" * 24


def check_inbox_watch(actor: Principal) -> None:
    """May the caller follow their inbox live? Everyone with an inbox: AI services have none."""
    require_role(actor, Role.COORDINATOR, Role.CAREGIVER, Role.FAMILY)


async def notification_for_update(ports: Ports, actor: Principal, event: DomainEvent) -> Notification | None:
    """The caller's own notification of a routed alert request, if they are among its recipients.

    Checked on every event: only the caller's copy (its id is derived from the request and the caller),
    of the caller's agency, is ever read.
    """
    if event.kind != ALERTS_ROUTED or event.agency_id != actor.agency_id:
        return None
    found = await ports.store.notifications.get(notification_id(event.subject_id, actor.user_id))
    return found if found is not None and found.user_id == actor.user_id else None
