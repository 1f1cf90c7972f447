"""What delivery needs from the outside: a push gateway and a second channel (SMS and voice).

The core decides what to send, to whom, and what a failure means for the next attempt; adapters in
`notifications/` speak FCM and Twilio. Both protocols report per-target results and never raise for
one bad target, so one dead phone never holds back the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Protocol

from carecore.alerts.models import AddressKind, AlertKind, Platform
from carecore.vocabulary import Severity


@dataclass(frozen=True, slots=True)
class PushMessage:
    notification_id: str  # the collapse key: a resend after a crash replaces, never doubles
    device_id: str
    address_kind: AddressKind
    address: str
    platform: Platform
    kind: AlertKind
    severity: Severity
    title: str
    body: str
    data: Mapping[str, str]  # ids and the kind, never health data
    time_to_live: timedelta
    thread_id: str  # groups a subject's pushes (e.g. one incident) on the lock screen


class PushError(StrEnum):
    RETRYABLE = "RETRYABLE"  # try again later (server busy, quota, network)
    UNREGISTERED = "UNREGISTERED"  # the app instance is gone: forget the device
    PERMANENT = "PERMANENT"  # this message can never reach this device


@dataclass(frozen=True, slots=True)
class PushOutcome:
    message_id: str | None = None
    error: PushError | None = None
    code: str | None = None  # the provider's own error code, recorded per device
    retry_after: float | None = None  # seconds the provider asked us to wait

    @property
    def ok(self) -> bool:
        return self.error is None


class PushSender(Protocol):
    """Sends each message to its one device; returns one outcome per message, in order."""

    async def send(self, messages: Sequence[PushMessage]) -> list[PushOutcome]: ...


@dataclass(frozen=True, slots=True)
class Callout:
    """A CRITICAL alert nobody acknowledged, read out by SMS and a voice call."""

    notification_id: str
    phone: str
    locale: str
    text: str  # short and privacy-safe, like the push body


@dataclass(frozen=True, slots=True)
class CalloutResult:
    sms_id: str | None
    call_id: str | None
    error: str | None = None
    # The provider was down or busy (5xx, 429, no answer): worth trying again, no sooner than retry_after.
    # False: it refused the request itself (a malformed number), which retries cannot fix for long.
    outage: bool = False
    retry_after: float | None = None


class SecondChannel(Protocol):
    """SMS and a voice call whose callee acknowledges by pressing 1."""

    async def call_out(self, callout: Callout) -> CalloutResult: ...
