"""Firebase Auth through firebase-admin: verifying ID tokens and writing custom claims."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import timedelta
from typing import Any

import firebase_admin
from firebase_admin import auth, credentials, exceptions

from carecore.errors import Unauthenticated, Unavailable, ValidationFailed

_app_names = itertools.count()


class FirebaseGateway:
    """Implements the core's TokenVerifier and ClaimsPublisher ports.

    firebase-admin is synchronous; its calls run in a worker thread so a slow key fetch never stalls
    the event loop. Each gateway owns a named app, so tests can build several servers in one process.
    """

    def __init__(
        self, project_id: str, credential: credentials.Base | None = None, *, http_timeout_seconds: float = 5.0
    ) -> None:
        self._app = firebase_admin.initialize_app(
            credential or _default_credential(),
            # httpTimeout bounds the public-key fetch and every Auth API call (firebase-admin's default
            # is 120 s): an unreachable Google is an UNAVAILABLE within seconds, not a hung request.
            options={"projectId": project_id, "httpTimeout": http_timeout_seconds},
            name=f"carecore-{next(_app_names)}",
        )

    async def verify(self, token: str) -> tuple[str, dict[str, Any]]:
        try:
            decoded: dict[str, Any] = await asyncio.to_thread(auth.verify_id_token, token, app=self._app)
        except (ValueError, auth.InvalidIdTokenError, auth.UserDisabledError) as exc:
            # Expired, revoked, malformed or forged: the client must sign in again.
            raise Unauthenticated("Invalid or expired ID token.") from exc
        except exceptions.FirebaseError as exc:
            # The public keys could not be fetched, or Auth did not answer: nothing says the token is
            # bad, and an app told UNAUTHENTICATED would sign its user out in the middle of an outage.
            raise Unavailable("Sign-in cannot be checked right now; try again shortly.") from exc
        return str(decoded["uid"]), decoded

    async def set_claims(self, firebase_uid: str, claims: dict[str, str]) -> None:
        try:
            await asyncio.to_thread(auth.set_custom_user_claims, firebase_uid, claims, app=self._app)
        except auth.UserNotFoundError as exc:
            raise ValidationFailed("No Firebase account has this uid.", field="firebaseUid") from exc
        except exceptions.FirebaseError as exc:
            raise Unavailable("Firebase Auth did not answer; the claims are published later.") from exc

    async def create_session(self, id_token: str, lifetime: timedelta) -> str:
        """The console's session cookie for a freshly signed-in ID token (firebase-admin checks the token)."""
        try:
            cookie = await asyncio.to_thread(auth.create_session_cookie, id_token, lifetime, app=self._app)
        except (ValueError, auth.InvalidIdTokenError) as exc:
            raise Unauthenticated("Sign in again.") from exc
        except exceptions.FirebaseError as exc:
            raise Unavailable("Sign-in cannot be completed right now; try again shortly.") from exc
        return cookie.decode() if isinstance(cookie, bytes) else str(cookie)

    async def verify_session(self, cookie: str) -> tuple[str, dict[str, Any]]:
        """A session cookie's uid and claims; revoked, expired or disabled sessions are refused."""
        try:
            decoded: dict[str, Any] = await asyncio.to_thread(
                auth.verify_session_cookie, cookie, check_revoked=True, app=self._app
            )
        except (
            ValueError,
            auth.InvalidSessionCookieError,
            auth.RevokedSessionCookieError,
            auth.UserDisabledError,
        ) as exc:
            raise Unauthenticated("The session has ended; sign in again.") from exc
        except exceptions.FirebaseError as exc:
            raise Unavailable("The session cannot be checked right now; try again shortly.") from exc
        # firebase-admin checks the expiry only with Google's keys: against the Auth emulator it takes
        # an expired cookie. Checked here too, so dev and tests end a session when production does.
        if not isinstance(decoded.get("exp"), int | float) or decoded["exp"] <= time.time():
            raise Unauthenticated("The session has ended; sign in again.")
        return str(decoded["uid"]), decoded

    async def revoke_sessions(self, firebase_uid: str) -> None:
        """Signs the account out everywhere: every session cookie and refresh token issued so far stops working."""
        await asyncio.to_thread(auth.revoke_refresh_tokens, firebase_uid, app=self._app)

    def close(self) -> None:
        firebase_admin.delete_app(self._app)


def _default_credential() -> credentials.Base:
    # Application Default Credentials resolve lazily, on the first call that needs them; with the
    # Auth emulator no call does, so development and tests run without any credentials file.
    return credentials.ApplicationDefault()
