"""Composition of alert delivery: the FCM and Twilio adapters, their webhooks and the background loops.

Push and the second channel are optional: without credentials the app runs, notifications stay in
the outbox and inbox, and the log says once what is off. The router always runs, so every alert
request becomes inbox entries whatever is configured.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from firebase_admin import credentials
from starlette.routing import Route

from app.settings import Settings
from app.twilio_webhooks import twilio_routes
from app.workers import Workers, start_workers
from carecore.alerts.ports import PushSender, SecondChannel
from carecore.ids import new_id
from carecore.ports import Ports
from notifications.fcm import FcmSender, push_app
from notifications.twilio_channel import TwilioChannel, TwilioConfig

logger = logging.getLogger("carecore")
_push_apps = itertools.count()


def twilio_config(settings: Settings) -> TwilioConfig | None:
    s = settings
    if not (s.twilio_account_sid and s.twilio_auth_token and s.twilio_from_number and s.public_url):
        return None
    return TwilioConfig(
        s.twilio_account_sid, s.twilio_auth_token, s.twilio_from_number, s.public_url, s.twilio_api_base
    )


def webhook_routes(settings: Settings, ports_of: Callable[[], Ports]) -> list[Route]:
    config = twilio_config(settings)
    return twilio_routes(ports_of, config) if config else []


def _push(settings: Settings) -> FcmSender | None:
    if not settings.fcm_credentials:
        logger.warning(
            "push is off: no Firebase credentials (CARECORE_FCM_CREDENTIALS or GOOGLE_APPLICATION_CREDENTIALS); "
            "notifications stay in the outbox and the inbox"
        )
        return None
    credential = (
        credentials.ApplicationDefault()
        if settings.fcm_credentials == "application-default"
        else credentials.Certificate(settings.fcm_credentials)
    )
    app = push_app(credential, settings.firebase_project_id, name=f"carecore-push-{next(_push_apps)}")
    logger.info("push is on through FCM for project %s", settings.firebase_project_id)
    return FcmSender(app)


def _second_channel(settings: Settings) -> TwilioChannel | None:
    config = twilio_config(settings)
    if config is None:
        logger.warning(
            "second channel (SMS and voice) is off: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, "
            "TWILIO_FROM_NUMBER and CARECORE_PUBLIC_URL"
        )
        return None
    logger.info("second channel is on through Twilio from %s", config.from_number)
    return TwilioChannel(config)


@dataclass
class AlertDelivery:
    push: FcmSender | None
    second: TwilioChannel | None
    workers: Workers | None = None
    instance: str = field(default_factory=new_id)

    async def stop(self) -> None:
        if self.workers is not None:
            await self.workers.stop()
        if self.push is not None:
            await self.push.aclose()
        if self.second is not None:
            await self.second.aclose()


def start_alert_delivery(settings: Settings, ports: Ports) -> AlertDelivery:
    """Builds the adapters and starts the loops; stop() cancels them at shutdown."""
    delivery = AlertDelivery(push=_push(settings), second=_second_channel(settings))
    if settings.background_workers:
        push: PushSender | None = delivery.push
        second: SecondChannel | None = delivery.second
        delivery.workers = start_workers(
            ports,
            push=push,
            second=second,
            instance=delivery.instance,
            interval=settings.worker_poll_seconds,
            escalation_lease=timedelta(seconds=settings.escalation_lease_seconds),
        )
    return delivery
