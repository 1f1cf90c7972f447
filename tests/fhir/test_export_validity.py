"""Every exported resource of the demo agency passes two independent FHIR parsers and the FHIRPath
invariants carecore relies on; the export matches the committed golden files."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhirclient.models.fhirelementfactory import FHIRElementFactory  # type: ignore[import-untyped]
from fhirpathpy import evaluate

from carecore.fhir.resources import EXPORT_TYPES
from carecore.ports import Ports
from carecore.users.service import principal_for
from fixtures.demo_people import user_id
from tests.fhir.conftest import Exported, parsed
from tests.fhir.golden import export_files, golden_files
from tests.fhir.scene import ACCUSED_UID


def test_the_export_matches_the_committed_golden_files(export_bytes: dict[str, bytes]) -> None:
    assert export_bytes == golden_files(), (
        "tests/fhir/golden/ is out of date: run `.venv/bin/python -m tests.fhir.golden` and review the diff"
    )


def test_every_type_of_the_mapping_is_in_the_demo_export(export_bytes: dict[str, bytes]) -> None:
    assert [t for t in EXPORT_TYPES if not export_bytes[t]] == []


def test_every_resource_parses_with_fhirclient_strictly_and_round_trips(export_bytes: dict[str, bytes]) -> None:
    for resource_type, resources in parsed(export_bytes).items():
        for r in resources:
            model = FHIRElementFactory.instantiate(resource_type, r)  # strict: raises on any unknown or bad field
            assert model.as_json()["id"] == r["id"], resource_type


def test_every_resource_parses_with_fhir_resources_r4b(export_bytes: dict[str, bytes]) -> None:
    for resource_type, resources in parsed(export_bytes).items():
        model = get_fhir_model_class(resource_type)
        for r in resources:
            assert model.model_validate(r).model_dump()["id"] == r["id"], resource_type


def _all(exported: Exported) -> list[dict[str, Any]]:
    return [r for resources in exported.values() for r in resources]


def test_kr_core_patients_carry_an_identifier_and_the_agencys_external_reference(
    export_bytes: dict[str, bytes],
) -> None:
    for patient in parsed(export_bytes)["Patient"]:
        assert evaluate(patient, "identifier.exists() and identifier.all(system.exists() and value.exists())") == [True]
        refs = evaluate(patient, "identifier.where(system.contains('/sid/agency/')).value")
        assert refs and all(r.startswith("WC-") for r in refs), patient["id"]
        assert evaluate(patient, "meta.profile.contains('krcore-patient')") == [True]


BP_INVARIANTS = (
    "code.coding.where(system='http://loinc.org' and code='85354-9').exists()",
    "component.count() = 2",
    "component.where(code.coding.where(system='http://loinc.org' and code='8480-6').exists()).exists()",
    "component.where(code.coding.where(system='http://loinc.org' and code='8462-4').exists()).exists()",
    "component.all(valueQuantity.system='http://unitsofmeasure.org' and valueQuantity.code='mm[Hg]')",
    "value.exists().not()",
    "category.coding.where(code='vital-signs').exists()",
)


def test_blood_pressure_is_the_loinc_panel_with_both_components_in_mm_hg(export_bytes: dict[str, bytes]) -> None:
    observations = parsed(export_bytes)["Observation"]
    bp = [o for o in observations if evaluate(o, "code.coding.code")[0] == "85354-9"]
    assert bp
    for o in bp:
        for invariant in BP_INVARIANTS:
            assert evaluate(o, invariant) == [True], invariant


def test_the_stress_index_uses_the_local_code_system_and_others_ucum(export_bytes: dict[str, bytes]) -> None:
    observations = parsed(export_bytes)["Observation"]
    [stress] = [o for o in observations if evaluate(o, "code.coding.code")[0] == "carecore-stress-index"]
    assert evaluate(stress, "code.coding.system") == ["https://carecore.kr/fhir/CodeSystem/stress-index"]
    for o in observations:
        assert evaluate(o, "(valueQuantity | component.valueQuantity).all(system='http://unitsofmeasure.org')") == [
            True
        ]


def test_every_reference_resolves_inside_the_export(export_bytes: dict[str, bytes]) -> None:
    exported = parsed(export_bytes)
    present = {f"{r['resourceType']}/{r['id']}" for r in _all(exported)}
    for r in _all(exported):
        for reference in evaluate(r, "descendants().reference"):
            assert reference in present, f"{r['resourceType']}/{r['id']} refers to {reference}"


@pytest.mark.parametrize("uid", ["demo-coordinator-1", ACCUSED_UID])
async def test_an_abuse_report_reaches_coordinators_but_never_the_coordinator_it_names(
    scene_ports: Ports, uid: str
) -> None:
    user = await scene_ports.store.users.get(user_id(uid))
    assert user is not None
    exported = parsed(await export_files(scene_ports, await principal_for(scene_ports, user)))
    abuse = [t for t in exported["Task"] if t["description"].startswith("팔에 멍")]
    about = {a["reference"] for c in exported["Communication"] for a in c.get("about", [])}
    if uid == ACCUSED_UID:
        assert abuse == []
        # Nor any notification about it: every Communication is about a Task this coordinator received.
        assert about and all(ref in {f"Task/{t['id']}" for t in exported["Task"]} for ref in about)
    else:
        assert len(abuse) == 1
