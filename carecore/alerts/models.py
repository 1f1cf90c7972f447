"""Alert requests: what the shift and incident modules ask to be told to people.

A request names audiences, not devices; the notification pipeline resolves audiences to users
(presence, guardian permissions, exclusions), writes each recipient's notification to the outbox
and inbox, and delivers it. Requests are stored before anything else happens, so none is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum

from carecore.vocabulary import AlertKind as AlertKind
from carecore.vocabulary import Audience as Audience
from carecore.vocabulary import Severity


@dataclass(frozen=True, slots=True)
class AlertRequest:
    id: str  # derived from what caused it (ids.id_for_key), so asking twice is one request
    agency_id: str
    kind: AlertKind
    severity: Severity
    subject_type: str  # "Incident", "Shift", ...
    subject_id: str
    audiences: tuple[Audience, ...]
    created_at: datetime
    person_id: str | None = None
    user_ids: tuple[str, ...] = ()
    # Never told, whatever the audiences say: e.g. the alleged perpetrator of an abuse report.
    exclude_user_ids: tuple[str, ...] = ()


class Platform(StrEnum):
    ANDROID = "ANDROID"
    IOS = "IOS"
    WEB = "WEB"


class AddressKind(StrEnum):
    """How FCM addresses an app instance: current builds send their Firebase installation ID,
    older builds a registration token (deprecated in firebase-admin 7.5 but still delivered)."""

    INSTALLATION_ID = "INSTALLATION_ID"
    REGISTRATION_TOKEN = "REGISTRATION_TOKEN"


@dataclass(frozen=True, slots=True)
class Device:
    id: str  # derived from the address, so one app instance is one device whoever registers it
    user_id: str
    agency_id: str
    address_kind: AddressKind
    address: str
    platform: Platform
    locale: str
    app_version: str
    registered_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window in the user's time zone; end <= start runs past midnight."""

    start: time
    end: time


# The agency's night (DESIGN "Escalation": MEDIUM, no night push), in the agency's time zone. It lives
# in the incident policy; alerts read it through storage, as they read preferences and the agency.
DEFAULT_NIGHT_WINDOW = QuietHours(time(22, 0), time(7, 0))


@dataclass(frozen=True, slots=True)
class Preferences:
    user_id: str
    quiet_hours: QuietHours | None = None
    timezone: str | None = None  # None: the agency's
    muted_kinds: frozenset[AlertKind] = frozenset()
    on_duty: bool = False  # coordinators: receives COORDINATORS_ON_DUTY alerts
    revision: int = 0


class DeliveryState(StrEnum):
    QUEUED = "QUEUED"  # due for a push (again)
    HELD = "HELD"  # quiet hours: in the inbox now, pushed when they end unless read by then
    SENT = "SENT"  # at least one device accepted it and none is still being retried
    NO_DEVICES = "NO_DEVICES"  # inbox only: the recipient has no device registered
    SUPPRESSED = "SUPPRESSED"  # inbox only: opted out of this kind, or read before a held push
    FAILED = "FAILED"  # every device refused it for good
    EXPIRED = "EXPIRED"  # still failing when its time to live ran out


FINAL_STATES = frozenset(DeliveryState) - {DeliveryState.QUEUED, DeliveryState.HELD}


class DeviceOutcome(StrEnum):
    SENT = "SENT"
    RETRYING = "RETRYING"
    FAILED = "FAILED"
    UNREGISTERED = "UNREGISTERED"


@dataclass(frozen=True, slots=True)
class DeviceResult:
    device_id: str
    outcome: DeviceOutcome
    at: datetime
    error: str | None = None  # the FCM error code
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class Notification:
    """One recipient's copy of an alert request: their inbox entry and the outbox of its push."""

    id: str  # ids.id_for_key(request_id, user_id): routing the request again never duplicates it
    agency_id: str
    user_id: str
    request_id: str
    kind: AlertKind
    severity: Severity
    subject_type: str
    subject_id: str
    person_id: str | None
    person_name: str | None  # whom it concerns, as the lock screen says it (never more)
    locale: str
    title: str
    body: str
    created_at: datetime
    state: DeliveryState
    push_at: datetime | None = None  # when the push first became due (after quiet hours); its TTL runs from here
    attempts: int = 0
    next_attempt_at: datetime | None = None
    results: tuple[DeviceResult, ...] = ()
    read_at: datetime | None = None
    acknowledged_at: datetime | None = None
    # Someone eligible acknowledged the subject (e.g. the incident): nobody needs waking for it now.
    subject_acknowledged_at: datetime | None = None
    # The last change a recipient could see (created, read, acknowledged, delivered): the inbox's delta key.
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Finish:
    """What one delivery attempt leaves behind on a claimed notification."""

    notification_id: str
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None
    results: tuple[DeviceResult, ...]
