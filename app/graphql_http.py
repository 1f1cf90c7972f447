"""The HTTP door of /graphql: what every request passes before GraphQL parses or validates anything.

Hostile input is handled here once, for whole classes, not field by field:
- POST with a JSON body, or GET for queries only (GraphQL over HTTP); other methods 405, other body
  types 415. A GET's query string never reaches the access log (app/cli.py strips it);
- bodies up to MAX_BODY bytes, else 413, read without trusting Content-Length;
- a verified ID token, else 401: nothing in the schema is public, so an anonymous document is never
  parsed (a document that is expensive to validate costs its sender a valid account);
- a JSON object of valid UTF-8 with `query` a string, `variables` and `extensions` objects and
  `operationName` a string (each may be null), else 400 with a GraphQL-over-HTTP error body (no `data`);
- in trusted-documents mode (app/trusted_documents.py), a registered document named by its SHA-256 in
  `extensions.persistedQuery.sha256Hash`, whose stored text then replaces `query` (sent along, it must
  be that text); else PERSISTED_QUERY_NOT_FOUND or PERSISTED_QUERY_REQUIRED, nothing parsed;
- a document that parses within the token limit, names its operation when it has several, is no
  subscription (they run over WebSocket), and whose fields, fragments spread out, stay within
  MAX_EXPANDED_FIELDS: validation then costs time bounded by the budget, and this check is linear
  (each fragment is sized once).
The response's media type is negotiated here: `application/graphql-response+json` when the client
prefers it, and then a document or variables GraphQL refuses answer 400 without `data`; else the
legacy `application/json`, where they answer 200 (the spec's watershed rules). Every refusal carries a
code of schema/error_codes.py and a text in the caller's language (their profile's, else Accept-Language).
The buffered body is then replayed to Strawberry, with the principal and media type in the request's
state so the token is verified once.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

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
from schema.error_codes import Code, locale_from_accept_language, text, weighted

MAX_BODY = 256 * 1024
MAX_TOKENS = 2000
MAX_EXPANDED_FIELDS = 5000
PRINCIPAL = "carecore_principal"  # the verified principal's attribute on the request's state
MEDIA_TYPE = "carecore_media_type"  # the negotiated response media type, on the request's state
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"

Authenticate = Callable[[str], Awaitable[Principal]]
TrustedDocument = Callable[[str], Awaitable[str | None]]  # the registered text of a SHA-256, if any
SHA256 = re.compile(r"[0-9a-f]{64}")


class RequestRefused(Exception):
    """A refusal at the door; `key` and `params` name its text in error_codes.TEXTS.

    `status` None: a GraphQL request error (parse, validation), whose status follows the media type.
    """

    def __init__(self, status: int | None, code: Code, key: str, **params: object) -> None:
        super().__init__(key)
        self.status, self.code, self.key, self.params = status, code, key, params

    def message(self, locale: str) -> str:
        return text(self.key, locale, **self.params)


def negotiated_media_type(accept: str) -> str:
    """application/graphql-response+json when the client ranks it at least as high as JSON, else JSON."""
    ranks: dict[str, float] = {}
    for media, q in weighted(accept):
        ranks[media] = max(q, ranks.get(media, 0.0))
    graphql = ranks.get(GRAPHQL_RESPONSE, 0.0)
    legacy = max(ranks.get(JSON, 0.0), ranks.get("application/*", 0.0), ranks.get("*/*", 0.0))
    return GRAPHQL_RESPONSE if graphql > 0 and graphql >= legacy else JSON


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


def json_object(body: bytes) -> dict[str, Any]:
    """The request's JSON object, or RequestRefused naming what is wrong with it."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise RequestRefused(400, Code.BAD_REQUEST, "not_json") from None
    if not isinstance(payload, dict):
        raise RequestRefused(400, Code.BAD_REQUEST, "not_object")
    return payload


def checked_parameters(payload: dict[str, Any]) -> dict[str, Any]:
    """The parameters' types as GraphQL over HTTP has them; null stands for absent, except for `query`."""
    if not isinstance(payload.get("query"), str):
        raise RequestRefused(400, Code.BAD_REQUEST, "param_type", name="query", kind="a string")
    for name, kind in (("variables", dict), ("extensions", dict), ("operationName", str)):
        value = payload.get(name)
        if value is not None and not isinstance(value, kind):
            described = "an object" if kind is dict else "a string"
            raise RequestRefused(400, Code.BAD_REQUEST, "param_type", name=name, kind=described)
    return payload


def decoded_query_parameters(request: Request) -> dict[str, Any]:
    """A GET's parameters, `variables` and `extensions` decoded from their JSON text."""
    payload: dict[str, Any] = {k: request.query_params.get(k) for k in ("query", "operationName")}
    for name in ("variables", "extensions"):
        raw = request.query_params.get(name)
        try:
            payload[name] = json.loads(raw) if raw else None
        except ValueError:
            raise RequestRefused(400, Code.BAD_REQUEST, "param_type", name=name, kind="an object") from None
    return payload


async def trusted_payload(payload: dict[str, Any], registered: TrustedDocument) -> dict[str, Any]:
    """The payload with the registered document its persisted-query hash names as `query`.

    Apollo's request shape: `{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}}`.
    """
    extensions = payload.get("extensions")
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    sha = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    if not isinstance(sha, str):
        raise RequestRefused(None, Code.PERSISTED_QUERY_REQUIRED, "persisted_required")
    document = await registered(sha) if SHA256.fullmatch(sha) else None  # no read for what cannot be a hash
    if document is None:
        raise RequestRefused(None, Code.PERSISTED_QUERY_NOT_FOUND, "persisted_not_found")
    sent = payload.get("query")
    if sent and sent != document:  # null or "" (graphql-transport-ws requires the key): not sent
        raise RequestRefused(400, Code.BAD_REQUEST, "persisted_mismatch")
    return {**payload, "query": document}


def checked_document(query: str, operation_name: str | None, *, method: str = "POST") -> OperationDefinitionNode:
    """Parses once, cheaply, and refuses what validation would pay too much for or what HTTP cannot run."""
    try:
        document = parse(query, max_tokens=MAX_TOKENS, no_location=True)
    except GraphQLError as exc:
        raise RequestRefused(None, Code.GRAPHQL_PARSE_FAILED, "syntax", detail=exc.message) from None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if not operations:
        raise RequestRefused(None, Code.GRAPHQL_VALIDATION_FAILED, "no_operation")
    if operation_name is None and len(operations) > 1:
        raise RequestRefused(None, Code.GRAPHQL_VALIDATION_FAILED, "name_operation")
    chosen = next(
        (o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)), None
    )
    if chosen is None:
        shown = json.dumps((operation_name or "")[:100], ensure_ascii=False)
        raise RequestRefused(None, Code.GRAPHQL_VALIDATION_FAILED, "unknown_operation", name=shown)
    if chosen.operation is OperationType.SUBSCRIPTION:
        raise RequestRefused(400, Code.BAD_REQUEST, "subscription_http")
    if chosen.operation is OperationType.MUTATION and method == "GET":
        raise RequestRefused(405, Code.BAD_REQUEST, "mutation_get")  # GET must be safe (GraphQL over HTTP)
    if expanded_fields(document, chosen) > MAX_EXPANDED_FIELDS:
        raise RequestRefused(None, Code.GRAPHQL_VALIDATION_FAILED, "too_many_fields", limit=MAX_EXPANDED_FIELDS)
    return chosen


async def bounded_body(receive: Receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise RequestRefused(400, Code.BAD_REQUEST, "client_gone")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RequestRefused(413, Code.PAYLOAD_TOO_LARGE, "too_large", kb=limit // 1024)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def refusal(exc: RequestRefused, *, media_type: str, locale: str) -> Response:
    status = exc.status or (400 if media_type == GRAPHQL_RESPONSE else 200)
    body = {"errors": [{"message": exc.message(locale), "extensions": {"code": exc.code.value}}]}
    headers = {"Allow": "GET, POST"} if status == 405 else None
    return JSONResponse(body, status_code=status, headers=headers, media_type=media_type)


class GraphQLDoor:
    """Wraps the GraphQL ASGI app for HTTP; WebSockets pass through (they authenticate on connect)."""

    def __init__(
        self, graphql: ASGIApp, authenticate: Authenticate, *, ide: bool, trusted: TrustedDocument | None = None
    ) -> None:
        self._graphql = graphql
        self._authenticate = authenticate
        self._ide = ide
        self._trusted = trusted  # None: documents are sent as text (trusted-documents mode off)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._graphql(scope, receive, send)
            return
        request = Request(scope)
        if request.method == "GET" and self._ide and "text/html" in request.headers.get("accept", ""):
            await self._graphql(scope, receive, send)  # the GraphiQL page, which runs nothing itself
            return
        media_type = negotiated_media_type(request.headers.get("accept", ""))
        setattr(request.state, MEDIA_TYPE, media_type)
        locale = locale_from_accept_language(request.headers.get("accept-language"))
        body = b""
        try:
            if request.method not in ("GET", "POST"):
                raise RequestRefused(405, Code.BAD_REQUEST, "post_only")
            if request.method == "POST":
                body = await bounded_body(receive, MAX_BODY)
            operation, payload = await self._admit(request, body)
        except RequestRefused as exc:
            principal = principal_of(request)  # after sign-in, the language of the caller's profile
            locale = principal.locale if principal is not None else locale
            await refusal(exc, media_type=media_type, locale=locale)(scope, receive, send)
            return
        # Operation names are GraphQL names, chosen by our own apps: a bounded label set.
        name = operation.name.value if operation.name else "anonymous"
        if self._trusted is not None:  # Strawberry runs the registered text, not what was sent
            if request.method == "POST":
                body = json.dumps(payload).encode()
            else:
                given = {k: v if isinstance(v, str) else json.dumps(v) for k, v in payload.items() if v is not None}
                scope = {**scope, "query_string": urlencode(given).encode()}
        with metrics.GRAPHQL_SECONDS.labels(name, operation.operation.value).time():
            await self._graphql(scope, _replay(body, receive), send)

    async def _admit(self, request: Request, body: bytes) -> tuple[OperationDefinitionNode, dict[str, Any]]:
        """The token first: an anonymous request costs no parsing (nor a trusted-document read)."""
        token = bearer_token(request.headers.get("authorization", ""))
        if token is None:
            raise RequestRefused(401, Code.UNAUTHENTICATED, "unauthenticated")
        try:
            principal = await self._authenticate(token)
        except Unauthenticated:
            raise RequestRefused(401, Code.UNAUTHENTICATED, "unauthenticated") from None
        setattr(request.state, PRINCIPAL, principal)
        if request.method == "GET":
            payload = decoded_query_parameters(request)
        elif "application/json" not in request.headers.get("content-type", "").lower():
            raise RequestRefused(415, Code.BAD_REQUEST, "media_type")
        else:
            payload = json_object(body)
        if self._trusted is not None:
            payload = await trusted_payload(payload, self._trusted)
        payload = checked_parameters(payload)
        return checked_document(payload["query"], payload.get("operationName"), method=request.method), payload


class WithoutQueryStrings(logging.Filter):
    """Drops the query string from uvicorn's access log lines: a GET's holds the document and variables."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):  # uvicorn's access line
            record.args = (*args[:2], args[2].partition("?")[0], *args[3:])
        return True


ACCESS_LOG_FILTER = WithoutQueryStrings()


def principal_of(request: Request) -> Principal | None:
    """The principal the door verified for this request, if any."""
    found: Principal | None = getattr(request.state, PRINCIPAL, None)
    return found


def media_type_of(request: Request) -> str:
    """The response media type the door negotiated for this request."""
    found: str = getattr(request.state, MEDIA_TYPE, JSON)
    return found


def is_request_error(data: object, errors: list[GraphQLError] | None) -> bool:
    """GraphQL refused the request before executing it (parse, validation, variables): no error has a path.

    A field error that nulls the whole result also has data None, but it carries the field's path.
    """
    return data is None and bool(errors) and all(e.path is None for e in errors or ())


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
