"""Routing: each accepted alert request becomes one stored notification per recipient.

Notifications are written before anything is sent, with ids derived from (request, recipient), so a
router that dies half-way is simply run again by the next one to claim the request: nothing doubles.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from carecore.agencies.models import DEFAULT_TIMEZONE
from carecore.alerts import texts
from carecore.alerts.audiences import resolve_audiences
from carecore.alerts.models import AlertRequest, Notification, Preferences
from carecore.alerts.rules import Night, initial_state
from carecore.errors import AlreadyExists
from carecore.events.models import DomainEvent
from carecore.events.service import publish
from carecore.ids import id_for_key
from carecore.people.models import Person
from carecore.ports import Ports
from carecore.users.models import User
from carecore.vocabulary import Severity

# Routing a request takes well under a second; a router that dies holds a CRITICAL alert back no longer
# than a dead ladder step holds its incident (carecore.incidents.escalation.LEASE). A router slower than
# its lease only lets another route the same request again, which the notification ids make a no-op.
ROUTE_LEASE = timedelta(seconds=15)
# A CRITICAL alert not acknowledged within this window also goes out by SMS and voice.
SECOND_CHANNEL_AFTER = timedelta(minutes=2)
# Published once a request's notifications are all written: live inboxes (and open-shift offers) read
# their own copy from it. It names the request only; each subscriber finds its notification by id.
ALERTS_ROUTED = "alerts.routed"


def notification_id(request_id: str, user_id: str) -> str:
    return id_for_key(request_id, user_id)


def _name(person: Person | None) -> str | None:
    return (person.profile.preferred_name or person.profile.name) if person else None


def _notification(
    request: AlertRequest,
    user: User,
    person: Person | None,
    prefs: Preferences,
    zone: ZoneInfo,
    night: Night,
    now: datetime,
) -> Notification:
    state, due = initial_state(prefs, request.kind, request.severity, now, zone, night)
    name = _name(person)
    return Notification(
        id=notification_id(request.id, user.id),
        agency_id=request.agency_id,
        user_id=user.id,
        request_id=request.id,
        kind=request.kind,
        severity=request.severity,
        subject_type=request.subject_type,
        subject_id=request.subject_id,
        person_id=person.id if person else None,
        person_name=name,
        locale=texts.supported(user.locale),
        title=texts.title(user.locale, request.severity),
        body=texts.body(user.locale, request.severity, request.kind, name),
        created_at=request.created_at,
        state=state,
        push_at=due,
        next_attempt_at=due,
        # When it reached the inbox: a delta sync (notifications updatedSince) must see a request routed
        # after the client's last sync even when it was created before.
        updated_at=now,
    )


async def route_request(ports: Ports, request: AlertRequest) -> list[Notification]:
    """Writes the notifications of one request (those already written are kept as they are)."""
    now = ports.clock.now()
    person = await ports.store.people.get(request.person_id) if request.person_id else None
    if person is not None and person.agency_id != request.agency_id:
        person = None
    recipients = await resolve_audiences(ports, request, person, now)
    prefs = await ports.store.notification_preferences.get_many(u.id for u in recipients)
    agency = await ports.store.agencies.get(request.agency_id)
    agency_zone = agency.timezone if agency else DEFAULT_TIMEZONE
    night = Night(await ports.store.incident_policies.night_window(request.agency_id), ZoneInfo(agency_zone))
    written: list[Notification] = []
    for user in recipients:
        zone = ZoneInfo(prefs[user.id].timezone or agency_zone)
        notification = _notification(request, user, person, prefs[user.id], zone, night, now)
        # Already there when a router died before finishing this request: keep what it wrote.
        with contextlib.suppress(AlreadyExists):
            await ports.store.notifications.insert(notification)
        if request.severity is Severity.CRITICAL:
            await ports.store.callouts.schedule(
                notification.id, agency_id=request.agency_id, user_id=user.id, due_at=now + SECOND_CHANNEL_AFTER
            )
        written.append(notification)
    # Last, so a subscriber always finds its notification; a router that dies before it routes the
    # request again (nothing doubles) and publishes it then, once (the id is the request's).
    await publish(
        ports,
        DomainEvent(
            id=id_for_key(ALERTS_ROUTED, request.id),
            agency_id=request.agency_id,
            kind=ALERTS_ROUTED,
            subject_type="AlertRequest",
            subject_id=request.id,
            at=now,
            data={"alert_kind": request.kind.value},
        ),
    )
    return written


async def route_due(ports: Ports, *, owner: str, limit: int = 50) -> int:
    """Routes due alert requests one claim at a time; returns how many this call finished."""
    routed = 0
    while routed < limit:
        request = await ports.store.alert_requests.claim_due(now=ports.clock.now(), owner=owner, lease=ROUTE_LEASE)
        if request is None:
            break
        await route_request(ports, request)
        await ports.store.alert_requests.mark_routed(request.id, owner=owner, now=ports.clock.now())
        routed += 1
    return routed
