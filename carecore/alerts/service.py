"""Accepting alert requests durably; delivery is the notification pipeline's work."""

from __future__ import annotations

from carecore.alerts.models import AlertRequest
from carecore.errors import AlreadyExists
from carecore.ports import Ports


async def request_alert(ports: Ports, request: AlertRequest) -> bool:
    """Stores an alert request for routing and delivery; False when it was already accepted."""
    try:
        await ports.store.alert_requests.insert(request)
    except AlreadyExists:
        return False
    return True
