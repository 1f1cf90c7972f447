"""SMS and voice through Twilio (the `twilio` package): the core's SecondChannel.

The call reads a short, privacy-safe message in the recipient's language inside a <Gather>; pressing
1 posts to our gather webhook (app/twilio_webhooks.py), which acknowledges the notification.
"""

from __future__ import annotations

import logging
import urllib.parse
from dataclasses import dataclass
from typing import Any

import httpx
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import AsyncHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from carecore.alerts import texts
from carecore.alerts.ports import Callout, CalloutResult

logger = logging.getLogger(__name__)

VOICE_LANGUAGE = {"ko": "ko-KR", "en": "en-US"}
GATHER_PATH = "/twilio/gather"
STATUS_PATH = "/twilio/status"


@dataclass(frozen=True, slots=True)
class TwilioConfig:
    account_sid: str
    auth_token: str
    from_number: str
    public_url: str  # where Twilio reaches our webhooks, e.g. https://api.carecore.kr
    api_base: str | None = None  # tests: a local Twilio-compatible server


class HttpxTwilioClient(AsyncHttpClient):  # type: ignore[misc]
    """twilio's async client interface over httpx (already a dependency), optionally re-based."""

    def __init__(self, api_base: str | None = None, timeout: float = 15.0) -> None:
        super().__init__(logger, True, timeout)
        self._api_base = api_base
        self._client = httpx.AsyncClient(timeout=timeout)
        self.last_retry_after: float | None = None

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - twilio's HttpClient interface names it so
        allow_redirects: bool = False,
    ) -> Response:
        if self._api_base:
            parts = urllib.parse.urlsplit(url)
            url = self._api_base.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
        self.last_retry_after = None
        response = await self._client.request(
            method,
            url,
            params=params,  # type: ignore[arg-type]
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout or self.timeout,
            follow_redirects=allow_redirects,
        )
        # twilio's exceptions drop the headers; Retry-After is kept here for the call that failed.
        self.last_retry_after = _seconds(response.headers.get("Retry-After"))
        return Response(response.status_code, response.text, response.headers)

    async def aclose(self) -> None:
        await self._client.aclose()


def webhook_url(public_url: str, path: str, notification_id: str) -> str:
    return f"{public_url.rstrip('/')}{path}?notification={notification_id}"


def voice_twiml(callout: Callout, action_url: str) -> str:
    """Reads the message twice inside a <Gather> for one digit; pressing 1 posts to action_url."""
    language = VOICE_LANGUAGE[texts.supported(callout.locale)]
    words = texts.call_text(callout.locale, callout.text)
    response = VoiceResponse()
    gather = response.gather(num_digits=1, action=action_url, method="POST", timeout=8)
    gather.say(words, language=language)
    gather.pause(length=1)
    gather.say(words, language=language)
    response.say(words, language=language)
    return str(response)


def thanks_twiml(locale: str, *, acknowledged: bool = True) -> str:
    """The answer to a key press: thanks, or that the team is still being alerted when it acknowledged nothing."""
    lang = texts.supported(locale)
    words = (texts.CALL_THANKS if acknowledged else texts.CALL_STILL_ALERTING)[lang]
    response = VoiceResponse()
    response.say(words, language=VOICE_LANGUAGE[lang])
    return str(response)


class TwilioChannel:
    def __init__(self, config: TwilioConfig) -> None:
        self._config = config
        self._http = HttpxTwilioClient(config.api_base)
        self._client: Any = Client(config.account_sid, config.auth_token, http_client=self._http)

    def webhook_url(self, path: str, notification_id: str) -> str:
        return webhook_url(self._config.public_url, path, notification_id)

    async def call_out(self, callout: Callout) -> CalloutResult:
        sms_id = call_id = None
        errors: list[str] = []
        outage, waits = False, []
        try:
            call = await self._client.calls.create_async(
                to=callout.phone,
                from_=self._config.from_number,
                twiml=voice_twiml(callout, self.webhook_url(GATHER_PATH, callout.notification_id)),
                status_callback=self.webhook_url(STATUS_PATH, callout.notification_id),
                status_callback_event=["completed"],
                timeout=30,
            )
            call_id = str(call.sid)
        except (TwilioException, httpx.HTTPError) as exc:
            errors.append(f"call: {exc}")
            outage = outage or _is_outage(exc)
            waits.append(self._http.last_retry_after)
        try:
            sms = await self._client.messages.create_async(
                to=callout.phone, from_=self._config.from_number, body=texts.sms_text(callout.locale, callout.text)
            )
            sms_id = str(sms.sid)
        except (TwilioException, httpx.HTTPError) as exc:
            errors.append(f"sms: {exc}")
            outage = outage or _is_outage(exc)
            waits.append(self._http.last_retry_after)
        return CalloutResult(
            sms_id=sms_id,
            call_id=call_id,
            error="; ".join(errors) or None,
            outage=outage,
            retry_after=max((w for w in waits if w is not None), default=None),
        )

    async def aclose(self) -> None:
        await self._http.aclose()


def _is_outage(exc: Exception) -> bool:
    """Twilio down or throttling us (5xx, 429) or not reached at all; a 4xx refusal is about the request."""
    if isinstance(exc, TwilioRestException):
        status: int = exc.status
        return status >= 500 or status == 429
    return isinstance(exc, httpx.HTTPError)


def _seconds(value: str | None) -> float | None:
    """Retry-After as delta-seconds (Twilio's form); an HTTP date is rare enough to wait the default."""
    return float(value) if value and value.strip().isdigit() else None
