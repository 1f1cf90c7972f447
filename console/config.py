"""What the console needs from the composition root: its settings and the running app's collaborators."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from carecore.events.feed import EventFeed
from carecore.ports import Ports


class Sessions(Protocol):
    """Firebase session cookies (app/firebase.py implements it with firebase-admin)."""

    async def create_session(self, id_token: str, lifetime: timedelta) -> str: ...

    async def verify_session(self, cookie: str) -> tuple[str, dict[str, Any]]: ...

    async def revoke_sessions(self, firebase_uid: str) -> None: ...


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    secure_cookies: bool  # Secure outside development: browsers send the cookie over HTTPS only
    firebase_api_key: str
    auth_emulator_host: str | None  # the sign-in page talks to the emulator instead of Google
    session_lifetime: timedelta = timedelta(hours=8)  # a working day; firebase-admin allows 5 min to 14 days
    # How often an open Now page refreshes itself besides the events feed's changes (late visits, new gaps);
    # each refresh is an audited read of everything shown, so not every few seconds. Countdowns tick in the page.
    poll_seconds: int = 30

    @property
    def identity_toolkit(self) -> str:
        """Where the sign-in page sends email and password (the browser talks to Firebase directly)."""
        if self.auth_emulator_host:
            return f"http://{self.auth_emulator_host}/identitytoolkit.googleapis.com/v1"
        return "https://identitytoolkit.googleapis.com/v1"

    @property
    def identity_origin(self) -> str:
        return self.identity_toolkit.removesuffix("/identitytoolkit.googleapis.com/v1")


@dataclass(frozen=True, slots=True)
class Wiring:
    """Accessors of the running app's collaborators, which exist only once its lifespan has started."""

    config: ConsoleConfig
    ports: Callable[[], Ports]
    sessions: Callable[[], Sessions]
    feed: Callable[[], EventFeed | None] = lambda: None  # the instance's events reader: Now refreshes on its events
