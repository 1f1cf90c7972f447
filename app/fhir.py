"""The FHIR R4 (4.0.1) face at /fhir/R4: metadata, read and search, and bulk export for coordinators
(Firebase ID token, as for GraphQL): kick-off at Group/{agency}/$export, status (GET) and cancel
(DELETE) at bulk/{id}, files at bulk/{id}/{file}.ndjson, for the requester only. Device gateways (AI
service accounts, signed like /ingest/observations) POST an Observation, or a transaction Bundle of them
to the base URL, into the health-check core (carecore.fhir.intake).
Every answer is application/fhir+json (files: application/fhir+ndjson); every refusal an OperationOutcome:
401 no valid token, 403 a role that may not use FHIR, 404 not found or outside the caller's agency,
400 a parameter the server does not understand.

Routes are thin: the core (carecore.fhir) decides access and audits, as it does for GraphQL.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from app.graphql_http import bearer_token
from carecore.access.principal import Principal
from carecore.errors import DomainError, Forbidden, NotFound, Unauthenticated, ValidationFailed
from carecore.fhir import capability, export, intake, mapping, reads
from carecore.fhir.mapping import Json, instant
from carecore.fhir.models import ExportStatus
from carecore.health.models import IngestOutcome, IngestResult
from carecore.incidents.ai_services import authenticate_webhook
from carecore.incidents.models import AiService
from carecore.pagination import MAX_PAGE_SIZE
from carecore.ports import Ports
from carecore.users.service import authenticate_token

FHIR_JSON = "application/fhir+json"
NDJSON = "application/fhir+ndjson"
PortsOf = Callable[[], Ports]
Handler = Callable[[Request, Ports, Principal], Awaitable[Response]]

_STATUS = {Unauthenticated: 401, Forbidden: 403, NotFound: 404, ValidationFailed: 400}
_ISSUE_CODE = {401: "login", 403: "forbidden", 404: "not-found", 400: "invalid", 413: "too-costly"}


def fhir_response(body: Json, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(content, status_code=status, media_type=FHIR_JSON, headers=headers)


def outcome(status: int, message: str, *, expression: str | None = None) -> Response:
    issue: Json = {"severity": "error", "code": _ISSUE_CODE.get(status, "processing"), "diagnostics": message}
    if expression:
        issue["expression"] = [expression]
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return fhir_response({"resourceType": "OperationOutcome", "issue": [issue]}, status, headers)


def refused(exc: DomainError) -> Response:
    status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 400)
    return outcome(status, exc.message, expression=exc.field)


async def principal(request: Request, ports: Ports) -> Principal:
    token = bearer_token(request.headers.get("authorization", ""))
    if token is None:
        raise Unauthenticated("Send `Authorization: Bearer <Firebase ID token>`.")
    return await authenticate_token(ports, token)


def signed_in(ports_of: PortsOf, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Verifies the token, runs the handler, and answers domain refusals as OperationOutcomes."""

    async def endpoint(request: Request) -> Response:
        ports = ports_of()
        try:
            return await handler(request, ports, await principal(request, ports))
        except DomainError as exc:
            return refused(exc)

    return endpoint


def _count(request: Request) -> int | None:
    raw = request.query_params.get("_count")
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise ValidationFailed(f"_count must be between 1 and {MAX_PAGE_SIZE}.", field="_count")
    return int(raw)


def _required(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        raise ValidationFailed(f"This search needs `{name}`.", field=name)
    return value


def _patient(request: Request) -> str:
    return _required(request, "patient").removeprefix("Patient/")


def _refuse_unknown(request: Request, known: set[str]) -> None:
    """Unknown parameters are an error, never ignored: a silently broader search would leak or mislead."""
    unknown = set(request.query_params) - known - {"_count", "_cursor", "_format"}
    if unknown:
        raise ValidationFailed(f"Unsupported search parameters: {', '.join(sorted(unknown))}.", field=min(unknown))


def searchset(request: Request, found: reads.Found) -> Response:
    """A searchset Bundle with `self` and, when there is more, `next` (the same query after the cursor)."""
    base = str(request.url.replace(query=""))
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "_cursor"]
    links = [{"relation": "self", "url": f"{base}?{urlencode(request.query_params.multi_items())}"}]
    if found.next_cursor is not None:
        links.append({"relation": "next", "url": f"{base}?{urlencode([*params, ('_cursor', found.next_cursor)])}"})
    root = str(request.base_url).rstrip("/") + "/fhir/R4"
    entries = [
        {"fullUrl": f"{root}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
        for r in found.resources
    ]
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "link": links, "entry": entries}
    return fhir_response(bundle)


async def _read_patient(request: Request, ports: Ports, actor: Principal) -> Response:
    return fhir_response(await reads.read_patient(ports, actor, request.path_params["id"]))


async def _search_patients(request: Request, ports: Ports, actor: Principal) -> Response:
    _refuse_unknown(request, {"identifier"})
    return searchset(request, await reads.search_patients(ports, actor, _required(request, "identifier")))


async def _search_observations(request: Request, ports: Ports, actor: Principal) -> Response:
    _refuse_unknown(request, {"patient", "code", "date"})
    page = reads.page_request(_count(request), request.query_params.get("_cursor"))
    found = await reads.search_observations(
        ports,
        actor,
        _patient(request),
        code=request.query_params.get("code"),
        dates=request.query_params.getlist("date"),
        page=page,
    )
    return searchset(request, found)


async def _search_care_plans(request: Request, ports: Ports, actor: Principal) -> Response:
    _refuse_unknown(request, {"patient", "status"})
    page = reads.page_request(_count(request), request.query_params.get("_cursor"))
    status = request.query_params.get("status")
    return searchset(request, await reads.search_care_plans(ports, actor, _patient(request), status=status, page=page))


async def _search_tasks(request: Request, ports: Ports, actor: Principal) -> Response:
    _refuse_unknown(request, {"patient", "status"})
    page = reads.page_request(_count(request), request.query_params.get("_cursor"))
    status = request.query_params.get("status")
    return searchset(request, await reads.search_tasks(ports, actor, _patient(request), status=status, page=page))


OUTPUT_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir/R4"


async def _kick_off(request: Request, ports: Ports, actor: Principal) -> Response:
    """Bulk Data kick-off: 202 with the status URL in Content-Location (HL7 Bulk Data IG, Group export)."""
    _refuse_unknown(request, {"_type", "_since", "_outputFormat"})
    if "respond-async" not in request.headers.get("prefer", ""):
        raise ValidationFailed("A bulk export needs `Prefer: respond-async`.", field="Prefer")
    output_format = request.query_params.get("_outputFormat")
    if output_format is not None and output_format not in OUTPUT_FORMATS:
        raise ValidationFailed("_outputFormat: only application/fhir+ndjson is served.", field="_outputFormat")
    types = export.checked_types(request.query_params.get("_type"))
    since = export.checked_since(request.query_params.get("_since"))
    job = await export.start_export(
        ports, actor, request.path_params["agency"], types=types, since=since, request_url=str(request.url)
    )
    return Response(status_code=202, headers={"Content-Location": f"{_base(request)}/bulk/{job.id}"})


async def _export_status(request: Request, ports: Ports, actor: Principal) -> Response:
    job = await export.get_export(ports, actor, request.path_params["id"])
    if job.status is not ExportStatus.DONE:
        headers = {"X-Progress": export.progress(job).header(), "Retry-After": "2"}
        return Response(status_code=202, headers=headers)
    files = f"{_base(request)}/bulk/{job.id}"
    manifest = {
        "transactionTime": instant(job.requested_at),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [{"type": f.type, "url": f"{files}/{f.file_id}.ndjson", "count": f.count} for f in job.files],
        "error": [],
    }
    assert job.expires_at is not None
    expires = job.expires_at.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return Response(json.dumps(manifest), media_type="application/json", headers={"Expires": expires})


async def _cancel_export(request: Request, ports: Ports, actor: Principal) -> Response:
    await export.cancel_export(ports, actor, request.path_params["id"])
    return Response(status_code=202)


async def _export_file(request: Request, ports: Ports, actor: Principal) -> Response:
    chunks = await export.open_export_file(ports, actor, request.path_params["id"], request.path_params["file"])
    return StreamingResponse(chunks, media_type=NDJSON)


MAX_INTAKE_BODY = 2 * 1024 * 1024  # a transaction of 1,000 Observations of about a kilobyte each
IntakeHandler = Callable[[Request, Ports, Principal, AiService, Any], Awaitable[Response]]


def signed_by_service(ports_of: PortsOf, handler: IntakeHandler) -> Callable[[Request], Awaitable[Response]]:
    """Device gateways sign like every AI service webhook (carecore.incidents.ai_services): the same three
    X-Carecore-* headers over the raw body, a 5-minute replay window."""

    async def endpoint(request: Request) -> Response:
        if int(request.headers.get("content-length") or 0) > MAX_INTAKE_BODY:
            return outcome(413, f"A request is at most {MAX_INTAKE_BODY} bytes.")
        body = await request.body()
        if len(body) > MAX_INTAKE_BODY:
            return outcome(413, f"A request is at most {MAX_INTAKE_BODY} bytes.")
        ports, headers = ports_of(), request.headers
        try:
            actor, service = await authenticate_webhook(
                ports,
                headers.get("x-carecore-service", ""),
                headers.get("x-carecore-timestamp", ""),
                headers.get("x-carecore-signature", ""),
                body,
            )
            try:
                payload = json.loads(body)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ValidationFailed(f"The body is not JSON: {exc}.") from None
            return await handler(request, ports, actor, service, payload)
        except DomainError as exc:
            return refused(exc)

    return endpoint


def _entry_response(result: IngestResult) -> Json:
    o = result.observation
    assert o is not None, "a stored reading has its observation"
    created = result.outcome in (IngestOutcome.RECORDED, IngestOutcome.REJECTED)
    response: Json = {"status": "201 Created" if created else "200 OK", "location": f"Observation/{o.id}"}
    if o.rejection is not None:  # kept, never alerts: say why, as a warning
        issue = {"severity": "warning", "code": "business-rule", "diagnostics": o.rejection.detail}
        response["outcome"] = {"resourceType": "OperationOutcome", "issue": [issue]}
    return response


async def _create_observation(
    request: Request, ports: Ports, actor: Principal, service: AiService, payload: Any
) -> Response:
    [result] = await intake.ingest_fhir(ports, actor, service, [intake.parse_observation(payload, service)])
    assert result.observation is not None
    entry = _entry_response(result)
    status = 201 if entry["status"].startswith("201") else 200
    headers = {"Location": f"{_base(request)}/{entry['location']}"}
    return fhir_response(mapping.observation(result.observation), status, headers)


async def _transaction(request: Request, ports: Ports, actor: Principal, service: AiService, payload: Any) -> Response:
    results = await intake.ingest_fhir(ports, actor, service, intake.parse_transaction(payload, service))
    entries = [{"response": _entry_response(r)} for r in results]
    return fhir_response({"resourceType": "Bundle", "type": "transaction-response", "entry": entries})


async def _metadata(request: Request) -> Response:
    return fhir_response(capability.capability_statement(str(request.base_url).rstrip("/") + "/fhir/R4"))


def fhir_routes(ports_of: PortsOf) -> list[BaseRoute]:
    def route(path: str, handler: Handler, methods: tuple[str, ...] = ("GET",)) -> Route:
        return Route(f"/fhir/R4{path}", signed_in(ports_of, handler), methods=list(methods))

    return [
        Route("/fhir/R4/metadata", _metadata, methods=["GET"]),
        route("/Patient", _search_patients),
        route("/Patient/{id}", _read_patient),
        route("/Observation", _search_observations),
        route("/CarePlan", _search_care_plans),
        route("/Task", _search_tasks),
        Route("/fhir/R4", signed_by_service(ports_of, _transaction), methods=["POST"]),
        Route("/fhir/R4/Observation", signed_by_service(ports_of, _create_observation), methods=["POST"]),
        route("/Group/{agency}/$export", _kick_off),
        route("/bulk/{id}", _export_status),
        route("/bulk/{id}", _cancel_export, ("DELETE",)),
        route("/bulk/{id}/{file}.ndjson", _export_file),
    ]
