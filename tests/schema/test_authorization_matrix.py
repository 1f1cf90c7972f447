"""Every query and mutation, for every role, in and out of scope, and for every role of a second agency.

Outcomes: OK; NF (answers exactly like a missing object: null, an empty list or NotFoundError);
FORBIDDEN and UNAUTHENTICATED (GraphQL errors with that extensions.code). Refusals write nothing.

Agency B's users (its coordinator, caregiver, family member and AI service, the last configured with
the same service name as agency A's, so a reference lookup that forgot the agency would find minji)
act on agency A's objects. Their outcome derives from the operation's own row, so a new operation
needs no agency-B cases written by hand: FORBIDDEN where their role may never do it, the same answer
as their agency-A counterpart where the operation concerns only the caller's own agency (agency B's
coordinator succeeds at it, e.g. listing users or registering a device), otherwise not found.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from carecore.access.principal import Role
from carecore.alerts.models import AlertKind, AlertRequest, Audience
from carecore.alerts.router import route_request
from carecore.care_plans.models import CarePlan, CarePlanStatus
from carecore.ids import new_id
from carecore.incidents.models import AiService, Severity
from carecore.ports import Ports
from carecore.storage.store import Store
from carecore.users.models import User
from tests.conftest import World
from tests.notifications.support import put_device
from tests.schema.conftest import Execute
from tests.schema.health_scene import health_scene
from tests.schema.incident_scene import MINJI_REF, SERVICE, IncidentScene, incident_scene
from tests.schema.reachability_scene import reachability_scene
from tests.schema.shift_scene import Part, ShiftScene, shift_scene
from tests.support import FakeClock, RecordingClaims, RefusingTokens, plan_content, user

ROLES = (
    "coordinator",
    "caregiver_on_team",
    "caregiver_off_team",
    "guardian",
    "guardian_visits_only",
    "other_guardian",
    "ai_service",
    "other_agency_coordinator",
    "anonymous",
)
OK, NF, FORBIDDEN, UNAUTH = "OK", "NF", "FORBIDDEN", "UNAUTHENTICATED"
# Agency B's other roles, each with the agency-A role that is as far out of minji's scope.
AGENCY_B = {
    "other_agency_caregiver": "caregiver_off_team",
    "other_agency_guardian": "other_guardian",
    "other_agency_ai_service": "ai_service",
}
EVERY_ROLE = (*ROLES, *AGENCY_B)


@dataclass
class Scene:
    world: World
    draft: CarePlan
    incidents: IncidentScene
    notification_id: str = ""  # the guardian's, about minji
    shifts: ShiftScene | None = None
    agency_b: dict[str, User] = field(default_factory=dict)

    def caller(self, role: str) -> User | None:
        return None if role == "anonymous" else {**self.world.everyone(), **self.agency_b}[role]

    @property
    def active_plan_id(self) -> str:
        return self.world.minji.active_care_plan_id or ""

    @property
    def s(self) -> ShiftScene:
        assert self.shifts is not None, "the operation must name the shifts it needs"
        return self.shifts


@dataclass(frozen=True)
class Op:
    name: str
    document: str
    variables: Callable[[Scene], dict[str, Any]]
    expect: dict[str, str]
    default: str = NF
    mutation: bool = False
    # For list queries: which person names each role sees (NF means an empty list).
    sees: dict[str, set[str]] = field(default_factory=dict)
    shifts: tuple[Part, ...] = ()  # the shifts the operation needs (tests/schema/shift_scene.py)

    def outcome(self, role: str) -> str:
        if role == "anonymous":
            return UNAUTH
        if role in self.expect:
            return self.expect[role]
        if (counterpart := AGENCY_B.get(role)) is not None:
            theirs = self.outcome(counterpart)
            own_agency = self.outcome("other_agency_coordinator") == OK
            return theirs if theirs == FORBIDDEN or own_agency else NF
        return self.default


COORDINATOR_ONLY = {"coordinator": OK, "other_agency_coordinator": NF}
PUSH_USERS = {"ai_service": FORBIDDEN}  # everyone else manages their own devices and preferences
GUARDIANS_OWN = {"guardian": OK, "ai_service": NF}
ROLE_FORBIDDEN = dict.fromkeys(
    ("caregiver_on_team", "caregiver_off_team", "guardian", "guardian_visits_only", "other_guardian", "ai_service"),
    FORBIDDEN,
)
SEES_MINJI = {"coordinator": OK, "caregiver_on_team": OK, "guardian": OK, "guardian_visits_only": OK}
SEES_PLAN = {"coordinator": OK, "caregiver_on_team": OK, "guardian": OK}
SEES_INCIDENTS = {"coordinator": OK, "caregiver_on_team": OK, "guardian": OK}
STAFF_IN_SCOPE = {
    "coordinator": OK,
    "caregiver_on_team": OK,
    "guardian": FORBIDDEN,
    "guardian_visits_only": FORBIDDEN,
    "other_guardian": FORBIDDEN,
    "ai_service": FORBIDDEN,
}

PLAN_INPUT = {"summary": "새 계획", "tasks": [{"category": "MEAL", "title": "점심", "schedule": {"everyHours": 6}}]}


def mutation(name: str, input_type: str) -> str:
    return f"""mutation ($input: {input_type}!) {{
      {name}(input: $input) {{ __typename ... on UserError {{ message field }} }}
    }}"""


OPS = [
    Op("me", "{ me { id } }", lambda s: {}, {}, default=OK),
    Op("person", "query ($id: ID!) { person(id: $id) { id } }", lambda s: {"id": s.world.minji.id}, SEES_MINJI),
    Op(
        "people",
        "{ people(first: 50) { edges { node { name } } } }",
        lambda s: {},
        {},
        default=OK,
        sees={
            "coordinator": {"최민지", "정지호"},
            "caregiver_on_team": {"최민지"},
            "guardian": {"최민지"},
            "guardian_visits_only": {"최민지"},
            "other_guardian": {"정지호"},
        },
    ),
    Op(
        "person.activeCarePlan",
        "query ($id: ID!) { person(id: $id) { activeCarePlan { id } } }",
        lambda s: {"id": s.world.minji.id},
        SEES_PLAN,
    ),
    Op(
        "carePlan(active)",
        "query ($id: ID!) { carePlan(id: $id) { id } }",
        lambda s: {"id": s.active_plan_id},
        SEES_PLAN,
    ),
    Op(
        "carePlan(draft)",
        "query ($id: ID!) { carePlan(id: $id) { id } }",
        lambda s: {"id": s.draft.id},
        {"coordinator": OK},
    ),
    Op(
        "person.carePlanVersions",
        "query ($id: ID!) { person(id: $id) { carePlanVersions { edges { node { id } } } } }",
        lambda s: {"id": s.world.minji.id},
        SEES_PLAN,
    ),
    Op(
        "user",
        "query ($id: ID!) { user(id: $id) { id } }",
        lambda s: {"id": s.world.caregiver_on_team.id},
        {"coordinator": OK, "caregiver_on_team": OK},
    ),
    Op(
        "users",
        "{ users(first: 50) { edges { node { id } } } }",
        lambda s: {},
        {**ROLE_FORBIDDEN, "coordinator": OK, "other_agency_coordinator": OK},
    ),
    Op(
        "createPerson",
        mutation("createPerson", "CreatePersonInput"),
        lambda s: {"input": {"person": {"name": "신규 이용자"}}},
        {**ROLE_FORBIDDEN, "coordinator": OK, "other_agency_coordinator": OK},
        mutation=True,
    ),
    Op(
        "updatePerson",
        mutation("updatePerson", "UpdatePersonInput"),
        lambda s: {"input": {"id": s.world.minji.id, "expectedRevision": 1, "person": {"name": "최민지"}}},
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
    ),
    Op(
        "linkGuardian",
        mutation("linkGuardian", "LinkGuardianInput"),
        lambda s: {
            "input": {
                "personId": s.world.minji.id,
                "userId": s.world.other_guardian.id,
                "relationship": "이모",
                "permissions": ["PLAN"],
            }
        },
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
    ),
    Op(
        "unlinkGuardian",
        mutation("unlinkGuardian", "UnlinkGuardianInput"),
        lambda s: {"input": {"personId": s.world.minji.id, "userId": s.world.guardian.id}},
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
    ),
    Op(
        "setCareTeam",
        mutation("setCareTeam", "SetCareTeamInput"),
        lambda s: {"input": {"personId": s.world.minji.id, "userIds": [s.world.caregiver_off_team.id]}},
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
    ),
    Op(
        "createCarePlanDraft",
        mutation("createCarePlanDraft", "CreateCarePlanDraftInput"),
        lambda s: {"input": {"personId": s.world.minji.id, "content": PLAN_INPUT}},
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
    ),
    Op(
        "updateCarePlanDraft",
        mutation("updateCarePlanDraft", "UpdateCarePlanDraftInput"),
        lambda s: {"input": {"planId": s.draft.id, "expectedRevision": s.draft.revision, "content": PLAN_INPUT}},
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
    ),
    Op(
        "approveCarePlan",
        mutation("approveCarePlan", "CarePlanRevisionInput"),
        lambda s: {"input": {"planId": s.draft.id, "expectedRevision": s.draft.revision}},
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
    ),
    Op(
        "archiveCarePlanDraft",
        mutation("archiveCarePlanDraft", "CarePlanRevisionInput"),
        lambda s: {"input": {"planId": s.draft.id, "expectedRevision": s.draft.revision}},
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
    ),
    Op(
        "acknowledgeCarePlan",
        mutation("acknowledgeCarePlan", "AcknowledgeCarePlanInput"),
        lambda s: {"input": {"planId": s.active_plan_id}},
        {
            "coordinator": FORBIDDEN,
            "other_agency_coordinator": FORBIDDEN,
            "caregiver_on_team": FORBIDDEN,
            "caregiver_off_team": FORBIDDEN,
            "ai_service": FORBIDDEN,
            "guardian": OK,
        },
        mutation=True,
    ),
    Op(
        "incidents",
        "{ incidents(first: 50) { edges { node { id } } } }",
        lambda s: {},
        SEES_INCIDENTS,
    ),
    Op(
        "incidents(updatedSince)",
        "query ($since: DateTime!) { incidents(updatedSince: $since) { edges { node { id } } } }",
        lambda s: {"since": (s.world.minji.created_at - timedelta(days=1)).isoformat()},
        SEES_INCIDENTS,
    ),
    Op(
        "incident",
        "query ($id: ID!) { incident(id: $id) { id timeline { action } } }",
        lambda s: {"id": s.incidents.open_id},
        SEES_INCIDENTS,
    ),
    Op(
        "reviewQueue", "{ reviewQueue { edges { node { id } } } }", lambda s: {}, {**ROLE_FORBIDDEN, **COORDINATOR_ONLY}
    ),
    Op("reportsDue", "{ reportsDue { edges { node { id } } } }", lambda s: {}, {**ROLE_FORBIDDEN, **COORDINATOR_ONLY}),
    Op("detectorStats", "{ detectorStats { detector } }", lambda s: {}, {**ROLE_FORBIDDEN, **COORDINATOR_ONLY}),
    Op(
        "flagIncident",
        mutation("flagIncident", "FlagIncidentInput"),
        lambda s: {
            "input": {
                "externalId": "matrix-1",
                "personRef": MINJI_REF,
                "type": "FALL",
                "confidence": 0.8,
                "detector": "camera",
                "modelVersion": "1",
            }
        },
        {**{role: FORBIDDEN for role in ROLES}, "ai_service": OK},
        mutation=True,
    ),
    Op(
        "reportIncident",
        mutation("reportIncident", "ReportIncidentInput"),
        lambda s: {"input": {"personId": s.world.minji.id, "type": "FALL", "summary": "넘어짐"}},
        {**SEES_MINJI, "ai_service": FORBIDDEN},
        mutation=True,
    ),
    Op(
        "acknowledgeIncident",
        mutation("acknowledgeIncident", "IncidentNoteInput"),
        lambda s: {"input": {"id": s.incidents.open_id, "note": "가는 중"}},
        {**SEES_INCIDENTS, "ai_service": FORBIDDEN},
        mutation=True,
    ),
    Op(
        "confirmIncident",
        mutation("confirmIncident", "ConfirmIncidentInput"),
        lambda s: {"input": {"id": s.incidents.review_id}},
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
    ),
    Op(
        "dismissIncident",
        mutation("dismissIncident", "DismissIncidentInput"),
        lambda s: {"input": {"id": s.incidents.review_id, "reason": "오탐"}},
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
    ),
    Op(
        "resolveIncident",
        mutation("resolveIncident", "ResolveIncidentInput"),
        lambda s: {"input": {"id": s.incidents.open_id, "outcome": "발작 2분 후 멈춤"}},
        STAFF_IN_SCOPE,
        mutation=True,
    ),
    Op(
        "reopenIncident",
        mutation("reopenIncident", "IncidentNoteInput"),
        lambda s: {"input": {"id": s.incidents.resolved_id}},
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
    ),
    Op(
        "assignIncident",
        mutation("assignIncident", "AssignIncidentInput"),
        lambda s: {"input": {"id": s.incidents.open_id, "assigneeId": s.world.caregiver_on_team.id}},
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
    ),
    Op(
        "addIncidentNote",
        mutation("addIncidentNote", "AddIncidentNoteInput"),
        lambda s: {"input": {"id": s.incidents.open_id, "note": "119 도착"}},
        STAFF_IN_SCOPE,
        mutation=True,
    ),
    Op(
        "addIncidentNote(idempotencyKey)",
        mutation("addIncidentNote", "AddIncidentNoteInput"),
        lambda s: {"input": {"id": s.incidents.open_id, "note": "119 도착", "idempotencyKey": "matrix-note"}},
        STAFF_IN_SCOPE,
        mutation=True,
    ),
    Op(
        "markIncidentReported",
        mutation("markIncidentReported", "MarkIncidentReportedInput"),
        lambda s: {"input": {"id": s.incidents.open_id, "reference": "GG-1"}},
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
    ),
    Op(
        "configureAiService",
        mutation("configureAiService", "ConfigureAiServiceInput"),
        lambda s: {"input": {"userId": s.world.ai_service.id, "service": "camera-ai", "secret": "x" * 40}},
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
    ),
    Op(
        "incidentPolicy",
        "{ incidentPolicy { reviewThreshold } }",
        lambda s: {},
        {**ROLE_FORBIDDEN, "coordinator": OK, "other_agency_coordinator": OK},
    ),
    Op(
        "updateIncidentPolicy",
        mutation("updateIncidentPolicy", "UpdateIncidentPolicyInput"),
        lambda s: {"input": {"reviewThreshold": 0.5}},
        {**ROLE_FORBIDDEN, "coordinator": OK, "other_agency_coordinator": OK},
        mutation=True,
    ),
    Op(
        "createUser",
        mutation("createUser", "CreateUserInput"),
        lambda s: {"input": {"firebaseUid": f"new-{new_id()}", "displayName": "새 요양보호사", "role": "CAREGIVER"}},
        {**ROLE_FORBIDDEN, "coordinator": OK, "other_agency_coordinator": OK},
        mutation=True,
    ),
    Op(
        "notifications",
        "{ notifications(first: 10) { edges { node { id } } } }",
        lambda s: {},
        {"guardian": OK},
    ),
    Op(
        "notifications(updatedSince)",
        "query ($since: DateTime!) { notifications(updatedSince: $since) { edges { node { id updatedAt } } } }",
        lambda s: {"since": (s.world.minji.created_at - timedelta(days=1)).isoformat()},
        {"guardian": OK},
    ),
    # Everyone may list their own devices; only the guardian has one, so others see an empty list.
    Op("devices", "{ devices { edges { node { id } } } }", lambda s: {}, {**PUSH_USERS, "guardian": OK}),
    Op(
        "notificationPreferences",
        "{ notificationPreferences { revision } }",
        lambda s: {},
        PUSH_USERS,
        default=OK,
    ),
    Op(
        "registerDevice",
        mutation("registerDevice", "RegisterDeviceInput"),
        lambda s: {"input": {"installationId": f"fid-{new_id()}", "platform": "ANDROID"}},
        PUSH_USERS,
        default=OK,
        mutation=True,
    ),
    Op(
        "unregisterDevice",
        mutation("unregisterDevice", "UnregisterDeviceInput"),
        lambda s: {"input": {"installationId": "fid-guardians-phone"}},
        {"guardian": OK, "ai_service": FORBIDDEN},
        mutation=True,
    ),
    Op(
        "markRead",
        mutation("markRead", "NotificationInput"),
        lambda s: {"input": {"id": s.notification_id}},
        GUARDIANS_OWN,
        mutation=True,
    ),
    Op(
        "acknowledgeNotification",
        mutation("acknowledgeNotification", "NotificationInput"),
        lambda s: {"input": {"id": s.notification_id}},
        GUARDIANS_OWN,
        mutation=True,
    ),
    Op(
        "updateNotificationPreferences",
        mutation("updateNotificationPreferences", "UpdateNotificationPreferencesInput"),
        lambda s: {"input": {"expectedRevision": 0, "mutedKinds": ["SHIFT_CHANGE"]}},
        PUSH_USERS,
        default=OK,
        mutation=True,
    ),
    Op(
        "updateUser",
        mutation("updateUser", "UpdateUserInput"),
        lambda s: {"input": {"id": s.world.caregiver_off_team.id, "expectedRevision": 1, "locale": "en"}},
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
    ),
]


CAREGIVER_ONLY = dict.fromkeys(
    ("coordinator", "other_agency_coordinator", "guardian", "guardian_visits_only", "other_guardian", "ai_service"),
    FORBIDDEN,
)
SEES_MINJIS_VISITS = {"coordinator": OK, "caregiver_on_team": OK, "guardian": OK, "guardian_visits_only": OK}


def shift_input(**values: Any) -> dict[str, Any]:
    return {"input": values}


def _now(s: Scene, minutes: int) -> str:
    """The scene's now (the world was built at it), moved by `minutes`, as a phone would send it."""
    return (s.world.minji.created_at + timedelta(minutes=minutes)).isoformat()


SHIFT_OPS = [
    Op(
        "myShifts",
        "query ($from: DateTime!, $to: DateTime!) { myShifts(from: $from, to: $to) { edges { node { id } } } }",
        lambda s: s.s.period,
        {**CAREGIVER_ONLY, "caregiver_on_team": OK},
        shifts=("upcoming",),
    ),
    Op(
        "myShifts(updatedSince)",
        "query ($from: DateTime!, $to: DateTime!, $since: DateTime!) "
        "{ myShifts(from: $from, to: $to, updatedSince: $since) { edges { node { id } } } }",
        lambda s: {**s.s.period, "since": s.s.period["from"]},
        {**CAREGIVER_ONLY, "caregiver_on_team": OK},
        shifts=("upcoming",),
    ),
    Op(
        "myFormerShiftIds",
        "query ($from: DateTime!, $to: DateTime!, $since: DateTime!) "
        "{ myFormerShiftIds(from: $from, to: $to, updatedSince: $since) }",
        lambda s: {**s.s.period, "since": s.s.period["from"]},
        {**CAREGIVER_ONLY, "caregiver_on_team": OK},  # the caregiver who took it lost nothing
        shifts=("given_away",),
    ),
    Op(
        "shift",
        "query ($id: ID!) { shift(id: $id) { id taskLog { id } person { id } } }",
        lambda s: {"id": s.s.upcoming.id},
        SEES_MINJIS_VISITS,
        shifts=("upcoming",),
    ),
    Op(
        "openShifts",
        "{ openShifts { edges { node { id } } } }",
        lambda s: {},
        {
            "coordinator": OK,
            "caregiver_on_team": OK,
            "caregiver_off_team": OK,
            **{r: FORBIDDEN for r in ("guardian", "guardian_visits_only", "other_guardian", "ai_service")},
        },
        shifts=("open",),
    ),
    Op(
        "shifts",
        "query ($filter: ShiftFilterInput!) { shifts(filter: $filter) { edges { node { id } } } }",
        lambda s: {"filter": s.s.period},
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        shifts=("upcoming",),
    ),
    Op(
        "coverageGaps",
        "query ($from: DateTime!, $to: DateTime!) { coverageGaps(from: $from, to: $to) { edges { node { kind } } } }",
        lambda s: s.s.period,
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        shifts=("open",),
    ),
    Op(
        "caregiverProfile",
        "query ($id: ID!) { caregiverProfile(userId: $id) { userId } }",
        lambda s: {"id": s.world.caregiver_on_team.id},
        {
            "coordinator": OK,
            "caregiver_on_team": OK,
            **{r: FORBIDDEN for r in ("guardian", "guardian_visits_only", "other_guardian", "ai_service")},
        },
    ),
    Op(
        "person.shifts",
        """query ($id: ID!, $from: DateTime!, $to: DateTime!) {
          person(id: $id) { shifts(from: $from, to: $to) { edges { node { id } } } }
        }""",
        lambda s: {"id": s.world.minji.id, **s.s.period},
        SEES_MINJIS_VISITS,
        shifts=("upcoming",),
    ),
    Op(
        "scheduleShift",
        mutation("scheduleShift", "ScheduleShiftInput"),
        lambda s: shift_input(
            personId=s.world.minji.id,
            start="2026-11-28T09:00:00+09:00",
            end="2026-11-28T13:00:00+09:00",
            caregiverId=s.world.caregiver_off_team.id,
        ),
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
    ),
    Op(
        "scheduleWeeklyShifts",
        mutation("scheduleWeeklyShifts", "ScheduleWeeklyShiftsInput"),
        lambda s: shift_input(
            shift={
                "personId": s.world.minji.id,
                "start": "2026-11-28T09:00:00+09:00",
                "end": "2026-11-28T13:00:00+09:00",
            },
            recurrence={"weekdays": [5], "until": "2026-12-12"},
        ),
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
    ),
    Op(
        "updateShift",
        mutation("updateShift", "UpdateShiftInput"),
        lambda s: shift_input(
            shiftId=s.s.upcoming.id,
            expectedRevision=s.s.upcoming.revision,
            start=s.s.upcoming.start.isoformat(),
            end=s.s.upcoming.end.isoformat(),
            notes="현관 비밀번호 변경됨",
        ),
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
        shifts=("upcoming",),
    ),
    Op(
        "cancelShift",
        mutation("cancelShift", "CancelShiftInput"),
        lambda s: shift_input(shiftId=s.s.upcoming.id, reason="입원"),
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
        shifts=("upcoming",),
    ),
    Op(
        "assignShift",
        mutation("assignShift", "AssignShiftInput"),
        lambda s: shift_input(shiftId=s.s.open.id, caregiverId=s.world.caregiver_off_team.id),
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
        shifts=("open",),
    ),
    Op(
        "openShift",
        mutation("openShift", "OpenShiftInput"),
        lambda s: shift_input(shiftId=s.s.upcoming.id, reason="교체 필요"),
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
        shifts=("upcoming",),
    ),
    Op(
        "giveUpShift",
        mutation("giveUpShift", "GiveUpShiftInput"),
        lambda s: shift_input(shiftId=s.s.upcoming.id, reason="병원 진료"),
        {**CAREGIVER_ONLY, "caregiver_on_team": OK},
        mutation=True,
        shifts=("upcoming",),
    ),
    Op(
        "claimOpenShift",
        mutation("claimOpenShift", "ShiftIdInput"),
        lambda s: shift_input(shiftId=s.s.open.id),
        {**CAREGIVER_ONLY, "caregiver_on_team": OK, "caregiver_off_team": OK},
        mutation=True,
        shifts=("open",),
    ),
    Op(
        "requestShiftSwap",
        mutation("requestShiftSwap", "RequestShiftSwapInput"),
        lambda s: shift_input(shiftId=s.s.upcoming.id, toCaregiverId=s.world.caregiver_off_team.id),
        {**CAREGIVER_ONLY, "caregiver_on_team": OK},
        mutation=True,
        shifts=("upcoming",),
    ),
    Op(
        "respondToShiftSwap",
        mutation("respondToShiftSwap", "RespondToShiftSwapInput"),
        lambda s: shift_input(shiftId=s.s.swap_asked.id, accept=True),
        {**CAREGIVER_ONLY, "caregiver_off_team": OK},
        mutation=True,
        shifts=("swap_asked",),
    ),
    Op(
        "decideShiftSwap",
        mutation("decideShiftSwap", "DecideShiftSwapInput"),
        lambda s: shift_input(shiftId=s.s.swap_awaiting.id, approve=True),
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
        shifts=("swap_awaiting",),
    ),
    Op(
        "withdrawShiftSwap",
        mutation("withdrawShiftSwap", "ShiftIdInput"),
        lambda s: shift_input(shiftId=s.s.swap_asked.id),
        {**CAREGIVER_ONLY, "caregiver_on_team": OK},
        mutation=True,
        shifts=("swap_asked",),
    ),
    Op(
        "checkIn",
        mutation("checkIn", "CheckInInput"),
        lambda s: shift_input(shiftId=s.s.upcoming.id, location={"latitude": 37.27, "longitude": 127.04}),
        {**CAREGIVER_ONLY, "caregiver_on_team": OK},
        mutation=True,
        shifts=("upcoming",),
    ),
    Op(
        "checkOut",
        mutation("checkOut", "CheckOutInput"),
        lambda s: shift_input(shiftId=s.s.in_progress.id, reason="복용 시간 전 귀가", handoverNote="인계"),
        {**CAREGIVER_ONLY, "caregiver_on_team": OK},
        mutation=True,
        shifts=("in_progress",),
    ),
    Op(
        "logTask",
        mutation("logTask", "LogTaskInput"),
        lambda s: shift_input(shiftId=s.s.in_progress.id, taskId=s.s.critical_task_id, outcome="DONE"),
        {**CAREGIVER_ONLY, "caregiver_on_team": OK},
        mutation=True,
        shifts=("in_progress",),
    ),
    # Offline phones send their own times: the same doors, the same answers.
    Op(
        "checkIn(deviceTime)",
        mutation("checkIn", "CheckInInput"),
        lambda s: shift_input(shiftId=s.s.upcoming.id, deviceTime=_now(s, -2), fixTime=_now(s, -2)),
        {**CAREGIVER_ONLY, "caregiver_on_team": OK},
        mutation=True,
        shifts=("upcoming",),
    ),
    Op(
        "checkOut(deviceTime)",
        mutation("checkOut", "CheckOutInput"),
        lambda s: shift_input(shiftId=s.s.in_progress.id, reason="복용 시간 전 귀가", deviceTime=_now(s, 0)),
        {**CAREGIVER_ONLY, "caregiver_on_team": OK},
        mutation=True,
        shifts=("in_progress",),
    ),
    Op(
        "logTask(deviceTime)",
        mutation("logTask", "LogTaskInput"),
        lambda s: shift_input(
            shiftId=s.s.in_progress.id, taskId=s.s.critical_task_id, outcome="DONE", deviceTime=_now(s, 0)
        ),
        {**CAREGIVER_ONLY, "caregiver_on_team": OK},
        mutation=True,
        shifts=("in_progress",),
    ),
    Op(
        "addProgressNote",
        mutation("addProgressNote", "AddProgressNoteInput"),
        lambda s: shift_input(shiftId=s.s.in_progress.id, text="산책 20분"),
        {**CAREGIVER_ONLY, "caregiver_on_team": OK},
        mutation=True,
        shifts=("in_progress",),
    ),
    Op(
        "setCaregiverProfile",
        mutation("setCaregiverProfile", "SetCaregiverProfileInput"),
        lambda s: shift_input(
            userId=s.world.caregiver_off_team.id, expectedRevision=0, qualifications=[{"code": "요양보호사"}]
        ),
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
    ),
]
OPS += SHIFT_OPS

BP_INPUT = {
    "metric": "BLOOD_PRESSURE",
    "values": [{"code": "8480-6", "value": 131}, {"code": "8462-4", "value": 84}],
    "unit": "mm[Hg]",
    "effectiveAt": "2026-11-25T00:00:00Z",
    "deviceId": "cuff-7",
}
HEALTH_OPS = [
    Op(
        "observations",
        "query ($id: ID!) { observations(personId: $id) { edges { node { id values { value } } } } }",
        lambda s: {"id": s.world.minji.id},
        {"coordinator": OK, "caregiver_on_team": OK, "guardian": OK},  # guardian_visits_only lacks `health`
    ),
    Op(
        "recordObservation",
        mutation("recordObservation", "RecordObservationInput"),
        lambda s: {"input": {"personId": s.world.minji.id, **BP_INPUT}},
        {
            "coordinator": OK,
            "caregiver_on_team": OK,
            **dict.fromkeys(("guardian", "guardian_visits_only", "other_guardian", "ai_service"), FORBIDDEN),
        },
        mutation=True,
    ),
    Op(
        "healthThresholds",
        "query ($id: ID!) { healthThresholds(personId: $id) { effective { crisisSystolic } } }",
        lambda s: {"id": s.world.minji.id},
        STAFF_IN_SCOPE,
    ),
    Op(
        "setHealthThresholds",
        mutation("setHealthThresholds", "SetHealthThresholdsInput"),
        lambda s: {
            "input": {
                "personId": s.world.minji.id,
                "thresholds": {"crisisSystolic": 190},
                "reason": "Her usual",
                "expectedRevision": 0,
            }
        },
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
    ),
    Op(
        "healthSummary",
        "query ($id: ID!) { healthSummary(personId: $id) { code series { median baselineActive } } }",
        lambda s: {"id": s.world.minji.id},
        {"coordinator": OK, "caregiver_on_team": OK, "guardian": OK},  # guardian_visits_only lacks `health`
    ),
    Op(
        "healthRuleStats",
        "{ healthRuleStats { personWeeks rules { rule } } }",
        lambda s: {},
        {**ROLE_FORBIDDEN, "coordinator": OK, "other_agency_coordinator": OK},  # each their own agency's
    ),
]
OPS += HEALTH_OPS

LADDER_INPUT = {
    "unansweredCalls": 2,
    "retryAfterMinutes": 90,
    "outcomeGraceMinutes": 30,
    "checkAnswerWithinMinutes": 30,
    "humanCallWithinMinutes": 180,
    "visitWithinMinutes": 240,
    "noCallsFrom": "21:00",
    "noCallsUntil": "08:00",
    "riskWords": ["아프다"],
}
REACHABILITY_OPS = [
    Op(
        "reachability",
        "query ($id: ID!) { reachability(personId: $id) { state } }",
        lambda s: {"id": s.world.minji.id},
        {**STAFF_IN_SCOPE},
    ),
    Op(
        "unreachablePeople",
        "{ unreachablePeople { person { name } } }",
        lambda s: {},
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
    ),
    Op(
        "setCallSchedule",
        mutation("setCallSchedule", "SetCallScheduleInput"),
        lambda s: {"input": {"personId": s.world.minji.id, "slots": [{"weekday": 2, "time": "10:00"}]}},
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
    ),
    Op(
        "recordHumanContact",
        mutation("recordHumanContact", "RecordHumanContactInput"),
        lambda s: {
            "input": {"personId": s.world.minji.id, "kind": "HUMAN_CALL", "outcome": "REACHED", "idempotencyKey": "k1"}
        },
        {**STAFF_IN_SCOPE},
        mutation=True,
    ),
    Op(
        "issueCallCallbackToken",
        mutation("issueCallCallbackToken", "IssueCallCallbackTokenInput"),
        lambda s: {"input": {"serviceUserId": s.world.ai_service.id}},
        {**ROLE_FORBIDDEN, **COORDINATOR_ONLY},
        mutation=True,
    ),
    Op(
        "reachabilityLadder",
        "{ reachabilityLadder { isDefault unansweredCalls } }",
        lambda s: {},
        {**ROLE_FORBIDDEN, "coordinator": OK, "other_agency_coordinator": OK},  # each their own agency's
    ),
    Op(
        "setReachabilityLadder",
        mutation("setReachabilityLadder", "SetReachabilityLadderInput"),
        lambda s: {"input": LADDER_INPUT},
        {**ROLE_FORBIDDEN, "coordinator": OK, "other_agency_coordinator": OK},  # each their own agency's
        mutation=True,
    ),
]
OPS += REACHABILITY_OPS


@pytest.fixture
async def scene(world: World, store: Store, ports: Ports) -> Scene:
    draft = CarePlan(
        id=new_id(),
        agency_id=world.agency.id,
        person_id=world.minji.id,
        version=await store.people.next_plan_version(world.minji.id),
        status=CarePlanStatus.DRAFT,
        based_on_id=world.minji.active_care_plan_id,
        content=plan_content("초안"),
        revision=1,
        created_by=world.coordinator.id,
        created_at=world.minji.created_at,
        updated_at=world.minji.created_at,
    )
    await store.care_plans.insert(draft)
    await health_scene(ports, world)
    await reachability_scene(ports, world)
    return Scene(
        world=world,
        draft=draft,
        incidents=await incident_scene(ports, world),
        notification_id=await guardians_notification(world, store),
        agency_b=await agency_b_users(world, store),
    )


async def agency_b_users(world: World, store: Store) -> dict[str, User]:
    """Agency B's caregiver, family member and AI service, the last under agency A's service name."""
    b, now = world.other_agency_coordinator.agency_id, world.minji.created_at
    users = {
        "other_agency_caregiver": user(b, Role.CAREGIVER, "다른 기관 요양보호사", now=now),
        "other_agency_guardian": user(b, Role.FAMILY, "다른 기관 보호자", now=now),
        "other_agency_ai_service": user(b, Role.AI_SERVICE, "다른 기관 AI", now=now),
    }
    for u in users.values():
        await store.users.insert(u)
    service = users["other_agency_ai_service"]
    await store.ai_services.put(AiService(service.id, b, SERVICE, "agency-b-secret-0123456789abcdef0123", now))
    return users


async def guardians_notification(world: World, store: Store) -> str:
    """A routed alert in the guardian's inbox, and the guardian's phone."""
    request = AlertRequest(
        id=new_id(),
        agency_id=world.agency.id,
        kind=AlertKind.INCIDENT,
        severity=Severity.HIGH,
        subject_type="Incident",
        subject_id=new_id(),
        audiences=(Audience.GUARDIANS,),
        created_at=world.minji.created_at,
        person_id=world.minji.id,
    )
    ports = Ports(store=store, clock=FakeClock(), claims=RecordingClaims(), tokens=RefusingTokens())
    [notification] = await route_request(ports, request)
    await put_device(store, world.guardian, world.minji.created_at, address="fid-guardians-phone")
    return notification.id


async def snapshot(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Everything but the audit trail, which records reads too."""
    names = [n for n in await store.db.list_collection_names() if n != "audit"]
    return {n: [d async for d in store.db[n].find().sort("_id", 1)] for n in sorted(names)}


def observed(result: Any, op: Op, role: str) -> str:
    if result.errors:
        codes = {(e.extensions or {}).get("code") for e in result.errors}
        assert len(codes) == 1, result.errors
        return str(codes.pop())
    data = result.data
    value = data[op.name.split("(")[0].split(".")[0]]
    if op.name == "people":
        names = {e["node"]["name"] for e in value["edges"]}
        assert names == op.sees.get(role, set())
        return OK
    if isinstance(value, dict) and "edges" in value:
        return OK if value["edges"] else NF
    if op.name.startswith("person."):
        inner = value and value[op.name.split(".")[1]]
        if op.name in ("person.carePlanVersions", "person.shifts"):
            return OK if inner and inner["edges"] else NF
        return OK if inner else NF
    if op.mutation:
        typename = value["__typename"]
        assert typename.endswith("Payload") or typename == "NotFoundError", value
        return OK if typename.endswith("Payload") else NF
    if isinstance(value, dict) and "edges" in value:
        return OK if value["edges"] else NF  # a connection: empty answers like nothing in scope
    return OK if value else NF


@pytest.mark.parametrize("role", EVERY_ROLE)
@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
async def test_every_operation_answers_each_role_as_the_design_says(
    op: Op, role: str, scene: Scene, execute: Execute, store: Store, ports: Ports
) -> None:
    caller = scene.caller(role)
    if op.shifts:
        scene.shifts = await shift_scene(ports, scene.world, op.shifts)
    before = await snapshot(store)

    result = await execute(op.document, op.variables(scene), as_user=caller)

    assert observed(result, op, role) == op.outcome(role)
    if op.outcome(role) != OK:
        assert await snapshot(store) == before, "a refused operation changed something"


def test_the_matrix_covers_every_query_and_mutation(schema: Any) -> None:
    covered = {op.name.split("(")[0].split(".")[0] for op in OPS}
    graphql_schema = schema._schema
    fields = set(graphql_schema.query_type.fields) | set(graphql_schema.mutation_type.fields)
    assert fields <= covered, f"not in the authorization matrix: {sorted(fields - covered)}"
