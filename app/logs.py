"""JSON logs, one object per line, each with the request id (and the caller's user and agency once known).

The request id comes from a well-formed `X-Request-ID` header (a load balancer's) or is made here, and
goes back in the response's header. The access log is ours, not uvicorn's: uvicorn's line carries the
query string, where a careless client may put a token or a name; ours has the path only.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carecore import metrics, tracing

access_logger = logging.getLogger("carecore.access")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# Attributes every LogRecord has; anything else was passed in `extra` and is logged as a field.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        scope = tracing.current()
        if scope is not None:
            entry["request_id"] = scope.request_id
            if scope.user_id:
                entry["user_id"], entry["agency_id"] = scope.user_id, scope.agency_id
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(*, json_lines: bool, level: int = logging.INFO) -> None:
    """The process's one handler on the root logger; uvicorn's loggers propagate to it."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per outgoing call drowns the useful ones
    logging.getLogger("uvicorn.access").disabled = True  # RequestLog writes the access log, without queries


class RequestLog:
    """ASGI middleware: a tracing scope per request or WebSocket, and one access line at its end."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        offered = dict(scope.get("headers") or ()).get(b"x-request-id", b"").decode("latin-1")
        request_id = offered if _REQUEST_ID.fullmatch(offered) else None
        status = 0

        with tracing.scope(request_id) as opened:

            async def tagged(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message = {
                        **message,
                        "headers": [*message.get("headers", ()), (b"x-request-id", opened.request_id.encode())],
                    }
                await send(message)

            started = time.perf_counter()
            try:
                await self._app(scope, receive, tagged)
            except Exception:
                status = status or 500
                raise
            finally:
                elapsed = time.perf_counter() - started
                _observe(scope, status, elapsed)
                access_logger.info(
                    "%s %s %s",
                    scope.get("method", "WS"),
                    scope["path"],  # never the query string
                    status or "-",
                    extra={
                        "http": {
                            "method": scope.get("method", "WS"),
                            "path": scope["path"],
                            "status": status or None,
                            "ms": round(elapsed * 1000, 1),
                        }
                    },
                )


# Paths whose last segments are ids: labelled by their prefix, so the label set stays bounded.
_PREFIXES = ("/console", "/twilio", "/ingest")
_WEBHOOKS = ("/ingest/", "/twilio/")


def route_label(path: str) -> str:
    if path in ("/graphql", "/healthz", "/readyz", "/metrics") or path.startswith(_WEBHOOKS):
        return path if path.count("/") <= 2 else path.rsplit("/", 1)[0]
    return next((p for p in _PREFIXES if path.startswith(p)), "other")


def _observe(scope: Scope, status: int, seconds: float) -> None:
    if scope["type"] != "http":
        return  # a WebSocket's lifetime is not a latency
    path = scope["path"]
    route = route_label(path)
    metrics.HTTP_SECONDS.labels(scope["method"], route, str(status or 500)).observe(seconds)
    if path.startswith(_WEBHOOKS):
        metrics.WEBHOOK_RESULTS.labels(route, str(status or 500)).inc()
