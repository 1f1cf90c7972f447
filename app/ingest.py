"""POST /ingest/flags: AI services' signed webhook, onto the same core as the `flagIncident` mutation.

Signature scheme: carecore.incidents.ai_services. Body, JSON (UTF-8):
    {"externalId": "...", "personRef": "...", "type": "SEIZURE", "confidence": 0.93,
     "detector": "...", "modelVersion": "...",
     "evidence": {"summary": "...", "signals": [{"name": "...", "value": "..."}]}}
Answers 202 {"incidentId", "outcome": CREATED|MERGED|DUPLICATE, "status"}; a refusal is a 4xx with
{"error": {"code", "message", "field"}} and stores nothing.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from app.webhook_replies import BadBody, error_response
from carecore.errors import NotFound, Unauthenticated, ValidationFailed
from carecore.incidents.ai_services import authenticate_webhook
from carecore.incidents.ingestion import ingest_flag
from carecore.incidents.models import Evidence, FlagSubmission, IncidentType, Signal
from carecore.ports import Ports

MAX_BODY = 64 * 1024


def _text(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str):
        raise BadBody(f"{field} must be a string.", field)
    return value


def _evidence(value: object) -> Evidence:
    if value is None:
        return Evidence()
    if not isinstance(value, dict):
        raise BadBody("evidence must be an object.", "evidence")
    summary = value.get("summary", "")
    signals = value.get("signals", [])
    if not isinstance(summary, str) or not isinstance(signals, list):
        raise BadBody("evidence needs a string summary and a list of signals.", "evidence")
    if not all(isinstance(s, dict) and isinstance(s.get("name"), str) for s in signals):
        raise BadBody("each signal needs a name and a value.", "evidence.signals")
    return Evidence(summary, tuple(Signal(s["name"], str(s.get("value", ""))) for s in signals))


def parse_flag(raw: bytes) -> FlagSubmission:
    """The body as a flag, or BadBody naming what is wrong."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadBody(f"The body is not JSON: {exc}.") from None
    if not isinstance(body, dict):
        raise BadBody("The body must be a JSON object.")
    type_name = _text(body, "type")
    if type_name not in IncidentType.__members__:
        raise BadBody(f"type must be one of {', '.join(IncidentType)}.", "type")
    confidence = body.get("confidence")
    if not isinstance(confidence, int | float) or isinstance(confidence, bool):
        raise BadBody("confidence must be a number from 0 to 1.", "confidence")
    return FlagSubmission(
        external_id=_text(body, "externalId"),
        person_ref=_text(body, "personRef"),
        type=IncidentType(type_name),
        confidence=float(confidence),
        detector=_text(body, "detector"),
        model_version=_text(body, "modelVersion"),
        evidence=_evidence(body.get("evidence")),
    )


def flag_endpoint(ports_of: Callable[[], Ports]) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def ingest_flags(request: Request) -> JSONResponse:
        if int(request.headers.get("content-length") or 0) > MAX_BODY:
            return error_response(413, "TOO_LARGE", f"A flag is at most {MAX_BODY} bytes.")
        body = await request.body()
        if len(body) > MAX_BODY:
            return error_response(413, "TOO_LARGE", f"A flag is at most {MAX_BODY} bytes.")
        ports, headers = ports_of(), request.headers
        try:
            actor, service = await authenticate_webhook(
                ports,
                headers.get("x-carecore-service", ""),
                headers.get("x-carecore-timestamp", ""),
                headers.get("x-carecore-signature", ""),
                body,
            )
            opened = await ingest_flag(ports, actor, service, parse_flag(body))
        except Unauthenticated as exc:
            return error_response(401, "UNAUTHENTICATED", exc.message)
        except BadBody as exc:
            return error_response(400, "BAD_REQUEST", str(exc), exc.field)
        except NotFound as exc:
            return error_response(422, "UNKNOWN_PERSON", "No person of your agency has this reference.", exc.field)
        except ValidationFailed as exc:
            return error_response(400, "BAD_REQUEST", exc.message, exc.field)
        incident = opened.incident
        payload = {"incidentId": incident.id, "outcome": opened.outcome.value, "status": incident.status.value}
        return JSONResponse(payload, status_code=202)

    return ingest_flags
