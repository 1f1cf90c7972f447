"""The second channel: a CRITICAL alert nobody acknowledged in time also goes out by SMS and voice.

FCM is a convenience, not a lifeline (DESIGN "Notifications"): a phone may be off, and Firebase's
terms rule out relying on it for emergencies. Each CRITICAL notification gets a callout job when it
is routed; when its window closes and neither the recipient nor any eligible responder has
acknowledged, the recipient's phone number gets an SMS and a call. Pressing 1 on the call
acknowledges exactly as the app's button does. The server-side ladder escalates regardless.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from carecore.alerts import texts
from carecore.alerts.inbox import Acknowledgement, acknowledge_notification
from carecore.alerts.ports import Callout, SecondChannel
from carecore.errors import NotFound
from carecore.ports import Ports
from carecore.users.service import principal_for

logger = logging.getLogger(__name__)

CALLOUT_LEASE = timedelta(seconds=90)
RETRY_AFTER = timedelta(minutes=1)
MAX_ATTEMPTS = 3
# A call about an alert this old helps nobody (e.g. jobs left while the channel was switched off).
STALE_AFTER = timedelta(minutes=30)


async def call_out_due(ports: Ports, channel: SecondChannel, *, owner: str, limit: int = 20) -> int:
    """Places the due callouts; returns how many jobs this call finished or rescheduled."""
    handled = 0
    while handled < limit:
        now = ports.clock.now()
        job = await ports.store.callouts.claim(now=now, owner=owner, lease=CALLOUT_LEASE)
        if job is None:
            break
        changes = await _call_out(ports, channel, job.notification_id, job.user_id, job.attempts)
        await ports.store.callouts.finish(job.notification_id, owner=owner, changes=changes)
        handled += 1
    return handled


async def _call_out(
    ports: Ports, channel: SecondChannel, notification_id: str, user_id: str, attempts: int
) -> dict[str, object]:
    now = ports.clock.now()
    n = await ports.store.notifications.get(notification_id)
    if n is None or n.acknowledged_at or n.subject_acknowledged_at:
        return {"state": "SKIPPED", "due_at": None, "error": "acknowledged"}
    if now - n.created_at > STALE_AFTER:
        return {"state": "SKIPPED", "due_at": None, "error": "stale"}
    user = await ports.store.users.get(user_id)
    if user is None or not user.active or not user.phone:
        return {"state": "SKIPPED", "due_at": None, "error": "no phone"}
    about = texts.body(n.locale, n.severity, n.kind, n.person_name)
    result = await channel.call_out(Callout(n.id, user.phone, n.locale, about))
    if result.call_id or result.sms_id:
        return {"state": "CALLED", "due_at": None, "sms_id": result.sms_id, "call_id": result.call_id}
    # A provider outage is waited out until the alert is stale (nothing lost to a long outage); a
    # request the provider refuses is tried MAX_ATTEMPTS times.
    failed = not result.outage and attempts + 1 >= MAX_ATTEMPTS
    wait = max(RETRY_AFTER, timedelta(seconds=result.retry_after or 0))
    logger.warning("second channel failed for notification %s: %s", n.id, result.error)
    return {
        "state": "FAILED" if failed else "WAITING",
        "due_at": None if failed else now + wait,
        "attempts": attempts + 1,
        "error": result.error,
    }


async def acknowledge_by_call(ports: Ports, notification_id: str) -> Acknowledgement:
    """The callee pressed 1: acknowledge on their behalf, as if they had tapped the button.

    The caller tells the callee whether the subject is now acknowledged (`subject_acknowledged`): a
    guardian's key press, or a caregiver no longer serving the person, leaves the ladder running.
    """
    n = await ports.store.notifications.get(notification_id)
    user = await ports.store.users.get(n.user_id) if n else None
    if n is None or user is None or not user.active:
        raise NotFound("Notification", notification_id)
    return await acknowledge_notification(ports, await principal_for(ports, user), n.id)


async def record_call_status(ports: Ports, notification_id: str, call_id: str, status: str) -> None:
    """Keeps the provider's last word on a call (completed, no-answer, busy, failed)."""
    await ports.store.callouts.record_call_status(notification_id, call_id, status)
