"""The URLs and code systems of carecore's FHIR R4 (4.0.1) face: standard ones, and the local ones it defines.

Local systems, extensions and identifier namespaces live under one carecore base URL, so a receiver can
tell at a glance what is ours. Changing any of these breaks every receiver's mapping: treat them as API.
"""

from __future__ import annotations

from carecore.health.models import Metric

FHIR_VERSION = "4.0.1"
BASE = "https://carecore.kr/fhir"

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
URN_IETF_BCP47 = "urn:ietf:bcp:47"

KR_CORE_PATIENT = "http://www.hl7korea.or.kr/fhir/krcore/StructureDefinition/krcore-patient"
VITAL_SIGNS = "http://hl7.org/fhir/StructureDefinition/vitalsigns"
# The base vital-signs profiles of R4 per metric; HRV and the stress index have none.
METRIC_PROFILES: dict[Metric, str] = {
    Metric.BLOOD_PRESSURE: "http://hl7.org/fhir/StructureDefinition/bp",
    Metric.HEART_RATE: "http://hl7.org/fhir/StructureDefinition/heartrate",
    Metric.SPO2: "http://hl7.org/fhir/StructureDefinition/oxygensat",
    Metric.BODY_WEIGHT: "http://hl7.org/fhir/StructureDefinition/bodyweight",
    Metric.BODY_TEMPERATURE: "http://hl7.org/fhir/StructureDefinition/bodytemp",
}
METRIC_NAMES: dict[Metric, str] = {
    Metric.BLOOD_PRESSURE: "Blood pressure panel with all children optional",
    Metric.HEART_RATE: "Heart rate",
    Metric.SPO2: "Oxygen saturation in Arterial blood by Pulse oximetry",
    Metric.BODY_WEIGHT: "Body weight",
    Metric.BODY_TEMPERATURE: "Body temperature",
    Metric.HRV_SDNN: "R-R interval.standard deviation (Heart rate variability)",
    Metric.STRESS_INDEX: "Device stress index",
}
COMPONENT_NAMES = {"8480-6": "Systolic blood pressure", "8462-4": "Diastolic blood pressure"}

# Local code systems.
STRESS_INDEX_SYSTEM = f"{BASE}/CodeSystem/stress-index"  # comparable within one device only
INCIDENT_TYPE_SYSTEM = f"{BASE}/CodeSystem/incident-type"
INCIDENT_STATUS_SYSTEM = f"{BASE}/CodeSystem/incident-status"
LADDER_STEP_SYSTEM = f"{BASE}/CodeSystem/escalation-step"
TASK_CATEGORY_SYSTEM = f"{BASE}/CodeSystem/support-task-category"
STAFF_ROLE_SYSTEM = f"{BASE}/CodeSystem/staff-role"
ALERT_KIND_SYSTEM = f"{BASE}/CodeSystem/alert-kind"
DELIVERY_STATE_SYSTEM = f"{BASE}/CodeSystem/delivery-state"
PROTOCOL_SYSTEM = f"{BASE}/CodeSystem/protocol"
STANDING_WARNING_SYSTEM = f"{BASE}/CodeSystem/reachability-state"

# Extensions.
CRITICAL_TASK_EXTENSION = f"{BASE}/StructureDefinition/critical-task"  # valueBoolean on CarePlan.activity
CHECK_IN_EXTENSION = f"{BASE}/StructureDefinition/visit-check-in"  # complex: at, latitude, longitude, ...
CHECK_OUT_EXTENSION = f"{BASE}/StructureDefinition/visit-check-out"

# Identifier namespaces.
PERSON_ID_SYSTEM = f"{BASE}/sid/person"
USER_ID_SYSTEM = f"{BASE}/sid/user"
OBSERVATION_ID_SYSTEM = f"{BASE}/sid/observation"


def external_ref_system(agency_id: str, service: str) -> str:
    """The namespace of one AI service's references to people of one agency (KR Core Patient identifier)."""
    return f"{BASE}/sid/agency/{agency_id}/{service}"


def parse_external_ref_system(system: str) -> tuple[str, str] | None:
    """(agency id, service) of an external-reference namespace, or None when `system` is no such namespace."""
    prefix = f"{BASE}/sid/agency/"
    if not system.startswith(prefix):
        return None
    agency_id, _, service = system.removeprefix(prefix).partition("/")
    return (agency_id, service) if agency_id and service and "/" not in service else None


def observation_code(metric: Metric) -> dict[str, object]:
    system = STRESS_INDEX_SYSTEM if metric is Metric.STRESS_INDEX else LOINC
    return {"coding": [{"system": system, "code": metric.value, "display": METRIC_NAMES[metric]}]}


def metric_of(system: str, code: str) -> Metric | None:
    """The metric a coding names, or None when carecore does not take readings of it."""
    try:
        metric = Metric(code)
    except ValueError:
        return None
    expected = STRESS_INDEX_SYSTEM if metric is Metric.STRESS_INDEX else LOINC
    return metric if system == expected else None
