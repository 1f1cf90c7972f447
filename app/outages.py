"""Outages at the edge: every HTTP request has a database deadline, and an outage answers 503.

A request that reaches GraphQL execution reports an outage as a GraphQL error coded UNAVAILABLE
(schema.errors); one that fails before it (the door's authentication, the ingest endpoints, the
console) ends here, as 503 with a GraphQL-shaped body, `Retry-After`, and one log line instead of
Starlette's 500 with a traceback. Clients retry a 503; they must not sign their user out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carecore.storage.database import deadline, is_outage

logger = logging.getLogger("carecore.outages")

RETRY_AFTER_SECONDS = 5
UNAVAILABLE_MESSAGE = "The service is unavailable right now; try again shortly."


def unavailable_response() -> JSONResponse:
    body = {"errors": [{"message": UNAVAILABLE_MESSAGE, "extensions": {"code": "UNAVAILABLE"}}]}
    return JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


# (method, path) -> seconds for all of the request's database work; None: no request-wide deadline.
Budget = Callable[[str, str], float | None]


def request_budget(*, default: float, batch: float) -> Budget:
    """A few seconds for what a person waits on; longer for the machines' batches (1,000 readings, a
    FHIR transaction); none for streams, whose every read keeps the client's own operation timeout, and
    for the readiness probe, which sets its own shorter one."""

    def budget(method: str, path: str) -> float | None:
        if path == "/readyz" or path == "/console/now/events" or path.startswith("/fhir/R4/bulk/"):
            return None
        if method == "POST" and path.startswith(("/ingest/", "/callbacks/", "/fhir/R4")):
            return batch
        return default

    return budget


class RequestDeadline:
    """ASGI middleware: all database work of one HTTP request ends within its budget.

    WebSockets live for hours and pass through; their own steps set their deadlines (app.live).
    """

    def __init__(self, app: ASGIApp, *, budget: Budget) -> None:
        self._app = app
        self._budget = budget

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        seconds = self._budget(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if seconds is None:
            await self._app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            with deadline(seconds):
                await self._app(scope, receive, watch)
        except Exception as exc:
            if started or not is_outage(exc):
                raise
            logger.warning("%s %s: unavailable (%s)", scope["method"], scope["path"], type(exc).__name__)
            await unavailable_response()(scope, receive, send)
