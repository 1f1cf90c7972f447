"""The CapabilityStatement of /fhir/R4: exactly what the server serves, and nothing it does not.

tests/app/test_fhir_api.py checks the statement served against this list, and each entry is exercised
by the HTTP tests of its interaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from carecore.fhir import codes
from carecore.fhir.mapping import Json

SOFTWARE_VERSION = "1"
GROUP_EXPORT = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"


@dataclass(frozen=True, slots=True)
class Served:
    type: str
    interactions: tuple[str, ...] = ()  # read, search-type, create
    search: tuple[tuple[str, str], ...] = ()  # (name, FHIR search parameter type)
    profile: str | None = None
    operations: tuple[tuple[str, str], ...] = ()  # (name, OperationDefinition canonical)


# Resources read or searched one by one; every type of carecore.fhir.resources.EXPORT_TYPES leaves
# through Group/{agency}/$export (the agency is the Group), for its own coordinators.
SERVED: tuple[Served, ...] = (
    Served("Patient", ("read", "search-type"), (("identifier", "token"),), codes.KR_CORE_PATIENT),
    # create: device gateways (signed AI service accounts), also as entries of a transaction Bundle.
    Served("Observation", ("search-type", "create"), (("patient", "reference"), ("code", "token"), ("date", "date"))),
    Served("CarePlan", ("search-type",), (("patient", "reference"), ("status", "token"))),
    Served("Task", ("search-type",), (("patient", "reference"), ("status", "token"))),
    Served("Group", operations=(("export", GROUP_EXPORT),)),
)


def capability_statement(base_url: str) -> Json:
    resources = []
    for s in SERVED:
        entry: Json = {"type": s.type, "interaction": [{"code": i} for i in s.interactions]}
        if s.profile:
            entry["profile"] = s.profile
        if s.search:
            entry["searchParam"] = [{"name": name, "type": kind} for name, kind in s.search]
        if s.operations:
            entry["operation"] = [{"name": name, "definition": url} for name, url in s.operations]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-02",
        "kind": "instance",
        "software": {"name": "carecore", "version": SOFTWARE_VERSION},
        "implementation": {"description": "carecore FHIR R4 face", "url": base_url},
        "fhirVersion": codes.FHIR_VERSION,
        "format": ["application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "service": [{"text": "Firebase ID token (Bearer), coordinators of the agency"}],
                    "description": (
                        "Coordinators read, search and export their own agency; other roles get 403. Device"
                        " gateways create Observations with the X-Carecore-* HMAC signature of AI services."
                    ),
                },
                "resource": resources,
                "interaction": [{"code": "transaction", "documentation": "Bundles of POST Observation only"}],
            }
        ],
    }
