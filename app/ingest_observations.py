"""POST /ingest/observations: device services' signed batches of vital-sign readings, onto the same core
as the `recordObservation` mutation.

Signature scheme: carecore.incidents.ai_services (the same three headers as /ingest/flags). Body, JSON:
    {"readings": [
       {"personRef": "...", "code": "85354-9", "unit": "mm[Hg]", "effectiveAt": "2026-11-25T08:03:00+09:00",
        "values": [{"code": "8480-6", "value": 142}, {"code": "8462-4", "value": 91}],
        "deviceId": "cuff-0042", "sourceDataPointId": "r-981", "modality": "SENSED"},
       {"personRef": "...", "code": "8867-4", "unit": "/min", "value": 71, "effectiveAt": "...", "deviceId": "..."}
    ]}
At most 1,000 readings. Answers 202 {"results": [{"index", "outcome": RECORDED|REJECTED|DUPLICATE|INVALID,
"observationId", "status", "reason", "incidentIds", "error"}]} in the batch's order: one bad reading does
not refuse the others. Resending a batch is harmless (each reading's id derives from its source).
A refusal of the whole request is a 4xx with {"error": {"code", "message", "field"}} and stores nothing.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from app.webhook_replies import BadBody, error_response
from carecore.errors import Unauthenticated, ValidationFailed
from carecore.health.models import Component, IngestOutcome, IngestResult, Metric, Modality, Reading
from carecore.health.service import MAX_BATCH, ingest_observations
from carecore.incidents.ai_services import authenticate_webhook
from carecore.ports import Ports

MAX_BODY = 1024 * 1024  # 1,000 readings of a few hundred bytes each, with room to spare


def _number(value: object, field: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise BadBody(f"{field} must be a number.", field)
    return float(value)


def _optional_text(item: dict[str, Any], field: str) -> str | None:
    value = item.get(field)
    if value is not None and not isinstance(value, str):
        raise BadBody(f"{field} must be a string.", field)
    return value


def _components(item: dict[str, Any], metric: Metric) -> tuple[Component, ...]:
    if "values" not in item:
        return (Component(metric.value, _number(item.get("value"), "value")),)
    values = item["values"]
    if not isinstance(values, list) or not all(isinstance(v, dict) and isinstance(v.get("code"), str) for v in values):
        raise BadBody("values must be a list of {code, value}.", "values")
    return tuple(Component(v["code"], _number(v.get("value"), "values.value")) for v in values)


def parse_reading(item: object) -> tuple[str, Reading]:
    """One reading of the batch as (person reference, reading), or BadBody naming what is wrong."""
    if not isinstance(item, dict):
        raise BadBody("Each reading must be a JSON object.")
    ref, code, unit, at = (_optional_text(item, f) for f in ("personRef", "code", "unit", "effectiveAt"))
    if ref is None or code is None or unit is None or at is None:
        raise BadBody("A reading needs personRef, code, unit and effectiveAt.")
    try:
        metric = Metric(code)
    except ValueError:
        raise BadBody(f"code must be one of {', '.join(Metric)}.", "code") from None
    try:
        effective_at = datetime.fromisoformat(at)
    except ValueError:
        raise BadBody("effectiveAt must be an ISO 8601 time with its offset.", "effectiveAt") from None
    modality = item.get("modality", Modality.SENSED.value)
    if modality not in Modality.__members__:
        raise BadBody(f"modality must be one of {', '.join(Modality)}.", "modality")
    reading = Reading(
        person_id="",  # the service resolves the reference within the caller's agency
        metric=metric,
        components=_components(item, metric),
        unit=unit,
        effective_at=effective_at,
        modality=Modality(modality),
        device_id=_optional_text(item, "deviceId"),
        source_data_point_id=_optional_text(item, "sourceDataPointId"),
    )
    return ref, reading


def parse_batch(raw: bytes) -> list[object]:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadBody(f"The body is not JSON: {exc}.") from None
    readings = body.get("readings") if isinstance(body, dict) else None
    if not isinstance(readings, list) or not readings:
        raise BadBody('The body must be {"readings": [...]} with at least one reading.', "readings")
    if len(readings) > MAX_BATCH:
        raise BadBody(f"At most {MAX_BATCH} readings a request; split the batch.", "readings")
    return readings


def _result(r: IngestResult) -> dict[str, Any]:
    o = r.observation
    out: dict[str, Any] = {"index": r.index, "outcome": r.outcome.value}
    if o is not None:
        out |= {"observationId": o.id, "status": o.status.value, "incidentIds": list(o.incident_ids)}
        out["reason"] = o.rejection.reason.value if o.rejection else None
    if r.error is not None:
        out["error"] = {"message": r.error, "field": r.field}
    return out


def observation_endpoint(ports_of: Callable[[], Ports]) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def ingest(request: Request) -> JSONResponse:
        if int(request.headers.get("content-length") or 0) > MAX_BODY:
            return error_response(413, "TOO_LARGE", f"A batch is at most {MAX_BODY} bytes.")
        body = await request.body()
        if len(body) > MAX_BODY:
            return error_response(413, "TOO_LARGE", f"A batch is at most {MAX_BODY} bytes.")
        ports, headers = ports_of(), request.headers
        try:
            actor, service = await authenticate_webhook(
                ports,
                headers.get("x-carecore-service", ""),
                headers.get("x-carecore-timestamp", ""),
                headers.get("x-carecore-signature", ""),
                body,
            )
            items = parse_batch(body)
            parsed: list[tuple[int, tuple[str, Reading]]] = []
            invalid: list[IngestResult] = []
            for index, item in enumerate(items):
                try:
                    parsed.append((index, parse_reading(item)))
                except BadBody as exc:
                    invalid.append(IngestResult(index, IngestOutcome.INVALID, error=str(exc), field=exc.field))
            stored = await ingest_observations(ports, actor, service, [p for _, p in parsed])
        except Unauthenticated as exc:
            return error_response(401, "UNAUTHENTICATED", exc.message)
        except BadBody as exc:
            return error_response(400, "BAD_REQUEST", str(exc), exc.field)
        except ValidationFailed as exc:
            return error_response(400, "BAD_REQUEST", exc.message, exc.field)
        results = invalid + [replace(r, index=i) for (i, _), r in zip(parsed, stored, strict=True)]
        payload = {"results": [_result(r) for r in sorted(results, key=lambda r: r.index)]}
        return JSONResponse(payload, status_code=202)

    return ingest
