"""GET /metrics for Prometheus, behind a bearer token (CARECORE_METRICS_TOKEN); without one it is off.

The scrape first reads the shared gauges (outbox, event consumers) from the database under a short
deadline; if the database does not answer, the scrape still succeeds with the last values and
`carecore_metrics_refresh_ok 0`, so an outage shows in the metrics instead of hiding them.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from carecore.metrics import refresh_gauges
from carecore.ports import Ports
from carecore.storage.database import deadline, is_outage

logger = logging.getLogger("carecore.metrics")

REFRESH_OK = Gauge("carecore_metrics_refresh_ok", "1 when the last scrape could read the database's gauges")


def metrics_routes(token: str | None, ports: Callable[[], Ports], *, timeout_seconds: float) -> list[Route]:
    if not token:
        return []
    expected = f"Bearer {token}".encode()

    async def metrics(request: Request) -> Response:
        offered = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(offered, expected):
            return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
        try:
            with deadline(timeout_seconds):
                await refresh_gauges(ports())
            REFRESH_OK.set(1)
        except Exception as exc:
            if not is_outage(exc):
                raise
            logger.warning("metrics: the database did not answer (%s)", type(exc).__name__)
            REFRESH_OK.set(0)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return [Route("/metrics", metrics)]
