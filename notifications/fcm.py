"""Push through Firebase Cloud Messaging with firebase-admin's public API (`messaging.send_each_async`).

Implements the core's PushSender: one FCM message per device, batches of at most 500, one outcome per
message. The core decides retries; this module only says which errors are worth retrying.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import firebase_admin
from firebase_admin import _http_client, exceptions, messaging
from firebase_admin._retry import HttpxRetry

from carecore.alerts.models import AddressKind
from carecore.alerts.ports import PushError, PushMessage, PushOutcome
from carecore.alerts.rules import is_urgent

logger = logging.getLogger(__name__)

MAX_BATCH = 500  # FCM's limit for one send_each call
# What one send_each_async call carries by default: the SDK's HTTP pool holds 100 connections, and
# requests queued beyond them cost httpcore time quadratic in the queue (measured: 500 at once took
# five times longer than five calls of 100).
DEFAULT_BATCH = 100


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
        self,
        app: firebase_admin.App,
        *,
        endpoint: str | None = None,
        timeout: float = 20.0,
        batch_size: int = DEFAULT_BATCH,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH}")
        self._app = app
        self._batch = batch_size
        self._service = _tune_messaging(app, endpoint, timeout)

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
            results += [outcome(r) for r in batch.responses]
        return results

    async def aclose(self) -> None:
        """Closes the HTTP client here, on the running loop; firebase-admin's own clean-up would
        call asyncio.run, which cannot run inside a loop, so it gets a thread and a closed client."""
        await self._service._async_client.aclose()
        await asyncio.to_thread(firebase_admin.delete_app, self._app)


def _tune_messaging(app: firebase_admin.App, endpoint: str | None, timeout: float) -> Any:
    """The two settings firebase-admin 7.7 offers no option for, on the service it caches per app.

    - Retries: the SDK's transport retries 500 and 503 up to four times within one call, 0-4 s apart,
      ignoring Retry-After. Our dispatcher retries with a persisted schedule that honours it, so the
      SDK's own retries would only hammer a struggling FCM and hold our leases; they are turned off.
    - Endpoint: tests and benchmarks point FCM at a local HTTP v1-compatible server.
    Pinned to firebase-admin==7.7.0; tests/notifications/test_fcm.py fails if these names move.
    """
    service = messaging._get_messaging_service(app)
    service._async_client = _http_client.HttpxAsyncClient(
        credential=service._credential, timeout=timeout, retry_config=HttpxRetry(max_retries=0)
    )
    if endpoint:
        service._fcm_url = f"{endpoint.rstrip('/')}/v1/projects/{app.project_id}/messages:send"
    return service
