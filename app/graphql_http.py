"""The HTTP door of /graphql: what every request passes before GraphQL parses or validates anything.

Hostile input is handled here once, for whole classes, not field by field:
- POST only: GET would put names and ids in access logs (the GraphiQL page itself is still served);
- bodies up to MAX_BODY bytes, else 413, read without trusting Content-Length;
- a verified ID token, else 401: nothing in the schema is public, so an anonymous document is never
  parsed (a document that is expensive to validate costs its sender a valid account);
- a JSON object of valid UTF-8 with `query` a string, `variables` an object and `operationName` a
  string, else 400 with a GraphQL-over-HTTP error body (no `data` entry);
- a document that parses within the token limit, names its operation when it has several, is no
  subscription (they run over WebSocket), and whose fields, fragments spread out, stay within
  MAX_EXPANDED_FIELDS: validation then costs time bounded by the budget, and this check is linear
  (each fragment is sized once).
The buffered body is then replayed to Strawberry, with the principal in the request's state so the
token is verified once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carecore import metrics
from carecore.access.principal import Principal
from carecore.errors import Unauthenticated

MAX_BODY = 256 * 1024
MAX_TOKENS = 2000
MAX_EXPANDED_FIELDS = 5000
PRINCIPAL = "carecore_principal"  # the verified principal's attribute on the request's state

Authenticate = Callable[[str], Awaitable[Principal]]


class RequestRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def bearer_token(header: str) -> str | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def expanded_fields(document: DocumentNode, operation: OperationDefinitionNode) -> float:
    """How many fields the operation has once every fragment is spread; each fragment is sized once.

    A fragment cycle (which validation refuses anyway) counts as infinite, so it never reaches it.
    """
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    sizes: dict[str, float] = {}
    visiting: set[str] = set()

    def fragment(name: str) -> float:
        if name in sizes:
            return sizes[name]
        if name in visiting:
            return math.inf
        found = fragments.get(name)
        if found is None:
            return 0  # an unknown fragment: validation names it
        visiting.add(name)
        sizes[name] = selections(found.selection_set)
        visiting.discard(name)
        return sizes[name]

    def selections(selection_set: SelectionSetNode | None) -> float:
        total: float = 0
        for s in selection_set.selections if selection_set else ():
            if isinstance(s, FieldNode):
                total += 1 + selections(s.selection_set)
            elif isinstance(s, InlineFragmentNode):
                total += selections(s.selection_set)
            elif isinstance(s, FragmentSpreadNode):
                total += fragment(s.name.value)
        return total

    return selections(operation.selection_set)


def checked_payload(body: bytes) -> dict[str, Any]:
    """The request's JSON object, or RequestRefused naming what is wrong with it."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise RequestRefused(400, "BAD_REQUEST", "The body is not JSON in UTF-8.") from None
    if not isinstance(payload, dict):
        raise RequestRefused(400, "BAD_REQUEST", "The body must be a JSON object with a `query`.")
    if not isinstance(payload.get("query"), str):
        raise RequestRefused(400, "BAD_REQUEST", "`query` must be a string.")
    if not isinstance(payload.get("variables") or {}, dict):
        raise RequestRefused(400, "BAD_REQUEST", "`variables` must be an object.")
    if not isinstance(payload.get("operationName") or "", str):
        raise RequestRefused(400, "BAD_REQUEST", "`operationName` must be a string.")
    if not isinstance(payload.get("extensions") or {}, dict):
        raise RequestRefused(400, "BAD_REQUEST", "`extensions` must be an object.")
    return payload


def checked_document(query: str, operation_name: str | None) -> OperationDefinitionNode:
    """Parses once, cheaply, and refuses what validation would pay too much for or what HTTP cannot run."""
    try:
        document = parse(query, max_tokens=MAX_TOKENS, no_location=True)
    except GraphQLError as exc:
        raise RequestRefused(400, "GRAPHQL_PARSE_FAILED", exc.message) from None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if not operations:
        raise RequestRefused(400, "GRAPHQL_VALIDATION_FAILED", "The document has no operation.")
    if operation_name is None and len(operations) > 1:
        raise RequestRefused(400, "GRAPHQL_VALIDATION_FAILED", "Name the operation to run (`operationName`).")
    chosen = next(
        (o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)), None
    )
    if chosen is None:
        raise RequestRefused(400, "GRAPHQL_VALIDATION_FAILED", f"No operation named {operation_name!r}.")
    if chosen.operation is OperationType.SUBSCRIPTION:
        raise RequestRefused(400, "BAD_REQUEST", "Subscriptions run over WebSocket (graphql-transport-ws).")
    if expanded_fields(document, chosen) > MAX_EXPANDED_FIELDS:
        raise RequestRefused(
            400, "GRAPHQL_VALIDATION_FAILED", f"The operation asks for more than {MAX_EXPANDED_FIELDS} fields."
        )
    return chosen


async def bounded_body(receive: Receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise RequestRefused(400, "BAD_REQUEST", "The client went away.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RequestRefused(413, "BAD_REQUEST", f"The body is larger than {limit // 1024} KB.")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def refusal(exc: RequestRefused, *, headers: dict[str, str] | None = None) -> Response:
    body = {"errors": [{"message": exc.message, "extensions": {"code": exc.code}}]}
    return JSONResponse(body, status_code=exc.status, headers=headers)


class GraphQLDoor:
    """Wraps the GraphQL ASGI app for HTTP; WebSockets pass through (they authenticate on connect)."""

    def __init__(self, graphql: ASGIApp, authenticate: Authenticate, *, ide: bool) -> None:
        self._graphql = graphql
        self._authenticate = authenticate
        self._ide = ide

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._graphql(scope, receive, send)
            return
        request = Request(scope)
        if request.method == "GET" and self._ide and "text/html" in request.headers.get("accept", ""):
            await self._graphql(scope, receive, send)  # the GraphiQL page, which runs nothing itself
            return
        try:
            if request.method != "POST":
                raise RequestRefused(405, "BAD_REQUEST", "Send GraphQL requests with POST.")
            body = await bounded_body(receive, MAX_BODY)
            operation = await self._admit(request, body)
        except RequestRefused as exc:
            allow = {"Allow": "POST"} if exc.status == 405 else None
            await refusal(exc, headers=allow)(scope, receive, send)
            return
        # Operation names are GraphQL names, chosen by our own apps: a bounded label set.
        name = operation.name.value if operation.name else "anonymous"
        with metrics.GRAPHQL_SECONDS.labels(name, operation.operation.value).time():
            await self._graphql(scope, _replay(body, receive), send)

    async def _admit(self, request: Request, body: bytes) -> OperationDefinitionNode:
        token = bearer_token(request.headers.get("authorization", ""))
        if token is None:
            raise RequestRefused(401, "UNAUTHENTICATED", "Sign in to continue.")
        try:
            principal = await self._authenticate(token)
        except Unauthenticated as exc:
            raise RequestRefused(401, "UNAUTHENTICATED", exc.message) from None
        payload = checked_payload(body)
        operation = checked_document(payload["query"], payload.get("operationName"))
        setattr(request.state, PRINCIPAL, principal)
        return operation


def principal_of(request: Request) -> Principal | None:
    """The principal the door verified for this request, if any."""
    found: Principal | None = getattr(request.state, PRINCIPAL, None)
    return found


def _replay(body: bytes, then: Receive) -> Receive:
    """The body already read, once; after it, the connection's own messages (a disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await then()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
