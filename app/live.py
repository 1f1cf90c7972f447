"""Long-lived GraphQL WebSockets: keep-alive pings, and an identity that is checked again while it lives.

A subscription can stay open for days. Its caller is re-resolved from the `users` collection (still
active, same role and agency) and its token's expiry checked before each update goes out
(`Context.live`) and every `recheck` seconds while nothing happens; when either fails the socket is
closed, 4401 for an expired token (sign in again) and 4403 for a profile that no longer allows it.
graphql-transport-ws lets the server ping; Strawberry's handler for it does not, so this one does,
which keeps idle mobile sockets open behind NATs that drop silent connections.
In trusted-documents mode a `subscribe` runs only a registered document, named as over HTTP
(app/graphql_http.trusted_payload); else the operation gets an `error` message with the same codes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    ErrorMessage,
    Message,
    SubscribeMessage,
)

from app.graphql_http import RequestRefused, trusted_payload
from carecore.access.principal import Principal
from carecore.errors import Unauthenticated, Unavailable
from carecore.loops import stop_if_cancelled
from carecore.ports import Ports
from carecore.users.service import authenticate
from schema.context import Context

logger = logging.getLogger(__name__)

TOKEN_EXPIRED = 4401
FORBIDDEN = 4403
TRY_AGAIN_LATER = 1013


async def sign_in(ports: Ports, token: str) -> tuple[Principal, datetime | None]:
    """Verifies an ID token; returns the caller's principal and when the token expires."""
    uid, claims = await ports.tokens.verify(token)
    principal = await authenticate(ports, uid, claims)
    exp = claims.get("exp")
    return principal, datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) else None


async def refusal(context: Context) -> tuple[int, str] | None:
    """Why the connection's identity no longer holds (close code, reason); None while it does.

    On success the context carries the principal as it is now (e.g. a caregiver's served people).
    """
    principal = context.principal_or_none
    if principal is None:
        return FORBIDDEN, "Not signed in."
    expires = context.token_expires_at
    if expires is not None and context.ports.clock.now() >= expires:
        return TOKEN_EXPIRED, "The ID token expired; sign in again."
    claims = {"role": principal.role.value, "agency": principal.agency_id}  # those it connected with
    try:
        context.principal_or_none = await authenticate(context.ports, principal.firebase_uid, claims)
    except Unauthenticated as exc:
        return FORBIDDEN, exc.message
    return None


class LiveHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with server pings and periodic identity checks (see the module)."""

    keep_alive_seconds = 15.0
    recheck_seconds = 30.0
    trusted_documents = False  # only registered documents run (app/trusted_documents.py)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context.live = self
        self._closing = False
        self._watchers: list[asyncio.Task[None]] = []

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except Unavailable:
            # 1013 "try again later": Strawberry's rejection is 4403, which an app takes for "signed out".
            await self.websocket.close(TRY_AGAIN_LATER, "The service is unavailable; reconnect shortly.")
            return
        if self.connection_acknowledged and not self._watchers:
            self._watchers = [asyncio.create_task(self._ping()), asyncio.create_task(self._recheck())]

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.trusted_documents and self.connection_acknowledged:
            store = self.context.ports.store.trusted_documents
            try:
                payload = await trusted_payload(dict(message["payload"]), store.get)
            except RequestRefused as refused:
                error = GraphQLError(refused.message(self.context.locale), extensions={"code": refused.code.value})
                reply: ErrorMessage = {"id": message["id"], "type": "error", "payload": [error.formatted]}
                await self.send_message(reply)
                return
            message = {**message, "payload": {**message["payload"], "query": payload["query"]}}
        await super().handle_subscribe(message)

    async def confirm(self) -> bool:
        """True while the identity holds; else closes the socket and answers False."""
        if self._closing:
            return False
        refused = await refusal(self.context)
        if refused is None:
            return True
        if not self._closing:
            self._closing = True
            await self.websocket.close(*refused)
        return False

    async def send_message(self, message: Message) -> None:
        if not self._closing:  # nothing more goes out on a socket closed for its identity
            await super().send_message(message)

    async def shutdown(self) -> None:
        for task in self._watchers:
            task.cancel()
        for task in self._watchers:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await super().shutdown()

    async def _ping(self) -> None:
        while not self._closing:
            await asyncio.sleep(self.keep_alive_seconds)
            await self.send_message({"type": "ping"})

    async def _recheck(self) -> None:
        while True:
            await asyncio.sleep(self.recheck_seconds)
            try:
                if not await self.confirm():
                    return
            except Exception:  # the database away for a moment: the next check, or the next event, decides
                stop_if_cancelled()  # unless the error was a swallowed cancellation (carecore.loops)
                logger.exception("identity re-check of a WebSocket failed")


def live_handler(
    *, keep_alive_seconds: float, recheck_seconds: float, trusted_documents: bool = False
) -> type[LiveHandler]:
    """The handler class with this app's intervals (Strawberry builds one handler per connection)."""
    return type(
        "ConfiguredLiveHandler",
        (LiveHandler,),
        {
            "keep_alive_seconds": keep_alive_seconds,
            "recheck_seconds": recheck_seconds,
            "trusted_documents": trusted_documents,
        },
    )
