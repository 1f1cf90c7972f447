"""Builds the Starlette application: GraphQL at /graphql, probes at /healthz and /readyz."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from app import workers
from app.firebase import FirebaseGateway
from app.settings import Settings
from carecore.clock import Clock, SystemClock
from carecore.errors import Unauthenticated
from carecore.ports import Ports
from carecore.storage.database import connect, ensure_indexes, ping
from carecore.storage.store import Store
from carecore.users.service import authenticate_token
from schema.build import SchemaLimits, build_schema
from schema.context import Context

logger = logging.getLogger("carecore")


@dataclass
class Runtime:
    ports: Ports | None = None


class CareGraphQL(GraphQL[Context, None]):
    def __init__(self, runtime: Runtime, settings: Settings) -> None:
        limits = SchemaLimits(introspection=settings.introspection)
        super().__init__(build_schema(limits), graphql_ide="graphiql" if settings.graphiql else None)
        self.runtime = runtime

    async def get_context(self, request: Request | WebSocket, response: object = None) -> Context:
        ports = self.runtime.ports
        assert ports is not None, "lifespan has not started"
        token = _bearer_token(request)
        if token is None:
            return Context(ports=ports, principal_or_none=None)
        try:
            principal = await authenticate_token(ports, token)
        except Unauthenticated as exc:
            return Context(ports=ports, principal_or_none=None, auth_error=exc.message)
        return Context(ports=ports, principal_or_none=principal)


def _bearer_token(request: Request | WebSocket) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def build_app(settings: Settings, *, clock: Clock | None = None) -> Starlette:
    runtime = Runtime()

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        client = connect(settings.mongodb_uri)
        db = client[settings.database]
        await ensure_indexes(db)
        firebase = FirebaseGateway(settings.firebase_project_id)
        runtime.ports = Ports(store=Store(db), clock=clock or SystemClock(), claims=firebase, tokens=firebase)
        logger.info("carecore ready (%s, database %s)", settings.environment, settings.database)
        try:
            if settings.background_jobs:
                async with workers.running(runtime.ports):
                    yield
            else:
                yield
        finally:
            runtime.ports = None
            firebase.close()
            await client.close()

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        ready = runtime.ports is not None and await ping(runtime.ports.store.db)
        return JSONResponse({"status": "ready" if ready else "unavailable"}, status_code=200 if ready else 503)

    graphql = CareGraphQL(runtime, settings)
    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", graphql),
            WebSocketRoute("/graphql", graphql),
        ],
        lifespan=lifespan,
    )
