"""Fixtures of the domains that meet here: AI flags, the local FCM and Twilio servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from carecore.alerts.acknowledgement import register_acknowledger, unregister_acknowledger
from carecore.incidents.service import acknowledge_incident
from tests.carecore.incidents.conftest import ai
from tests.notifications.conftest import fcm, fcm_server
from tests.notifications.test_second_channel import channel, config, twilio_server, webhooks

__all__ = ["ai", "channel", "config", "fcm", "fcm_server", "twilio_server", "webhooks"]


@pytest.fixture
def incidents_acknowledge() -> Iterator[None]:
    """The wiring the composition root does: a notification's acknowledgement reaches its incident."""
    register_acknowledger("Incident", acknowledge_incident)
    yield
    unregister_acknowledger("Incident")
