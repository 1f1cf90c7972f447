"""Fixtures of the domains that meet here: AI flags, the local FCM and Twilio servers.

The `ports` fixture (tests/conftest.py) carries the composition root's acknowledgers, so a
notification's acknowledgement reaches its incident as in production.
"""

from __future__ import annotations

from tests.carecore.incidents.conftest import ai
from tests.notifications.conftest import fcm, fcm_server
from tests.notifications.test_second_channel import channel, config, twilio_server, webhooks

__all__ = ["ai", "channel", "config", "fcm", "fcm_server", "twilio_server", "webhooks"]
