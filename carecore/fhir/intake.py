"""Vital-sign Observations from device gateways (AI service accounts), into the health-check core.

A FHIR Observation becomes the same `Reading` the /ingest/observations door builds, and goes through
the same `ingest_observations`: the quality gate, idempotency by source, detection. What FHIR adds:
- the person is `subject.identifier`, the reference the agency gave the service, in the namespace
  `codes.external_ref_system(agency, service)` (the KR Core Patient identifier the export shows);
- `Observation.identifier` is the device's own id of the reading: a resend is the same reading;
- all or nothing: every resource of a request is understood, and names a person, before any is stored
  (a transaction Bundle is one unit; an OperationOutcome says which entry is wrong and why).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from carecore.access.principal import Principal
from carecore.errors import ValidationFailed
from carecore.fhir import codes
from carecore.health.models import SYSTOLIC, Component, IngestResult, Metric, Modality, Reading
from carecore.health.rules import checked_reading
from carecore.health.service import MAX_BATCH, ingest_observations
from carecore.incidents.models import AiService
from carecore.people.models import ExternalRef
from carecore.ports import Ports

ACCEPTED_STATUSES = ("final", "amended", "corrected")


class InvalidResource(ValidationFailed):
    """A resource carecore cannot take, with the FHIRPath-like location of the problem."""

    def __init__(self, message: str, where: str) -> None:
        super().__init__(message, field=where)


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidResource("must be a JSON object.", where)
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidResource("must be a non-empty string.", where)
    return value


def _number(quantity: object, unit: str, where: str) -> float:
    q = _object(quantity, where)
    value = q.get("value")
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidResource("value must be a number.", f"{where}.value")
    if q.get("system") != codes.UCUM or q.get("code") != unit:
        raise InvalidResource(f"must be in UCUM `{unit}` (system {codes.UCUM}).", where)
    return float(value)


def _metric(code: object, where: str) -> Metric:
    for i, coding in enumerate(_object(code, where).get("coding") or []):
        c = _object(coding, f"{where}.coding[{i}]")
        if isinstance(c.get("system"), str) and isinstance(c.get("code"), str):
            metric = codes.metric_of(c["system"], c["code"])
            if metric is not None:
                return metric
    raise InvalidResource("names no vital sign carecore takes (LOINC, or the stress-index system).", where)


def _components(resource: dict[str, Any], metric: Metric, unit: str) -> tuple[Component, ...]:
    if metric is not Metric.BLOOD_PRESSURE:
        if "component" in resource:
            raise InvalidResource("only blood pressure has components.", "Observation.component")
        return (Component(metric.value, _number(resource.get("valueQuantity"), unit, "Observation.valueQuantity")),)
    if "valueQuantity" in resource:
        raise InvalidResource("blood pressure carries its values in components.", "Observation.valueQuantity")
    found = []
    for i, raw in enumerate(resource.get("component") or []):
        where = f"Observation.component[{i}]"
        item = _object(raw, where)
        codings = _object(item.get("code"), f"{where}.code").get("coding") or []
        loinc = [c.get("code") for c in codings if isinstance(c, dict) and c.get("system") == codes.LOINC]
        code = next((c for c in loinc if c in (SYSTOLIC, "8462-4")), None)
        if code is None:
            raise InvalidResource("must be LOINC 8480-6 (systolic) or 8462-4 (diastolic).", f"{where}.code")
        found.append(Component(code, _number(item.get("valueQuantity"), unit, f"{where}.valueQuantity")))
    return tuple(found)


def _subject(resource: dict[str, Any], service: AiService) -> str:
    subject = _object(resource.get("subject"), "Observation.subject")
    identifier = _object(subject.get("identifier"), "Observation.subject.identifier")
    system = identifier.get("system")
    if system is not None and system != codes.external_ref_system(service.agency_id, service.service):
        raise InvalidResource("names a reference of another service or agency.", "Observation.subject.identifier")
    return _text(identifier.get("value"), "Observation.subject.identifier.value")


def _source_id(resource: dict[str, Any]) -> str | None:
    identifiers = resource.get("identifier")
    if identifiers is None:
        return None
    if not isinstance(identifiers, list) or not identifiers:
        raise InvalidResource("must be a list of identifiers.", "Observation.identifier")
    first = _object(identifiers[0], "Observation.identifier[0]")
    value = _text(first.get("value"), "Observation.identifier[0].value")
    system = first.get("system")
    return f"{system}|{value}" if isinstance(system, str) and system else value


def _device(resource: dict[str, Any], service: AiService) -> str:
    device = resource.get("device")
    if device is None:
        return service.service  # the gateway itself: no finer source than the service
    d = _object(device, "Observation.device")
    identifier = d.get("identifier")
    if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
        return _text(identifier["value"], "Observation.device.identifier.value")
    return _text(d.get("display"), "Observation.device.display")


def parse_observation(raw: object, service: AiService) -> tuple[str, Reading]:
    """A FHIR R4 vital-sign Observation as (person reference, reading); InvalidResource says what is wrong."""
    resource = _object(raw, "Observation")
    if resource.get("resourceType") != "Observation":
        raise InvalidResource("must be an Observation.", "resourceType")
    if resource.get("status") not in ACCEPTED_STATUSES:
        raise InvalidResource(f"must be one of {', '.join(ACCEPTED_STATUSES)}.", "Observation.status")
    metric = _metric(resource.get("code"), "Observation.code")
    unit = _unit(resource, metric)
    effective = _text(resource.get("effectiveDateTime"), "Observation.effectiveDateTime")
    try:
        at = datetime.fromisoformat(effective)
    except ValueError:
        raise InvalidResource("must be a dateTime with its time zone.", "Observation.effectiveDateTime") from None
    if at.tzinfo is None:
        raise InvalidResource("must carry its time zone.", "Observation.effectiveDateTime")
    reading = Reading(
        person_id="",  # the health core resolves the reference within the service's agency
        metric=metric,
        components=_components(resource, metric, unit),
        unit=unit,
        effective_at=at,
        modality=Modality.SENSED,
        device_id=_device(resource, service),
        source_data_point_id=_source_id(resource),
    )
    return _subject(resource, service), reading


def _unit(resource: dict[str, Any], metric: Metric) -> str:
    """The unit the reading claims: the quality gate, not the parser, refuses a wrong one (kept, never alerts)."""
    quantity = resource.get("valueQuantity")
    if metric is Metric.BLOOD_PRESSURE:
        components = resource.get("component") or [{}]
        quantity = components[0].get("valueQuantity") if isinstance(components[0], dict) else None
    code = quantity.get("code") if isinstance(quantity, dict) else None
    if not isinstance(code, str) or not code:
        raise InvalidResource("needs a valueQuantity with a UCUM code.", "Observation.valueQuantity")
    return code


def parse_transaction(raw: object, service: AiService) -> list[tuple[str, Reading]]:
    """A transaction Bundle of Observations, POSTed to `Observation`; all entries or none."""
    bundle = _object(raw, "Bundle")
    if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "transaction":
        raise InvalidResource("must be a Bundle of type transaction.", "Bundle.type")
    entries = bundle.get("entry")
    if not isinstance(entries, list) or not entries:
        raise InvalidResource("must hold at least one entry.", "Bundle.entry")
    if len(entries) > MAX_BATCH:
        raise InvalidResource(f"at most {MAX_BATCH} entries a transaction.", "Bundle.entry")
    parsed = []
    for i, raw_entry in enumerate(entries):
        entry = _object(raw_entry, f"Bundle.entry[{i}]")
        request = _object(entry.get("request"), f"Bundle.entry[{i}].request")
        if request.get("method") != "POST" or request.get("url") != "Observation":
            raise InvalidResource("only `POST Observation` is served.", f"Bundle.entry[{i}].request")
        try:
            parsed.append(parse_observation(entry.get("resource"), service))
        except InvalidResource as exc:
            raise InvalidResource(exc.message, f"Bundle.entry[{i}].resource: {exc.field}") from None
    return parsed


async def ingest_fhir(
    ports: Ports, actor: Principal, service: AiService, readings: Sequence[tuple[str, Reading]]
) -> list[IngestResult]:
    """Stores the readings through the health core once every one is understood and names a person."""
    for i, (ref, reading) in enumerate(readings):
        person = await ports.store.people.by_external_ref(service.agency_id, ExternalRef(service.service, ref))
        if person is None:
            raise InvalidResource(f"No person has the reference {ref!r}.", f"entry[{i}].subject.identifier")
        try:
            checked_reading(dataclasses.replace(reading, person_id=person.id))
        except ValidationFailed as exc:
            raise InvalidResource(exc.message, f"entry[{i}]: {exc.field}") from None
    return await ingest_observations(ports, actor, service, list(readings))
