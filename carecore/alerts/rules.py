"""Pure rules of alert delivery: who is held by quiet hours, how long a push lives, when to retry."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from carecore.alerts.models import AlertKind, DeliveryState, Preferences, QuietHours
from carecore.errors import ValidationFailed
from carecore.vocabulary import Severity

# A push older than this is noise, not help: FCM drops it after the TTL and retries stop then.
TIME_TO_LIVE: dict[AlertKind, timedelta] = {
    AlertKind.INCIDENT: timedelta(hours=1),
    AlertKind.LATE_VISIT: timedelta(minutes=30),
    AlertKind.COVERAGE_GAP: timedelta(hours=1),
    AlertKind.GEOFENCE_EXCEPTION: timedelta(hours=2),
    AlertKind.VISIT_CLOCK_SKEW: timedelta(hours=2),
    AlertKind.OPEN_SHIFT_OFFER: timedelta(hours=4),
    AlertKind.SHIFT_CHANGE: timedelta(hours=12),
    AlertKind.UNREACHABLE: timedelta(hours=12),
    AlertKind.HUMAN_CALL_TASK: timedelta(hours=4),  # the ladder visits after the human call's 4 hours
    AlertKind.VISIT_REQUEST: timedelta(hours=4),
    AlertKind.WELLNESS_CHECK: timedelta(minutes=30),  # unanswered by then, a human calls instead
}

RETRY_BASE = timedelta(seconds=5)
RETRY_CAP = timedelta(minutes=5)
MAX_DEVICES_PER_USER = 10


def is_urgent(severity: Severity) -> bool:
    """Urgent pushes get high priority on Android and a time-sensitive interruption on iOS."""
    return severity in (Severity.CRITICAL, Severity.HIGH)


def in_quiet_hours(quiet: QuietHours, local: time) -> bool:
    if quiet.start == quiet.end:
        return False  # an empty window, not a whole day: a muted phone is a setting of the phone
    if quiet.start < quiet.end:
        return quiet.start <= local < quiet.end
    return local >= quiet.start or local < quiet.end


def quiet_hours_end(quiet: QuietHours, now: datetime, zone: ZoneInfo) -> datetime:
    """The next moment the window ends, as a UTC-aware datetime."""
    local = now.astimezone(zone)
    end = datetime.combine(local.date(), quiet.end, tzinfo=zone)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), quiet.end, tzinfo=zone)
    return end.astimezone(now.tzinfo)


@dataclass(frozen=True, slots=True)
class Night:
    """The agency's night window and the agency's time zone it is read in."""

    window: QuietHours
    zone: ZoneInfo


def initial_state(
    prefs: Preferences, kind: AlertKind, severity: Severity, now: datetime, zone: ZoneInfo, night: Night | None = None
) -> tuple[DeliveryState, datetime | None]:
    """Where a new notification starts, and when its push is due. CRITICAL is never silenced.

    A push waits for the recipient's quiet hours, and a non-urgent one for the agency's night too,
    whether or not the recipient set quiet hours: nobody is woken for a MEDIUM alert. It is pushed
    when the later of the two ends.
    """
    if severity is Severity.CRITICAL:
        return DeliveryState.QUEUED, now
    if kind in prefs.muted_kinds:
        return DeliveryState.SUPPRESSED, None
    ends: list[datetime] = []
    quiet = prefs.quiet_hours
    if quiet is not None and in_quiet_hours(quiet, now.astimezone(zone).time()):
        ends.append(quiet_hours_end(quiet, now, zone))
    if (
        night is not None
        and not is_urgent(severity)
        and in_quiet_hours(night.window, now.astimezone(night.zone).time())
    ):
        ends.append(quiet_hours_end(night.window, now, night.zone))
    if ends:
        return DeliveryState.HELD, max(ends)
    return DeliveryState.QUEUED, now


def retry_delay(attempts: int, retry_after: float | None, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter, never sooner than the server's Retry-After."""
    ceiling = min(RETRY_CAP, RETRY_BASE * (2 ** max(attempts - 1, 0)))
    jittered = ceiling * (0.5 + 0.5 * (rng or random).random())
    floor = timedelta(seconds=retry_after or 0)
    return jittered if jittered > floor else floor


MAX_TIMEZONE_NAME = 64  # the longest IANA name has 32 characters


def check_timezone(name: str | None) -> None:
    if name is None:
        return
    # ZoneInfo looks the name up as a file: a long one raises OSError (name too long), not KeyError.
    try:
        if len(name) > MAX_TIMEZONE_NAME:
            raise ValueError(name)
        ZoneInfo(name)
    except (KeyError, ValueError, OSError) as exc:
        raise ValidationFailed("timezone must be an IANA time zone such as Asia/Seoul.", field="timezone") from exc
