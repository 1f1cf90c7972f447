"""The wellness-call service's doors onto carecore.reachability:

- POST /ingest/calls: one call attempt's outcome, signed like /ingest/flags (carecore.incidents.ai_services);
- POST /callbacks/calls/{token}: the same body, for providers that cannot sign, authenticated by the
  unguessable per-agency token a coordinator issued (`issueCallCallbackToken`; hashed at rest);
- POST /ingest/signs: a signed batch of passive signs of life (at most 1,000).

Call body, JSON: {"personRef": "...", "session": "...", "attempt": 1, "outcome": ANSWERED|NOT_ANSWERED|FAILED,
"at": "2026-11-25T10:00:04+09:00", "riskWords": ["아프다"], "mood": "low", "transcript": "..."}.
An answering machine is NOT_ANSWERED. Idempotent on (provider, session, attempt): a resend changes nothing.
Answers 202 {"contactId", "duplicate", "state"}.
Signs body: {"signs": [{"personRef", "kind": PHONE_USED|POWER|DOOR|APP_OPENED|SOS_PRESSED|CHECK_ANSWERED,
"at", "sourceId"}]}; answers 202 {"results": [{"index", "contactId", "duplicate", "state"} or {"index", "error"}]}.
A refusal of the whole request is a 4xx with {"error": {"code", "message", "field"}} and stores nothing.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from app.webhook_replies import BadBody, error_response
from carecore.access.principal import Principal
from carecore.errors import NotFound, Unauthenticated, ValidationFailed
from carecore.incidents.ai_services import authenticate_webhook
from carecore.incidents.models import AiService
from carecore.ports import Ports
from carecore.reachability.models import CallOutcome, CallReport, SignKind, SignReport
from carecore.reachability.service import (
    Recorded,
    authenticate_callback,
    record_call_outcome,
    record_sign_of_life,
)

MAX_BODY = 64 * 1024
MAX_SIGNS_BODY = 512 * 1024
MAX_SIGNS = 1000
Endpoint = Callable[[Request], Awaitable[JSONResponse]]


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadBody(f"The body is not JSON: {exc}.") from None
    if not isinstance(body, dict):
        raise BadBody("The body must be a JSON object.")
    return body


def _text(item: dict[str, Any], field: str, *, required: bool = True) -> str | None:
    value = item.get(field)
    if (value is None and required) or (value is not None and not isinstance(value, str)):
        raise BadBody(f"{field} must be a string.", field)
    return value


def _time(item: dict[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(str(_text(item, "at")))
    except ValueError:
        raise BadBody("at must be an ISO 8601 time with its offset.", "at") from None


def parse_call(raw: bytes) -> CallReport:
    body = _json_object(raw)
    outcome = _text(body, "outcome")
    if outcome not in (CallOutcome.ANSWERED, CallOutcome.NOT_ANSWERED, CallOutcome.FAILED):
        raise BadBody("outcome must be ANSWERED, NOT_ANSWERED or FAILED.", "outcome")
    attempt = body.get("attempt")
    if not isinstance(attempt, int) or isinstance(attempt, bool):
        raise BadBody("attempt must be a whole number from 1.", "attempt")
    words = body.get("riskWords", [])
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise BadBody("riskWords must be a list of strings.", "riskWords")
    return CallReport(
        person_ref=str(_text(body, "personRef")),
        session=str(_text(body, "session")),
        attempt=attempt,
        outcome=CallOutcome(outcome),
        at=_time(body),
        risk_words=tuple(words),
        mood=_text(body, "mood", required=False),
        transcript=_text(body, "transcript", required=False) or "",
    )


def parse_sign(item: object) -> SignReport:
    if not isinstance(item, dict):
        raise BadBody("Each sign must be a JSON object.")
    kind = _text(item, "kind")
    if kind not in SignKind.__members__:
        raise BadBody(f"kind must be one of {', '.join(SignKind)}.", "kind")
    source_id = _text(item, "sourceId", required=False)
    return SignReport(str(_text(item, "personRef")), SignKind(str(kind)), _time(item), source_id)


def _recorded(r: Recorded) -> dict[str, Any]:
    return {"contactId": r.contact.id, "duplicate": r.duplicate, "state": r.reach.state.value}


async def _read(request: Request, limit: int) -> bytes | None:
    if int(request.headers.get("content-length") or 0) > limit:
        return None
    body = await request.body()
    return body if len(body) <= limit else None


Caller = tuple[Principal, AiService]  # who sent a call outcome, and as which wellness-call service


async def _signed(ports: Ports, request: Request, body: bytes) -> Caller:
    headers = request.headers
    return await authenticate_webhook(
        ports,
        headers.get("x-carecore-service", ""),
        headers.get("x-carecore-timestamp", ""),
        headers.get("x-carecore-signature", ""),
        body,
    )


async def _call(ports: Ports, caller: Caller, body: bytes) -> JSONResponse:
    try:
        recorded = await record_call_outcome(ports, caller[0], caller[1], parse_call(body))
    except BadBody as exc:
        return error_response(400, "BAD_REQUEST", str(exc), exc.field)
    except NotFound as exc:
        return error_response(422, "UNKNOWN_PERSON", "No person of your agency has this reference.", exc.field)
    except ValidationFailed as exc:
        return error_response(400, "BAD_REQUEST", exc.message, exc.field)
    return JSONResponse(_recorded(recorded), status_code=202)


def _call_door(
    ports_of: Callable[[], Ports], authenticate: Callable[[Ports, Request, bytes], Awaitable[Caller]]
) -> Endpoint:
    """A call outcome's door: the two differ only in how the service proves who it is."""

    async def receive_call(request: Request) -> JSONResponse:
        body = await _read(request, MAX_BODY)
        if body is None:
            return error_response(413, "TOO_LARGE", f"A call outcome is at most {MAX_BODY} bytes.")
        ports = ports_of()
        try:
            caller = await authenticate(ports, request, body)
        except Unauthenticated as exc:
            return error_response(401, "UNAUTHENTICATED", exc.message)
        return await _call(ports, caller, body)

    return receive_call


def call_endpoint(ports_of: Callable[[], Ports]) -> Endpoint:
    return _call_door(ports_of, _signed)


def callback_endpoint(ports_of: Callable[[], Ports]) -> Endpoint:
    async def by_token(ports: Ports, request: Request, body: bytes) -> Caller:
        return await authenticate_callback(ports, str(request.path_params.get("token", "")))

    return _call_door(ports_of, by_token)


def sign_endpoint(ports_of: Callable[[], Ports]) -> Endpoint:
    async def ingest_signs(request: Request) -> JSONResponse:
        body = await _read(request, MAX_SIGNS_BODY)
        if body is None:
            return error_response(413, "TOO_LARGE", f"A batch is at most {MAX_SIGNS_BODY} bytes.")
        ports = ports_of()
        try:
            actor, service = await _signed(ports, request, body)
            signs = _json_object(body).get("signs")
            if not isinstance(signs, list) or not 0 < len(signs) <= MAX_SIGNS:
                raise BadBody(f'The body must be {{"signs": [...]}} with 1 to {MAX_SIGNS} signs.', "signs")
        except Unauthenticated as exc:
            return error_response(401, "UNAUTHENTICATED", exc.message)
        except BadBody as exc:
            return error_response(400, "BAD_REQUEST", str(exc), exc.field)
        results: list[dict[str, Any]] = []
        for index, item in enumerate(signs):
            try:
                recorded = await record_sign_of_life(ports, actor, service, parse_sign(item))
                results.append({"index": index, **_recorded(recorded)})
            except BadBody as exc:
                results.append({"index": index, "error": {"message": str(exc), "field": exc.field}})
            except (NotFound, ValidationFailed) as exc:
                results.append({"index": index, "error": {"message": exc.message, "field": exc.field}})
        return JSONResponse({"results": results}, status_code=202)

    return ingest_signs
