"""Rendering: Jinja2 templates with the user's words, times in the agency's zone, and a strict CSP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from console.auth import csrf_token, remember_csrf
from console.config import Wiring
from console.texts import translator

TEMPLATES = Path(__file__).resolve().parent / "templates"
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)


def content_security_policy(wiring: Wiring) -> str:
    """No inline script or style anywhere: every script is a file the app serves itself."""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' {wiring.config.identity_origin}; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
    )


def clock_text(tz: ZoneInfo) -> Callable[[datetime | None], str]:
    def at(moment: datetime | None) -> str:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""

    return at


def countdown_text(now: datetime, locale: str) -> Callable[[datetime | None], str]:
    """How long until a moment, e.g. '4 min 05 s'; a negative wait shows as 0."""

    def left(moment: datetime | None) -> str:
        if moment is None:
            return ""
        seconds = max(0, int((moment - now) / timedelta(seconds=1)))
        minutes, rest = divmod(seconds, 60)
        return f"{minutes}분 {rest:02d}초" if locale == "ko" else f"{minutes} min {rest:02d} s"

    return left


def render(
    request: Request, wiring: Wiring, name: str, *, locale: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    template = _env.get_template(name)
    html = template.render(
        t=translator(locale),
        locale=locale,
        csrf=csrf_token(request),
        poll_seconds=wiring.config.poll_seconds,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Content-Security-Policy"] = content_security_policy(wiring)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"  # pages hold health data
    remember_csrf(request, response, wiring)
    return response
