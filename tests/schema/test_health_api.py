"""Health through GraphQL: a caregiver records readings during a visit; who may read them, audited."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from carecore.ports import Ports
from tests.conftest import World
from tests.schema.conftest import Execute
from tests.support import FakeClock

RECORD = """mutation ($input: RecordObservationInput!) {
  recordObservation(input: $input) {
    __typename
    ... on RecordObservationPayload { outcome observation { id status findings { family severity confirmed } } }
    ... on UserError { message field }
  }
}"""
READ = """query ($id: ID!, $after: String) {
  observations(personId: $id, first: 2, after: $after) {
    edges { node { effectiveAt values { code value } status } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def bp(world: World, at: str, systolic: float, diastolic: float, **extra: Any) -> dict[str, Any]:
    values = [{"code": "8480-6", "value": systolic}, {"code": "8462-4", "value": diastolic}]
    return {
        "input": {
            "personId": world.minji.id,
            "metric": "BLOOD_PRESSURE",
            "values": values,
            "unit": "mm[Hg]",
            "effectiveAt": at,
            **extra,
        }
    }


async def test_a_caregiver_records_a_crisis_and_is_asked_to_repeat_it(execute: Execute, world: World) -> None:
    result = await execute(RECORD, bp(world, "2026-11-25T00:00:00Z", 186, 104), as_user=world.caregiver_on_team)

    payload = result.data["recordObservation"]
    assert payload["outcome"] == "RECORDED" and payload["observation"]["status"] == "ACCEPTED"
    assert payload["observation"]["findings"] == [{"family": "BP_CRISIS", "severity": "HIGH", "confirmed": False}]


async def test_a_reading_that_cannot_be_understood_is_a_validation_error(execute: Execute, world: World) -> None:
    variables = bp(world, "2026-11-25T00:00:00Z", 186, 104)
    variables["input"]["values"] = [{"code": "8480-6", "value": 186}]

    result = await execute(RECORD, variables, as_user=world.coordinator)

    assert result.data["recordObservation"] == {
        "__typename": "ValidationError",
        "message": "A BLOOD_PRESSURE reading carries exactly 8480-6, 8462-4.",
        "field": "values",
    }


async def test_readings_newest_first_for_a_guardian_with_health_and_not_found_without(
    execute: Execute, world: World, ports: Ports, clock: FakeClock
) -> None:
    for minutes, systolic in ((0, 121), (30, 122), (60, 123)):
        at = (clock.now() + timedelta(minutes=minutes)).isoformat()
        await execute(RECORD, bp(world, at, systolic, 80), as_user=world.caregiver_on_team)
    clock.advance(timedelta(hours=2))

    first = (await execute(READ, {"id": world.minji.id}, as_user=world.guardian)).data["observations"]
    after = first["pageInfo"]["endCursor"]
    rest = (await execute(READ, {"id": world.minji.id, "after": after}, as_user=world.guardian)).data["observations"]
    without = await execute(READ, {"id": world.minji.id}, as_user=world.guardian_visits_only)

    newest_first = [e["node"]["values"][0]["value"] for e in first["edges"] + rest["edges"]]
    assert newest_first == [123, 122, 121] and first["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"]
    assert without.data["observations"]["edges"] == []
    reads = await ports.store.db["audit"].find({"action": "observations.read"}).to_list()
    assert [(r["actor_id"], r["object_id"]) for r in reads] == [(world.guardian.id, world.minji.id)] * 2


async def test_the_co2_retainer_flag_shows_only_to_those_who_may_see_health(
    execute: Execute, world: World, ports: Ports, clock: FakeClock
) -> None:
    profile = replace(world.minji.profile, co2_retainer=True)
    await ports.store.people.update_profile(
        world.minji, profile, expected_revision=world.minji.revision, now=clock.now()
    )
    query = "query ($id: ID!) { person(id: $id) { co2Retainer } }"

    seen = {
        name: (await execute(query, {"id": world.minji.id}, as_user=u)).data["person"]
        for name, u in (
            ("coordinator", world.coordinator),
            ("guardian", world.guardian),
            ("guardian_visits_only", world.guardian_visits_only),
        )
    }

    assert seen == {
        "coordinator": {"co2Retainer": True},
        "guardian": {"co2Retainer": True},
        "guardian_visits_only": {"co2Retainer": None},
    }


THRESHOLDS = """query ($id: ID!) {
  healthThresholds(personId: $id) {
    agencyDefaults { crisisSystolic lowSpo2 }
    personal { crisisSystolic lowSpo2 reason setById }
    effective { crisisSystolic lowSpo2 }
    revision
  }
}"""
SET_THRESHOLDS = """mutation ($input: SetHealthThresholdsInput!) {
  setHealthThresholds(input: $input) {
    __typename
    ... on SetHealthThresholdsPayload { thresholds { revision effective { crisisSystolic } } }
    ... on VersionConflictError { currentRevision }
    ... on UserError { message field }
  }
}"""


async def test_a_coordinator_sets_a_persons_thresholds_beside_the_agency_defaults_of_the_policy(
    execute: Execute, world: World
) -> None:
    variables = {
        "input": {
            "personId": world.minji.id,
            "thresholds": {"crisisSystolic": 190},
            "reason": "Her cardiologist's target",
            "expectedRevision": 0,
        }
    }
    first = await execute(SET_THRESHOLDS, variables, as_user=world.coordinator)
    stale = await execute(SET_THRESHOLDS, variables, as_user=world.coordinator)
    seen = await execute(THRESHOLDS, {"id": world.minji.id}, as_user=world.caregiver_on_team)
    policy = await execute("{ incidentPolicy { healthThresholds { crisisSystolic } } }", as_user=world.coordinator)

    assert first.data["setHealthThresholds"]["thresholds"] == {"revision": 1, "effective": {"crisisSystolic": 190}}
    assert stale.data["setHealthThresholds"]["__typename"] == "VersionConflictError"
    assert seen.data["healthThresholds"] == {
        "agencyDefaults": {"crisisSystolic": 180, "lowSpo2": 91},
        "personal": {
            "crisisSystolic": 190,
            "lowSpo2": None,
            "reason": "Her cardiologist's target",
            "setById": world.coordinator.id,
        },
        "effective": {"crisisSystolic": 190, "lowSpo2": 91},
        "revision": 1,
    }
    assert policy.data["incidentPolicy"]["healthThresholds"] == {"crisisSystolic": 180}


async def test_resolving_a_health_incident_without_saying_whether_it_was_actionable_is_a_typed_error(
    execute: Execute, world: World, ports: Ports
) -> None:
    await execute(RECORD, bp(world, "2026-11-25T00:00:00Z", 186, 104), as_user=world.caregiver_on_team)
    [incident] = await ports.store.db["incidents"].find().to_list()
    resolve = """mutation ($input: ResolveIncidentInput!) {
      resolveIncident(input: $input) {
        __typename ... on IncidentPayload { incident { actionable } } ... on UserError { field }
      }
    }"""
    stats = "{ healthRuleStats { personWeeks rules { rule alerts dispositioned actionable ppv alertsPerPersonWeek } } }"

    missing = await execute(
        resolve, {"input": {"id": incident["_id"], "outcome": "재측정 정상"}}, as_user=world.coordinator
    )
    given = await execute(
        resolve,
        {"input": {"id": incident["_id"], "outcome": "재측정 정상", "actionable": True}},
        as_user=world.coordinator,
    )
    seen = await execute(stats, as_user=world.coordinator)

    assert missing.data["resolveIncident"] == {"__typename": "DispositionRequiredError", "field": "actionable"}
    assert given.data["resolveIncident"] == {"__typename": "IncidentPayload", "incident": {"actionable": True}}
    assert seen.data["healthRuleStats"] == {
        "personWeeks": 1,
        "rules": [
            {
                "rule": "bp_crisis",
                "alerts": 1,
                "dispositioned": 1,
                "actionable": 1,
                "ppv": 1.0,
                "alertsPerPersonWeek": 1.0,
            }
        ],
    }


async def test_a_repeat_request_answered_by_a_normal_repeat_shows_closed_and_apart_in_the_rule_stats(
    execute: Execute, world: World, ports: Ports
) -> None:
    await execute(RECORD, bp(world, "2026-11-25T00:00:00Z", 186, 104), as_user=world.caregiver_on_team)
    await execute(RECORD, bp(world, "2026-11-25T00:04:00Z", 138, 86), as_user=world.caregiver_on_team)
    [incident] = await ports.store.db["incidents"].find().to_list()
    read = "query ($id: ID!) { incident(id: $id) { status outcome actionable } }"
    stats = "{ healthRuleStats { rules { rule alerts dispositioned repeatsAnswered } } }"

    seen = await execute(read, {"id": incident["_id"]}, as_user=world.caregiver_on_team)
    counted = await execute(stats, as_user=world.coordinator)

    assert seen.data["incident"] == {
        "status": "RESOLVED",
        "outcome": "Not confirmed by the repeat at 09:04: 138/86 mm[Hg]",  # the agency's time, Seoul
        "actionable": False,
    }
    assert counted.data["healthRuleStats"]["rules"] == [
        {"rule": "bp_crisis", "alerts": 0, "dispositioned": 0, "repeatsAnswered": 1}
    ]


async def test_the_family_view_shows_baseline_and_trend_with_health_and_nothing_without(
    execute: Execute, world: World, clock: FakeClock
) -> None:
    for hours in range(0, 24 * 8, 12):
        at = (clock.now() - timedelta(hours=hours)).isoformat()
        await execute(RECORD, bp(world, at, 128 + hours % 3, 80), as_user=world.caregiver_on_team)
    summary = """query ($id: ID!) {
      healthSummary(personId: $id) {
        metric unit latest { values { value } }
        series { code readings days median mad baselineActive cusum trendFlagged weekChange }
      }
    }"""

    seen = await execute(summary, {"id": world.minji.id}, as_user=world.guardian)
    without = await execute(summary, {"id": world.minji.id}, as_user=world.guardian_visits_only)

    [bp_summary] = seen.data["healthSummary"]
    systolic = bp_summary["series"][0]
    assert (bp_summary["metric"], bp_summary["unit"]) == ("BLOOD_PRESSURE", "mm[Hg]")
    assert systolic["code"] == "8480-6" and systolic["baselineActive"] is True and systolic["days"] == 8
    assert systolic["trendFlagged"] is False and systolic["median"] is not None
    assert without.data["healthSummary"] == []
