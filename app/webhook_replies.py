"""What the machines' webhooks (flags, readings, call outcomes, signs of life) answer when a request is wrong:
one exception for a body that does not parse, one JSON error shape for all of them."""

from __future__ import annotations

from starlette.responses import JSONResponse


class BadBody(ValueError):
    """The body cannot be read as what the webhook takes; `field` names the part at fault when known."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def error_response(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "field": field}}, status_code=status)
