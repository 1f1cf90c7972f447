"""A coordinator plans care; a guardian reads and acknowledges it; nobody else can see it."""

from __future__ import annotations

from typing import Any

from carecore.access.principal import Role
from carecore.agencies.models import Agency
from carecore.ids import new_id
from carecore.storage.store import Store
from devtools.auth_emulator import sign_in
from tests.app.conftest import Gql, MakeAccount, sign_up

CREATE_PERSON = """
mutation ($input: CreatePersonInput!) {
  createPerson(input: $input) {
    __typename
    ... on PersonPayload { person { id name revision } }
    ... on UserError { message field }
  }
}"""

CREATE_USER = """
mutation ($input: CreateUserInput!) {
  createUser(input: $input) {
    __typename
    ... on UserPayload { user { id role } }
    ... on UserError { message field }
  }
}"""

LINK_GUARDIAN = """
mutation ($input: LinkGuardianInput!) {
  linkGuardian(input: $input) { __typename ... on UserError { message } }
}"""

CREATE_DRAFT = """
mutation ($input: CreateCarePlanDraftInput!) {
  createCarePlanDraft(input: $input) {
    __typename
    ... on CarePlanPayload { carePlan { id revision status version } }
    ... on UserError { message field }
  }
}"""

APPROVE = """
mutation ($input: CarePlanRevisionInput!) {
  approveCarePlan(input: $input) {
    __typename
    ... on CarePlanPayload { carePlan { id status } }
    ... on UserError { message }
  }
}"""

PERSON_PLAN = """
query ($id: ID!) {
  person(id: $id) {
    name
    activeCarePlan { id version status tasks { title critical schedule { timesOfDay } } }
  }
}"""

ACKNOWLEDGE = """
mutation ($id: ID!) {
  acknowledgeCarePlan(input: {planId: $id}) {
    __typename
    ... on CarePlanPayload { carePlan { acknowledgements { userId } } }
    ... on UserError { message }
  }
}"""

PLAN = {
    "summary": "발작 관리와 자립 식사",
    "goals": [{"description": "스스로 숟가락 사용", "measure": "주 5회", "targetDate": "2027-05-01"}],
    "tasks": [
        {
            "category": "MEDICATION",
            "title": "항경련제",
            "instructions": "식후 30분, 물 한 컵",
            "schedule": {"timesOfDay": ["08:00:00", "20:00:00"]},
            "critical": True,
        }
    ],
    "riskProtocols": [{"incidentType": "SEIZURE", "instructions": "5분 이상 지속 시 119"}],
}


def payload(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][field]
    return result


async def test_a_plan_travels_from_coordinator_to_guardian_and_no_further(
    gql: Gql, make_account: MakeAccount, store: Store, auth_host: str
) -> None:
    agency = Agency(id=new_id(), name="경기 함께돌봄 센터")
    await store.agencies.upsert(agency)
    _, coordinator = await make_account(Role.COORDINATOR, agency.id, "김지현")
    _, outsider_caregiver = await make_account(Role.CAREGIVER, agency.id, "이도윤")
    _, other_guardian = await make_account(Role.FAMILY, agency.id, "정수진")

    # The guardian signs up in the app; the coordinator then gives the account its profile and claims.
    uid, email, password = sign_up(auth_host, name="최영희")
    created = payload(
        await gql(
            CREATE_USER, {"input": {"firebaseUid": uid, "displayName": "최영희", "role": "FAMILY"}}, token=coordinator
        ),
        "createUser",
    )
    assert created["__typename"] == "UserPayload", created
    guardian = sign_in(auth_host, email=email, password=password)  # a fresh token carries the new claims

    person = payload(
        await gql(
            CREATE_PERSON, {"input": {"person": {"name": "최민지", "supportLevel": "INTENSIVE"}}}, token=coordinator
        ),
        "createPerson",
    )["person"]
    linked = payload(
        await gql(
            LINK_GUARDIAN,
            {
                "input": {
                    "personId": person["id"],
                    "userId": created["user"]["id"],
                    "relationship": "어머니",
                    "permissions": ["PLAN", "ALERTS"],
                }
            },
            token=coordinator,
        ),
        "linkGuardian",
    )
    assert linked["__typename"] == "PersonPayload", linked
    draft = payload(
        await gql(CREATE_DRAFT, {"input": {"personId": person["id"], "content": PLAN}}, token=coordinator),
        "createCarePlanDraft",
    )["carePlan"]
    assert draft["status"] == "DRAFT"
    approved = payload(
        await gql(
            APPROVE, {"input": {"planId": draft["id"], "expectedRevision": draft["revision"]}}, token=coordinator
        ),
        "approveCarePlan",
    )
    assert approved["carePlan"]["status"] == "ACTIVE"

    seen = payload(await gql(PERSON_PLAN, {"id": person["id"]}, token=guardian), "person")
    assert seen["activeCarePlan"]["id"] == draft["id"]
    assert seen["activeCarePlan"]["tasks"][0] == {
        "title": "항경련제",
        "critical": True,
        "schedule": {"timesOfDay": ["08:00:00", "20:00:00"]},
    }
    acknowledged = payload(await gql(ACKNOWLEDGE, {"id": draft["id"]}, token=guardian), "acknowledgeCarePlan")
    assert acknowledged["carePlan"]["acknowledgements"] == [{"userId": created["user"]["id"]}]

    for outsider in (other_guardian, outsider_caregiver):
        assert payload(await gql(PERSON_PLAN, {"id": person["id"]}, token=outsider), "person") is None
    refused = payload(await gql(ACKNOWLEDGE, {"id": draft["id"]}, token=other_guardian), "acknowledgeCarePlan")
    assert refused["__typename"] == "NotFoundError"
    plan = await store.care_plans.get(draft["id"])
    assert plan is not None and [a.user_id for a in plan.acknowledgements] == [created["user"]["id"]]
