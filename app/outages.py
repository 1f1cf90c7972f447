"""Outages at the edge: every HTTP request has a database deadline, and an outage answers 503.

A request that reaches GraphQL execution reports an outage as a GraphQL error coded UNAVAILABLE
(schema.errors); one that fails before it (the door's authentication, the ingest endpoints, the
console) ends here, as 503 with a GraphQL-shaped body, `Retry-After`, and one log line instead of
Starlette's 500 with a traceback. Clients retry a 503; they must not sign their user out.
"""

from __future__ import annotations

import logging

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carecore.storage.database import deadline, is_outage

logger = logging.getLogger("carecore.outages")

RETRY_AFTER_SECONDS = 5
UNAVAILABLE_MESSAGE = "The service is unavailable right now; try again shortly."


def unavailable_response() -> JSONResponse:
    body = {"errors": [{"message": UNAVAILABLE_MESSAGE, "extensions": {"code": "UNAVAILABLE"}}]}
    return JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


class RequestDeadline:
    """ASGI middleware: all database work of one HTTP request ends within `seconds`.

    WebSockets live for hours and pass through; their own steps set their deadlines (app.live).
    Paths in `exempt` set their own, shorter one (the readiness probe).
    """

    def __init__(self, app: ASGIApp, *, seconds: float, exempt: tuple[str, ...] = ()) -> None:
        self._app = app
        self._seconds = seconds
        self._exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._exempt:
            await self._app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            with deadline(self._seconds):
                await self._app(scope, receive, watch)
        except Exception as exc:
            if started or not is_outage(exc):
                raise
            logger.warning("%s %s: unavailable (%s)", scope["method"], scope["path"], type(exc).__name__)
            await unavailable_response()(scope, receive, send)
