"""Twilio's webhooks: the callee's key press and the call's final status, verified by signature.

Twilio signs each request over the public URL it called and the posted form; anything else gets
403. The public URL comes from settings, not from the request, since a load balancer rewrites it.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from carecore.alerts import texts
from carecore.alerts.ports import Callout
from carecore.alerts.second_channel import acknowledge_by_call, record_call_status
from carecore.errors import NotFound
from carecore.ports import Ports
from notifications.twilio_channel import GATHER_PATH, STATUS_PATH, TwilioConfig, thanks_twiml, voice_twiml, webhook_url

logger = logging.getLogger(__name__)

TWIML = "application/xml"


def twilio_routes(ports_of: Callable[[], Ports], config: TwilioConfig) -> list[Route]:
    validator = RequestValidator(config.auth_token)

    async def verified_form(request: Request) -> dict[str, str] | None:
        # Twilio posts application/x-www-form-urlencoded; parsed here without python-multipart.
        form = dict(urllib.parse.parse_qsl((await request.body()).decode(), keep_blank_values=True))
        query = f"?{request.url.query}" if request.url.query else ""
        url = f"{config.public_url.rstrip('/')}{request.url.path}{query}"
        if not validator.validate(url, form, request.headers.get("X-Twilio-Signature", "")):
            logger.warning("refused a Twilio webhook with a bad signature for %s", request.url.path)
            return None
        return form

    async def gather(request: Request) -> Response:
        form = await verified_form(request)
        if form is None:
            return Response(status_code=403)
        ports = ports_of()
        notification_id = request.query_params.get("notification", "")
        n = await ports.store.notifications.get(notification_id)
        if n is None:
            return Response(thanks_twiml("ko", acknowledged=False), media_type=TWIML)
        if form.get("Digits") != "1":
            # Any other key: read the message again and wait for 1.
            about = texts.body(n.locale, n.severity, n.kind, n.person_name)
            callout = Callout(n.id, form.get("To", ""), n.locale, about)
            action = webhook_url(config.public_url, GATHER_PATH, n.id)
            return Response(voice_twiml(callout, action), media_type=TWIML)
        try:
            acknowledged = (await acknowledge_by_call(ports, notification_id)).subject_acknowledged
        except NotFound:
            logger.warning("press 1 for notification %s whose recipient is gone", notification_id)
            acknowledged = False
        return Response(thanks_twiml(n.locale, acknowledged=acknowledged), media_type=TWIML)

    async def status(request: Request) -> Response:
        form = await verified_form(request)
        if form is None:
            return Response(status_code=403)
        notification_id = request.query_params.get("notification", "")
        await record_call_status(ports_of(), notification_id, form.get("CallSid", ""), form.get("CallStatus", ""))
        return Response(status_code=204)

    return [Route(GATHER_PATH, gather, methods=["POST"]), Route(STATUS_PATH, status, methods=["POST"])]
