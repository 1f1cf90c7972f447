"""Builds the Starlette application: GraphQL at /graphql, AI flags at /ingest/flags, FHIR R4 at /fhir/R4, probes at
/healthz and /readyz."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UnsetType

from app.alerts import start_alert_delivery, webhook_routes
from app.background import background
from app.fhir import fhir_routes, routing_refusal
from app.firebase import FirebaseGateway
from app.graphql_http import (
    ACCESS_LOG_FILTER,
    GRAPHQL_RESPONSE,
    GraphQLDoor,
    bearer_token,
    is_request_error,
    media_type_of,
    principal_of,
)
from app.ingest import flag_endpoint
from app.ingest_calls import call_endpoint, callback_endpoint, sign_endpoint
from app.ingest_observations import observation_endpoint
from app.live import live_handler, sign_in
from app.logs import RequestLog
from app.metrics import metrics_routes
from app.outages import RequestDeadline, request_budget
from app.settings import Settings
from carecore.clock import Clock, SystemClock
from carecore.errors import Unauthenticated, Unavailable
from carecore.events.feed import EventFeed
from carecore.incidents.service import acknowledge_incident_alert
from carecore.ports import Ports, SubjectAcknowledger
from carecore.storage.database import connect, deadline, ensure_indexes, is_outage, ping
from carecore.storage.store import Store
from carecore.users.service import authenticate_token
from console.config import ConsoleConfig, Wiring
from console.graphiql import graphiql_page
from console.routes import console_routes
from schema.build import SchemaLimits, build_schema
from schema.context import Context, build_loaders
from schema.error_codes import locale_from_accept_language

logger = logging.getLogger("carecore")


@dataclass
class Runtime:
    ports: Ports | None = None
    feed: EventFeed | None = None
    firebase: FirebaseGateway | None = None  # the console's session cookies

    def started_ports(self) -> Ports:
        assert self.ports is not None, "lifespan has not started"
        return self.ports

    def forget(self) -> None:
        """At shutdown: requests that still arrive find no ports, as before start-up."""
        self.ports = self.feed = self.firebase = None


class CareGraphQL(GraphQL[Context, None]):
    def __init__(self, runtime: Runtime, settings: Settings) -> None:
        limits = SchemaLimits(introspection=settings.introspection)
        super().__init__(
            build_schema(limits, is_outage=is_outage),
            graphql_ide="graphiql" if settings.graphiql else None,
            # DESIGN: graphql-transport-ws only; the legacy graphql-ws has no identity checks here.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.graphql_transport_ws_handler_class = live_handler(
            keep_alive_seconds=settings.ws_keep_alive_seconds,
            recheck_seconds=settings.ws_recheck_seconds,
            trusted_documents=settings.trusted_documents,
        )
        self.runtime = runtime
        self.sign_in_timeout = settings.request_timeout_seconds

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL from the app's own npm assets: Strawberry's page loads React from a CDN."""
        return graphiql_page()

    async def get_context(self, request: Request | WebSocket, response: object = None) -> Context:
        ports = self.runtime.ports
        assert ports is not None, "lifespan has not started"
        feed = self.runtime.feed
        locale = locale_from_accept_language(request.headers.get("accept-language"))
        if isinstance(request, Request) and (verified := principal_of(request)) is not None:
            # the door checked the token
            return Context(ports=ports, principal_or_none=verified, feed=feed, request_locale=locale)
        token = bearer_token(request.headers.get("authorization", ""))
        if token is None:
            return Context(ports=ports, principal_or_none=None, feed=feed, request_locale=locale)
        try:
            principal, expires = await sign_in(ports, token)
        except Unauthenticated as exc:
            return Context(
                ports=ports, principal_or_none=None, auth_error=exc.message, feed=feed, request_locale=locale
            )
        return Context(
            ports=ports, principal_or_none=principal, feed=feed, token_expires_at=expires, request_locale=locale
        )

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        if isinstance(request, Request):
            sub_response.media_type = media_type_of(request)
            request.state.carecore_sub_response = sub_response  # process_result sets the status on it
        return sub_response

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """A request error (parse, validation, variables) has no `data` entry, and with
        application/graphql-response+json answers 400; with application/json it stays 200 (the spec)."""
        response = await super().process_result(request, result)
        if isinstance(result, ExecutionResult) and is_request_error(result.data, result.errors):
            response.pop("data", None)
            if media_type_of(request) == GRAPHQL_RESPONSE:
                request.state.carecore_sub_response.status_code = 400
        return response

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        if sub_response.media_type is not None:  # the door's choice
            response.headers["content-type"] = sub_response.media_type
        return response

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Browsers cannot set headers on a WebSocket: the token may come in connection_init instead."""
        if context.principal_or_none is not None:
            return UnsetType()
        params = context.connection_params or {}
        raw = params.get("authorization") or params.get("Authorization")
        token = bearer_token(raw) if isinstance(raw, str) else None
        if token is None:
            raise ConnectionRejectionError({"message": "Send `authorization: Bearer <ID token>` in connection_init."})
        try:
            with deadline(self.sign_in_timeout):  # a WebSocket has no request deadline of its own
                context.principal_or_none, context.token_expires_at = await sign_in(context.ports, token)
        except Unauthenticated as exc:
            raise ConnectionRejectionError({"message": exc.message}) from exc
        except Exception as exc:
            if not is_outage(exc):
                raise
            raise Unavailable from exc  # closed with 1013, not 4403: the app retries, its user stays signed in
        context.loaders = build_loaders(context.ports, context.principal_or_none)
        return UnsetType()


def subject_acknowledgers() -> dict[str, SubjectAcknowledger]:
    """The alerts core acknowledges what a notification was about through the domain that owns it.

    Alerts about shifts have no acknowledger: acknowledging one silences only the recipient's own.
    """
    return {"Incident": acknowledge_incident_alert}


def build_app(settings: Settings, *, clock: Clock | None = None) -> Starlette:
    runtime = Runtime()

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        logging.getLogger("uvicorn.access").addFilter(ACCESS_LOG_FILTER)  # once: a filter is added only once
        # Each resource is released however the start-up or the shutdown ends (an index build that times
        # out, a stop that is cancelled): a client left open keeps its monitors' sockets for the process's life.
        async with contextlib.AsyncExitStack() as stack:
            client = connect(settings.mongodb_uri, timeout_seconds=settings.database_timeout_seconds)
            stack.push_async_callback(client.close)
            db = client[settings.database]
            await ensure_indexes(db)
            store = Store(db, keyring=settings.keyring())
            # Secrets stored before sealing, or under a key being rotated out, are sealed under the current
            # key before serving; one conditional update each, so instances starting together agree.
            if resealed := await store.ai_services.reseal_all():
                logger.info("sealed %d AI service secret(s) under key %s", resealed, settings.keyring().current)
            firebase = FirebaseGateway(
                settings.firebase_project_id, http_timeout_seconds=settings.request_timeout_seconds
            )
            stack.callback(firebase.close)
            runtime.ports = Ports(
                store=store,
                clock=clock or SystemClock(),
                claims=firebase,
                tokens=firebase,
                acknowledgers=subject_acknowledgers(),
            )
            runtime.firebase = firebase
            stack.callback(runtime.forget)
            delivery = start_alert_delivery(settings, runtime.ports)
            stack.push_async_callback(delivery.stop)
            logger.info("carecore ready (%s, database %s)", settings.environment, settings.database)
            runtime.feed = await stack.enter_async_context(background(runtime.ports, settings))
            yield

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        ports = runtime.ports
        ready = ports is not None and await ping(ports.store.db, timeout_seconds=settings.readiness_timeout_seconds)
        return JSONResponse({"status": "ready" if ready else "unavailable"}, status_code=200 if ready else 503)

    graphql = CareGraphQL(runtime, settings)
    door = GraphQLDoor(
        graphql,
        lambda token: authenticate_token(runtime.started_ports(), token),
        ide=settings.graphiql,
        trusted=(lambda sha: runtime.started_ports().store.trusted_documents.get(sha))
        if settings.trusted_documents
        else None,
    )
    console = console_routes(_console_wiring(settings, runtime))
    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", door),
            WebSocketRoute("/graphql", graphql),
            Route("/ingest/flags", flag_endpoint(runtime.started_ports), methods=["POST"]),
            Route("/ingest/observations", observation_endpoint(runtime.started_ports), methods=["POST"]),
            Route("/ingest/calls", call_endpoint(runtime.started_ports), methods=["POST"]),
            Route("/ingest/signs", sign_endpoint(runtime.started_ports), methods=["POST"]),
            Route("/callbacks/calls/{token}", callback_endpoint(runtime.started_ports), methods=["POST"]),
            *webhook_routes(settings, runtime.started_ports),
            *fhir_routes(runtime.started_ports),
            *metrics_routes(
                settings.metrics_token, runtime.started_ports, timeout_seconds=settings.readiness_timeout_seconds
            ),
            *console,
        ],
        middleware=[
            Middleware(RequestLog),
            Middleware(
                RequestDeadline,
                budget=request_budget(default=settings.request_timeout_seconds, batch=settings.batch_timeout_seconds),
            ),
        ],
        lifespan=lifespan,
        exception_handlers={HTTPException: routing_refusal},
    )


def _console_wiring(settings: Settings, runtime: Runtime) -> Wiring:
    """The coordinators' console at /console (console/), on the same ports and Firebase app as GraphQL."""

    def sessions() -> FirebaseGateway:
        assert runtime.firebase is not None, "lifespan has not started"
        return runtime.firebase

    config = ConsoleConfig(
        secure_cookies=settings.environment != "development",
        firebase_api_key=settings.firebase_web_api_key,
        auth_emulator_host=settings.auth_emulator_host,
    )
    return Wiring(config=config, ports=runtime.started_ports, sessions=sessions, feed=lambda: runtime.feed)
