"""Push through Firebase Cloud Messaging with firebase-admin's public API (`messaging.send_each_async`).

Implements the core's PushSender: one FCM message per device, batches of at most 500, one outcome per
message. The core decides retries across calls; this module says which errors are worth retrying
and keeps firebase-admin's own retries within a call shorter than the dispatch lease.
"""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import logging
import time
import warnings
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, NamedTuple

import firebase_admin
from firebase_admin import credentials, exceptions, messaging

from carecore.alerts.dispatcher import DISPATCH_LEASE
from carecore.alerts.models import AddressKind
from carecore.alerts.ports import PushError, PushMessage, PushOutcome
from carecore.alerts.rules import is_urgent

logger = logging.getLogger(__name__)

MAX_BATCH = 500  # FCM's limit for one send_each call
# What one send_each_async call carries by default: the SDK's HTTP pool holds 100 connections, and
# requests queued beyond them cost httpcore time quadratic in the queue (measured: 500 at once took
# five times longer than five calls of 100).
DEFAULT_BATCH = 100

# firebase-admin 7.7 retries a 500 or 503 inside one send, four times, 0, 1, 2 and 4 s apart, ignoring
# Retry-After, and offers no public option to change that. We keep those retries, with our persisted
# ones on top: the only way to turn them off is a hand-written FCM client (or private attributes), and
# they cost at most four extra requests per message to a struggling FCM, after which the dispatcher
# still waits Retry-After. What must hold is that the worst call ends while the dispatcher still holds
# its lease, or another instance could claim the same notifications and push them a second time.
SDK_ATTEMPTS = 5  # tests/notifications/test_fcm.py counts them, so an upgrade that changes it fails
SDK_BACKOFF_SECONDS = 0 + 1 + 2 + 4
# httpx applies httpTimeout to each phase of an attempt separately (waiting for a pooled connection,
# connecting with TLS, writing, reading). FCM answers in well under a second; 2.5 s per phase, every
# phase of every attempt at its limit, still ends the call (57 s) inside the 60 s dispatch lease.
HTTP_TIMEOUT_SECONDS = 2.5
_PHASES = 4
# Outcomes after which firebase-admin may have retried, or its pool may be full of what it leaked.
_LEAKING_CODES = frozenset({"UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED"})


def worst_call(http_timeout: float) -> timedelta:
    """How long one send_each_async can take when every attempt runs to the timeout and FCM says 503."""
    return timedelta(seconds=SDK_ATTEMPTS * _PHASES * http_timeout + SDK_BACKOFF_SECONDS)


def push_app(credential: credentials.Base, project_id: str, name: str) -> firebase_admin.App:
    """A firebase-admin app of its own for FCM, with the HTTP timeout the dispatch lease allows."""
    return firebase_admin.initialize_app(
        credential, options={"projectId": project_id, "httpTimeout": HTTP_TIMEOUT_SECONDS}, name=name
    )


class NonRetryable(NamedTuple):
    """FCM error codes that no retry can fix, each with the reason. Everything else is retried
    (UNAVAILABLE, INTERNAL, QUOTA_EXCEEDED, timeouts, unknown errors) until the push's time to
    live runs out: for an alert, a wasted retry is cheaper than a wrongly abandoned one."""

    INVALID_ARGUMENT: str = "the message or the address is malformed; the same request fails the same way"
    SENDER_ID_MISMATCH: str = "the address belongs to another Firebase project; only the app can re-register"
    THIRD_PARTY_AUTH_ERROR: str = "APNs or web-push credentials of the project are wrong; an operator must fix them"
    PERMISSION_DENIED: str = "our service account may not send for this project; a configuration error"


NON_RETRYABLE = NonRetryable()

# firebase-admin names these FCM errors by exception type; the rest by their canonical code.
_FCM_CODES: tuple[tuple[type[exceptions.FirebaseError], str], ...] = (
    (messaging.UnregisteredError, "UNREGISTERED"),
    (messaging.QuotaExceededError, "QUOTA_EXCEEDED"),
    (messaging.SenderIdMismatchError, "SENDER_ID_MISMATCH"),
    (messaging.ThirdPartyAuthError, "THIRD_PARTY_AUTH_ERROR"),
)


def error_code(exc: exceptions.FirebaseError) -> str:
    for kind, code in _FCM_CODES:
        if isinstance(exc, kind):
            return code
    return str(exc.code)


def retry_after(exc: exceptions.FirebaseError) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), if the response had one."""
    response = exc.http_response
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    parsed = email.utils.parsedate_to_datetime(value)
    return max(parsed.timestamp() - time.time(), 0.0) if parsed else None


def outcome(response: messaging.SendResponse) -> PushOutcome:
    if response.success:
        return PushOutcome(message_id=response.message_id)
    exc = response.exception
    code = error_code(exc)
    if code == "UNREGISTERED":
        return PushOutcome(error=PushError.UNREGISTERED, code=code)
    if code in NonRetryable._fields:
        return PushOutcome(error=PushError.PERMANENT, code=code)
    return PushOutcome(error=PushError.RETRYABLE, code=code, retry_after=retry_after(exc))


def fcm_message(m: PushMessage, now: float) -> messaging.Message:
    """The FCM v1 message: collapse key and apns-collapse-id are the notification id, so a resend
    after a crash replaces the shown notification instead of adding a second one."""
    urgent = is_urgent(m.severity)
    ttl = int(m.time_to_live.total_seconds())
    android = messaging.AndroidConfig(
        collapse_key=m.notification_id,
        priority="high" if urgent else "normal",
        ttl=ttl,
        notification=messaging.AndroidNotification(
            tag=m.notification_id, channel_id="urgent_alerts" if urgent else "alerts"
        ),
    )
    apns = messaging.APNSConfig(
        headers={
            "apns-collapse-id": m.notification_id,
            "apns-priority": "10" if urgent else "5",
            "apns-expiration": str(int(now) + ttl),
            "apns-push-type": "alert",
        },
        payload=messaging.APNSPayload(
            aps=messaging.Aps(
                sound="default",
                thread_id=m.thread_id,
                custom_data={"interruption-level": "time-sensitive" if urgent else "active"},
            )
        ),
    )
    common: dict[str, Any] = {
        "notification": messaging.Notification(title=m.title, body=m.body),
        "data": dict(m.data),
        "android": android,
        "apns": apns,
    }
    if m.address_kind is AddressKind.INSTALLATION_ID:
        return messaging.Message(fid=m.address, **common)
    # Older app builds only know their registration token; firebase-admin deprecates `token` in
    # favour of `fid` but still delivers it, and those phones must keep receiving alerts.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return messaging.Message(token=m.address, **common)


class FcmSender:
    """The core's PushSender over one firebase-admin app of its own."""

    def __init__(
        self, app: firebase_admin.App, *, batch_size: int = DEFAULT_BATCH, lease: timedelta = DISPATCH_LEASE
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH}")
        timeout = app.options.get("httpTimeout")
        # Checked at start-up: firebase-admin's default timeout (120 s) would let one call outlive the lease.
        if timeout is None or worst_call(float(timeout)) >= lease:
            raise ValueError(
                f"httpTimeout {timeout} lets one FCM call outlast the {lease} dispatch lease; use push_app()"
            )
        self._app = app
        self._batch = batch_size
        self._generations = itertools.count(1)

    async def send(self, messages: Sequence[PushMessage]) -> list[PushOutcome]:
        results: list[PushOutcome] = []
        now = time.time()
        for start in range(0, len(messages), self._batch):
            chunk = [fcm_message(m, now) for m in messages[start : start + self._batch]]
            try:
                batch = await messaging.send_each_async(chunk, app=self._app)
            except exceptions.FirebaseError as exc:
                # The whole batch failed before FCM answered per message (e.g. no OAuth token).
                logger.warning("FCM batch of %d failed: %s", len(chunk), error_code(exc), exc_info=True)
                results += [PushOutcome(error=PushError.RETRYABLE, code=error_code(exc))] * len(chunk)
                continue
            outcomes = [outcome(r) for r in batch.responses]
            results += outcomes
            if any(o.code in _LEAKING_CODES for o in outcomes):
                await self._replace_app()
        return results

    async def _replace_app(self) -> None:
        """A fresh app (fresh HTTP client) after a call firebase-admin may have retried.

        firebase-admin 7.7's retry transport drops each retried 500/503 response without closing it,
        so every in-call retry keeps one pooled connection (HTTP/1.1) or stream (HTTP/2) busy for
        good; after a few outages the pool is full and every send times out until a restart. A new
        app reuses the same credential, and with it the cached OAuth token; deleting the old one
        closes the connections it leaked. (Measured: 30 messages through a 503 outage left the next
        send timing out on every message; tests/notifications/test_fcm.py.)
        """
        old = self._app
        self._app = firebase_admin.initialize_app(
            old.credential,
            options={"projectId": old.project_id, "httpTimeout": old.options.get("httpTimeout")},
            name=f"{old.name.partition('~')[0]}~{next(self._generations)}",
        )
        await asyncio.to_thread(firebase_admin.delete_app, old)

    async def aclose(self) -> None:
        """Deletes the app in a thread: firebase-admin closes its HTTP client with asyncio.run, which
        cannot run inside this loop."""
        await asyncio.to_thread(firebase_admin.delete_app, self._app)
