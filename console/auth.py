"""Console sessions: Firebase session cookies checked on every request, and a CSRF token per browser.

The session cookie is firebase-admin's (verified with revocation checks each time, so a sign-out or a
disabled account ends it at once); the principal comes from the same core code as GraphQL's. The CSRF
token is a random value kept in its own cookie and repeated in every state-changing request (a form
field or the X-CSRF-Token header): a page of another site can neither read it nor send the cookie,
which is SameSite=Strict as well.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from carecore.access.principal import Principal
from carecore.errors import Unauthenticated
from carecore.users.service import authenticate
from console.config import Wiring

SESSION_COOKIE = "console_session"
CSRF_COOKIE = "console_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class CsrfRefused(Exception):
    """A state-changing request without the browser's CSRF token."""


def csrf_token(request: Request) -> str:
    """The browser's token, or a new one that `remember_csrf` stores with the response."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token:
        token = request.state.new_csrf = secrets.token_urlsafe(32)
    return token


def remember_csrf(request: Request, response: Response, wiring: Wiring) -> None:
    new = getattr(request.state, "new_csrf", None)
    if new:
        _set_cookie(response, CSRF_COOKIE, new, wiring, max_age=None)


async def check_csrf(request: Request) -> None:
    expected = request.cookies.get(CSRF_COOKIE) or ""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        sent = (await form_fields(request)).get(CSRF_FIELD, "")
    if not expected or not sent or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise CsrfRefused


async def form_fields(request: Request) -> dict[str, str]:
    """A URL-encoded form's fields, first value of each (the console's forms post nothing else)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    body = (await request.body()).decode("utf-8", errors="replace")
    return {name: values[0] for name, values in parse_qs(body, keep_blank_values=True).items()}


async def principal_of(request: Request, wiring: Wiring) -> Principal | None:
    """The signed-in user's principal, or None: no cookie, or a session that ended or no longer matches."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        uid, claims = await wiring.sessions().verify_session(cookie)
        return await authenticate(wiring.ports(), uid, claims)
    except Unauthenticated:
        return None


async def start_session(response: Response, wiring: Wiring, id_token: str) -> None:
    """Exchanges a just-issued ID token for the session cookie (Unauthenticated when it is not valid)."""
    cookie = await wiring.sessions().create_session(id_token, wiring.config.session_lifetime)
    max_age = int(wiring.config.session_lifetime.total_seconds())
    _set_cookie(response, SESSION_COOKIE, cookie, wiring, max_age=max_age)


async def end_session(request: Request, response: Response, wiring: Wiring, principal: Principal | None) -> None:
    """Revokes every session of the account (this browser's and any other) and forgets the cookie."""
    if principal is not None:
        await wiring.sessions().revoke_sessions(principal.firebase_uid)
    response.delete_cookie(SESSION_COOKIE, path="/console", secure=wiring.config.secure_cookies, httponly=True)


def _set_cookie(response: Response, name: str, value: str, wiring: Wiring, *, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/console",
        secure=wiring.config.secure_cookies,
        httponly=True,
        samesite="strict",
    )
