"""Every console route for every kind of caller; CSRF; nothing written on a refusal."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from carecore.access.principal import Role
from carecore.alerts.router import route_due
from carecore.care_plans.service import create_draft
from carecore.incidents.models import AiService
from carecore.ports import Ports
from carecore.reachability.models import CallOutcome
from carecore.shifts.caregivers import set_caregiver_profile
from carecore.shifts.models import CaregiverProfile
from carecore.shifts.scheduling import ShiftPlan, schedule_shift
from carecore.storage.store import Store
from console.assets import WEB_TOOLS
from devtools.auth_emulator import ensure_npm_packages
from tests.carecore.reachability.conftest import call, calls  # noqa: F401 - the `calls` fixture
from tests.carecore.reachability.test_ladder import race
from tests.conftest import World
from tests.console.conftest import SignedIn, csrf_of
from tests.schema.incident_scene import IncidentScene, incident_scene

OPEN_SHIFT = {"start": "2026-11-27T10:00", "hours": "2", "qualifications": ""}
ACTIONS: dict[str, dict[str, str]] = {
    "confirm": {"severity": "HIGH", "note": "Seen on camera"},
    "assign": {"assignee_id": "0" * 24},
    "acknowledge": {"note": "Called her; she is fine"},
    "resolve": {"outcome": "Seizure over, GP informed"},
    "dismiss": {"reason": "Sensor worn by a visitor"},
    "reopen": {"note": "again"},
    "report": {"reference": "REF-1"},
}


@pytest.fixture(scope="session")
def web_assets() -> Iterator[None]:
    ensure_npm_packages(WEB_TOOLS)
    yield


@pytest.fixture
async def scene(ports: Ports, world: World) -> IncidentScene:
    return await incident_scene(ports, world)


@pytest.fixture
async def visit(ports: Ports, world: World) -> str:
    """A shift of minji's tomorrow with the caregiver on her team."""
    start = ports.clock.now() + timedelta(days=1)
    plan = ShiftPlan(world.minji.id, start, start + timedelta(hours=2), caregiver_id=world.caregiver_on_team.id)
    return (await schedule_shift(ports, world.coordinator.principal(), plan)).id


async def _document(store: Store, incident_id: str) -> dict[str, Any] | None:
    return await store.db["incidents"].find_one({"_id": incident_id})


async def _token(client: httpx.AsyncClient) -> str:
    # Any console page carries the browser's token, the sign-in page too.
    return csrf_of((await client.get("/console/signin")).text)


async def _refused_everywhere(
    client: httpx.AsyncClient,
    store: Store,
    scene: IncidentScene,
    visit: str,
    *,
    page_status: int,
    action_status: int,
) -> None:
    before = await _document(store, scene.open_id)
    shift_before = await store.db["shifts"].find_one({"_id": visit})
    assert (await client.get(f"/console/shifts/{visit}")).status_code == page_status
    assert (await client.get("/console/now")).status_code == page_status
    assert (await client.get(f"/console/incidents/{scene.open_id}")).status_code == page_status
    assert (await client.get("/console/review")).status_code == page_status
    assert (await client.get("/console/now/events")).status_code == page_status
    assert (await client.get("/console/people")).status_code == page_status
    assert (await client.get("/console/coverage")).status_code == page_status
    token = await _token(client)
    for action, fields in ACTIONS.items():
        response = await client.post(
            f"/console/incidents/{scene.open_id}/{action}", data={**fields, "csrf_token": token}
        )
        assert response.status_code == action_status, (action, response.status_code)
    assert await _document(store, scene.open_id) == before, "a refused request wrote to the incident"
    assign = await client.post(
        f"/console/shifts/{visit}/assign", data={"caregiver_id": scene.open_id, "reason": "x", "csrf_token": token}
    )
    assert assign.status_code == action_status
    shifts = await store.db["shifts"].count_documents({})
    opened = await client.post("/console/coverage/open", data={**OPEN_SHIFT, "csrf_token": token})
    swap = await client.post(f"/console/shifts/{visit}/swap", data={"decision": "approve", "csrf_token": token})
    assert opened.status_code == swap.status_code == action_status
    assert await store.db["shifts"].count_documents({}) == shifts, "a refused request opened a shift"
    assert await store.db["shifts"].find_one({"_id": visit}) == shift_before, "a refused request wrote to the shift"


async def test_the_agencys_coordinator_sees_now_and_acknowledges_with_a_note(
    browser: SignedIn, world: World, scene: IncidentScene, store: Store
) -> None:
    client, _ = await browser(Role.COORDINATOR, world.agency.id)
    now = await client.get("/console/now")
    assert now.status_code == 200
    assert world.minji.name in now.text and f"/console/incidents/{scene.open_id}" in now.text
    assert "script-src 'self'" in now.headers["content-security-policy"]
    assert "unsafe-inline" not in now.headers["content-security-policy"]
    board = await client.get("/console/now", headers={"HX-Request": "true"})
    assert board.text.lstrip().startswith('<div id="board"'), "htmx polls get the board alone"

    page = await client.get(f"/console/incidents/{scene.open_id}")
    assert page.status_code == 200 and "SEIZURE" in page.text
    token = csrf_of(page.text)
    url = f"/console/incidents/{scene.open_id}/acknowledge"
    without_note = await client.post(url, data={"csrf_token": token, "note": "  "})
    assert without_note.status_code == 400 and "note is required" in without_note.text
    assert (await _document(store, scene.open_id) or {})["status"] == "OPEN"

    done = await client.post(url, data={"csrf_token": token, "note": "Called her; she is fine"})
    assert done.status_code == 303 and done.headers["location"] == f"/console/incidents/{scene.open_id}"
    stored = await store.incidents.get(scene.open_id)
    assert stored is not None and stored.status.value == "ACKNOWLEDGED"
    assert stored.escalation.due_at is None, "the ladder stopped"
    assert stored.timeline[-1].note == "Called her; she is fine"


async def test_the_coordinator_resolves_reopens_dismisses_and_reports(
    browser: SignedIn, world: World, scene: IncidentScene, store: Store
) -> None:
    client, _ = await browser(Role.COORDINATOR, world.agency.id)
    token = csrf_of((await client.get(f"/console/incidents/{scene.resolved_id}")).text)
    base = f"/console/incidents/{scene.resolved_id}"
    already = await client.post(f"{base}/resolve", data={"csrf_token": token, "outcome": "again"})
    assert already.status_code == 409 and "reopen it first" in already.text
    for action in ("reopen", "resolve", "reopen", "dismiss"):
        response = await client.post(f"{base}/{action}", data={"csrf_token": token, **ACTIONS[action]})
        assert response.status_code == 303, (action, response.text)
    stored = await store.incidents.get(scene.resolved_id)
    assert stored is not None and stored.status.value == "DISMISSED"
    assert stored.dismissal_reason == ACTIONS["dismiss"]["reason"]
    assign = f"/console/incidents/{scene.open_id}/assign"
    to_parent = await client.post(assign, data={"csrf_token": token, "assignee_id": world.guardian.id})
    assert to_parent.status_code == 400 and "cannot follow up" in to_parent.text
    data = {"csrf_token": token, "assignee_id": world.caregiver_on_team.id, "note": "Goes by at 9"}
    assert (await client.post(assign, data=data)).status_code == 303
    page = await client.get(f"/console/incidents/{scene.open_id}")
    assert f'<dd id="assignee">{world.caregiver_on_team.display_name}</dd>' in page.text
    seizure = f"/console/incidents/{scene.open_id}/report"
    assert (await client.post(seizure, data={"csrf_token": token, "reference": "REF-1"})).status_code == 303
    reported = await store.incidents.get(scene.open_id)
    assert reported is not None and reported.report_reference == "REF-1"


async def test_a_coordinator_of_another_agency_sees_nothing_of_the_agency(
    browser: SignedIn, world: World, scene: IncidentScene, store: Store, visit: str
) -> None:
    client, _ = await browser(Role.COORDINATOR, world.other_agency_coordinator.agency_id)
    now = await client.get("/console/now")
    assert now.status_code == 200 and world.minji.name not in now.text and scene.open_id not in now.text
    before = await _document(store, scene.open_id)
    assert (await client.get(f"/console/incidents/{scene.open_id}")).status_code == 404
    token = await _token(client)
    for action, fields in ACTIONS.items():
        response = await client.post(
            f"/console/incidents/{scene.open_id}/{action}", data={**fields, "csrf_token": token}
        )
        assert response.status_code == 404, action
        assert world.minji.name not in response.text
    assert await _document(store, scene.open_id) == before
    shift_before = await store.db["shifts"].find_one({"_id": visit})
    assert (await client.get(f"/console/shifts/{visit}")).status_code == 404
    assign = await client.post(
        f"/console/shifts/{visit}/assign", data={"caregiver_id": world.caregiver_off_team.id, "csrf_token": token}
    )
    assert assign.status_code == 404 and world.minji.name not in assign.text
    assert await store.db["shifts"].find_one({"_id": visit}) == shift_before


@pytest.mark.parametrize("role", [Role.CAREGIVER, Role.FAMILY])
async def test_caregivers_and_families_get_a_polite_page_and_change_nothing(
    browser: SignedIn, world: World, scene: IncidentScene, store: Store, role: Role, visit: str
) -> None:
    client, _ = await browser(role, world.agency.id)
    page = await client.get("/console/now")
    assert "For coordinators only" in page.text or "코디네이터 전용" in page.text
    assert world.minji.name not in page.text
    await _refused_everywhere(client, store, scene, visit, page_status=403, action_status=403)


async def test_signed_out_goes_to_sign_in_and_changes_nothing(
    browser: SignedIn, world: World, scene: IncidentScene, store: Store, visit: str
) -> None:
    client, _ = await browser(None, world.agency.id)
    response = await client.get("/console/now")
    assert response.status_code == 303 and response.headers["location"] == "/console/signin"
    polled = await client.get("/console/now", headers={"HX-Request": "true"})
    assert polled.status_code == 401 and polled.headers["hx-redirect"] == "/console/signin"
    await _refused_everywhere(client, store, scene, visit, page_status=303, action_status=303)


async def test_a_revoked_session_is_refused_on_the_next_request(
    browser: SignedIn, world: World, scene: IncidentScene, store: Store, visit: str
) -> None:
    client, _ = await browser(Role.COORDINATOR, world.agency.id)
    cookie = client.cookies["console_session"]
    # Firebase compares whole seconds: a session issued in the second of its revocation would survive it.
    await asyncio.sleep(1.1)
    token = await _token(client)
    signed_out = await client.post("/console/signout", data={"csrf_token": token})
    assert signed_out.status_code == 303 and "console_session" not in client.cookies
    client.cookies.set("console_session", cookie, domain="carecore.test", path="/console")  # a stolen copy
    await _refused_everywhere(client, store, scene, visit, page_status=303, action_status=303)


def _with_expiry(cookie: str, expires: float) -> str:
    """The session cookie with another expiry; the Auth emulator's cookies are unsigned, so it verifies."""
    header, payload, signature = cookie.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["exp"] = int(expires)
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{encoded}.{signature}"


async def test_an_expired_session_is_refused_and_changes_nothing(
    browser: SignedIn, world: World, scene: IncidentScene, store: Store, visit: str
) -> None:
    client, _ = await browser(Role.COORDINATOR, world.agency.id)
    cookie = client.cookies["console_session"]
    client.cookies.set(
        "console_session", _with_expiry(cookie, time.time() + 600), domain="carecore.test", path="/console"
    )
    assert (await client.get("/console/now")).status_code == 200, "a rewritten but live cookie still passes"
    client.cookies.set(
        "console_session", _with_expiry(cookie, time.time() - 60), domain="carecore.test", path="/console"
    )
    await _refused_everywhere(client, store, scene, visit, page_status=303, action_status=303)


async def test_a_change_without_the_csrf_token_is_refused_and_writes_nothing(
    browser: SignedIn, world: World, scene: IncidentScene, store: Store
) -> None:
    client, _ = await browser(Role.COORDINATOR, world.agency.id)
    before = await _document(store, scene.open_id)
    await client.get("/console/now")
    for action, fields in ACTIONS.items():
        missing = await client.post(f"/console/incidents/{scene.open_id}/{action}", data=fields)
        wrong = await client.post(
            f"/console/incidents/{scene.open_id}/{action}", data={**fields, "csrf_token": "forged"}
        )
        assert missing.status_code == wrong.status_code == 403, action
    assert await _document(store, scene.open_id) == before
    assert (await client.post("/console/signout")).status_code == 403
    assert (await client.get("/console/now")).status_code == 200, "the session survived the forged sign-out"
    session = await client.post("/console/session", json={"idToken": "x"})
    assert session.status_code == 403


async def test_the_session_cookie_is_httponly_strict_and_secure_outside_development(
    browser: SignedIn, world: World
) -> None:
    client, _ = await browser(None, world.agency.id)
    page = await client.get("/console/signin")
    assert "Secure" in page.headers["set-cookie"] and "SameSite=strict" in page.headers["set-cookie"]
    bad = await client.post(
        "/console/session", json={"idToken": "not-a-token"}, headers={"X-CSRF-Token": csrf_of(page.text)}
    )
    assert bad.status_code == 401 and "set-cookie" not in bad.headers


async def test_graphiql_and_htmx_come_from_the_apps_own_npm_assets(browser: SignedIn, web_assets: None) -> None:
    client, _ = await browser(None)
    ide = await client.get("/graphql", headers={"Accept": "text/html"})
    assert ide.status_code == 200 and "/console/assets/graphiql.min.js" in ide.text
    assert "unpkg" not in ide.text and "cdn" not in ide.text.lower()
    for name in ("graphiql.min.js", "graphiql.min.css", "react.production.min.js", "htmx.min.js", "axe.min.js"):
        assert (await client.get(f"/console/assets/{name}")).status_code == 200, name
    assert (await client.get("/console/assets/..%2Fpackage.json")).status_code == 404


async def test_the_incident_page_shows_each_recipient_and_what_reached_them(
    browser: SignedIn, world: World, scene: IncidentScene, ports: Ports
) -> None:
    await route_due(ports, owner="test")  # the ladder's first step asked for alerts; route them to people
    client, _ = await browser(Role.COORDINATOR, world.agency.id)
    page = await client.get(f"/console/incidents/{scene.open_id}")
    assert page.status_code == 200
    assert world.guardian.display_name in page.text and "QUEUED" in page.text, page.text
    board = await client.get("/console/now")
    assert world.guardian.display_name in board.text, "Now shows who was alerted"


async def test_a_flag_confirmed_from_the_review_queue_becomes_an_incident_on_now(
    browser: SignedIn, world: World, scene: IncidentScene, store: Store
) -> None:
    client, _ = await browser(Role.COORDINATOR, world.agency.id)
    queue = await client.get("/console/review")
    assert queue.status_code == 200 and f'data-incident="{scene.review_id}"' in queue.text
    assert scene.open_id not in queue.text, "only flags waiting for review"
    before = await client.get("/console/now")
    assert f'data-incident="{scene.review_id}"' not in before.text

    confirmed = await client.post(
        f"/console/incidents/{scene.review_id}/confirm",
        data={"csrf_token": csrf_of(queue.text), "severity": "HIGH", "note": "Seen on camera", "back": "review"},
    )
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/console/review"
    incident = await store.incidents.get(scene.review_id)
    assert incident is not None and incident.status.value == "OPEN" and incident.severity.value == "HIGH"
    after = await client.get("/console/now")
    assert f'data-incident="{scene.review_id}"' in after.text
    assert f'data-incident="{scene.review_id}"' not in (await client.get("/console/review")).text


async def test_a_refused_assignment_shows_its_detail_and_an_accepted_one_the_history(
    browser: SignedIn, world: World, visit: str, store: Store
) -> None:
    client, _ = await browser(Role.COORDINATOR, world.agency.id)
    page = await client.get(f"/console/shifts/{visit}")
    assert page.status_code == 200 and world.caregiver_on_team.display_name in page.text
    token = csrf_of(page.text)
    url = f"/console/shifts/{visit}/assign"
    no_reason = await client.post(url, data={"csrf_token": token, "caregiver_id": world.caregiver_off_team.id})
    assert no_reason.status_code == 400 and "Say why" in no_reason.text
    nobody = await client.post(url, data={"csrf_token": token, "caregiver_id": world.guardian.id, "reason": "x"})
    assert nobody.status_code == 400 and "refusal" in nobody.text, "a guardian is no caregiver"
    done = await client.post(
        url, data={"csrf_token": token, "caregiver_id": world.caregiver_off_team.id, "reason": "Sick today"}
    )
    assert done.status_code == 303, done.text
    shift = await store.shifts.get(visit)
    assert shift is not None and shift.caregiver_id == world.caregiver_off_team.id
    assert shift.history[-1].reason == "Sick today"
    assert "Sick today" in (await client.get(f"/console/shifts/{visit}")).text


async def test_people_list_and_a_persons_page_with_guardians_team_and_plans(
    browser: SignedIn, world: World, store: Store
) -> None:
    client, _ = await browser(Role.COORDINATOR, world.agency.id)
    listing = await client.get("/console/people", params={"search": world.minji.name[1:]})
    assert listing.status_code == 200 and f"/console/people/{world.minji.id}" in listing.text
    assert world.jiho.name not in listing.text
    page = await client.get(f"/console/people/{world.minji.id}")
    assert page.status_code == 200
    assert world.guardian.display_name in page.text and world.caregiver_on_team.display_name in page.text
    assert "ACTIVE" in page.text
    other, _ = await browser(Role.COORDINATOR, world.other_agency_coordinator.agency_id)
    assert (await other.get(f"/console/people/{world.minji.id}")).status_code == 404
    assert world.minji.name not in (await other.get("/console/people")).text
    family, _ = await browser(Role.FAMILY, world.agency.id)
    assert (await family.get(f"/console/people/{world.minji.id}")).status_code == 403


async def test_a_draft_is_approved_from_the_persons_page(browser: SignedIn, world: World, ports: Ports) -> None:
    plan = await create_draft(ports, world.coordinator.principal(), world.minji.id, None)
    client, _ = await browser(Role.COORDINATOR, world.agency.id)
    page = await client.get(f"/console/people/{world.minji.id}")
    assert f'data-plan="{plan.id}"' in page.text
    url = f"/console/plans/{plan.id}/approve"
    assert (await client.post(url, data={"expected_revision": str(plan.revision)})).status_code == 403
    stale = await client.post(url, data={"csrf_token": csrf_of(page.text), "expected_revision": "999"})
    assert stale.status_code in (400, 409), stale.text
    done = await client.post(url, data={"csrf_token": csrf_of(page.text), "expected_revision": str(plan.revision)})
    assert done.status_code == 303 and done.headers["location"] == f"/console/people/{world.minji.id}"
    approved = await ports.store.care_plans.get(plan.id)
    assert approved is not None and approved.status.value == "ACTIVE"


async def test_the_coverage_week_shows_shifts_and_opens_one(
    browser: SignedIn, world: World, visit: str, store: Store
) -> None:
    client, _ = await browser(Role.COORDINATOR, world.agency.id)
    week = await client.get("/console/coverage")
    assert week.status_code == 200 and f"/console/shifts/{visit}" in week.text
    assert world.caregiver_on_team.display_name in week.text
    token = csrf_of(week.text)
    no_swap = await client.post(f"/console/shifts/{visit}/swap", data={"decision": "approve", "csrf_token": token})
    assert no_swap.status_code == 409, no_swap.text
    opened = await client.post(
        "/console/coverage/open", data={**OPEN_SHIFT, "person_id": world.minji.id, "csrf_token": token}
    )
    assert opened.status_code == 303 and opened.headers["location"] == "/console/coverage?week=2026-11-23"
    assert await store.db["shifts"].count_documents({"person_id": world.minji.id, "status": "OPEN"}) == 1
    other, _ = await browser(Role.COORDINATOR, world.other_agency_coordinator.agency_id)
    page = await other.get("/console/coverage?week=2026-11-23")
    assert page.status_code == 200 and world.minji.name not in page.text and visit not in page.text
    refused = await other.post(
        "/console/coverage/open", data={**OPEN_SHIFT, "person_id": world.minji.id, "csrf_token": csrf_of(page.text)}
    )
    assert refused.status_code in (400, 404) and world.minji.name not in refused.text
    assert await store.db["shifts"].count_documents({"person_id": world.minji.id, "status": "OPEN"}) == 1


async def test_now_lists_people_nobody_has_reached_longest_first_with_the_last_human_contact(
    browser: SignedIn,
    world: World,
    ports: Ports,
    calls: AiService,  # noqa: F811
) -> None:
    client, _ = await browser(Role.COORDINATOR, world.agency.id)
    before = await client.get("/console/now")
    for attempt in (1, 2, 3):
        await call(ports, world, calls, CallOutcome.NOT_ANSWERED, attempt=attempt)
    await race(ports)

    after = await client.get("/console/now")
    other, _ = await browser(Role.COORDINATOR, world.other_agency_coordinator.agency_id)
    elsewhere = await other.get("/console/now")

    assert f'data-person="{world.minji.id}"' not in before.text
    row = after.text.split(f'<tr class="unreachable" data-person="{world.minji.id}">', 1)[1].split("</tr>", 1)[0]
    assert world.minji.name in row and "담당자 전화 필요" in row and "없음" in row  # no human contact yet
    assert f'data-person="{world.minji.id}"' not in elsewhere.text


async def test_the_coverage_week_is_a_grid_of_days_with_support_hours_against_shifts(
    browser: SignedIn, world: World, visit: str
) -> None:
    client, _ = await browser(Role.COORDINATOR, world.agency.id)
    page = await client.get("/console/coverage?week=2026-11-23")
    assert page.status_code == 200
    row = page.text.split(f'<tr data-person="{world.minji.id}" class="has-gap">', 1)[1].split("</tr>", 1)[0]
    assert row.count("<td data-day=") == 7
    thursday = row.split('<td data-day="2026-11-26"', 1)[1].split("</td>", 1)[0]  # the visit, Seoul time
    assert f'data-shift="{visit}"' in thursday and "09:00-11:00" in thursday
    assert world.caregiver_on_team.display_name in thursday
    assert 'class="gap"' in thursday, "the rest of the day is marked uncovered"
    # Minji needs support around the clock: 168 h, 2 h of them in a shift; Seoul's week began at its midnight.
    assert "168 h" in row and "2 h" in row and "166 h" in row


async def test_refused_assignments_show_their_detail_and_stay_in_the_shifts_history(
    browser: SignedIn, world: World, visit: str, store: Store, ports: Ports
) -> None:
    coordinator = world.coordinator.principal()
    shift = await store.shifts.get(visit)
    assert shift is not None
    busy = ShiftPlan(world.jiho.id, shift.start, shift.end, caregiver_id=world.caregiver_off_team.id)
    conflicting = await schedule_shift(ports, coordinator, busy)
    client, _ = await browser(Role.COORDINATOR, world.agency.id)
    token = csrf_of((await client.get(f"/console/shifts/{visit}")).text)
    url = f"/console/shifts/{visit}/assign"
    before = await store.db["shifts"].find_one({"_id": visit})

    overlap = await client.post(
        url, data={"csrf_token": token, "caregiver_id": world.caregiver_off_team.id, "reason": "Sick today"}
    )
    assert overlap.status_code == 400 and "already has a shift" in overlap.text
    assert f'<a href="/console/shifts/{conflicting.id}">' in overlap.text.split('id="refusal"', 1)[1]

    no_reason = await client.post(url, data={"csrf_token": token, "caregiver_id": world.caregiver_off_team.id})
    assert no_reason.status_code == 400, "a form error, not an attempt: it stays out of the history"

    # Friday's open shift would take the caregiver of Thursday's visit past a weekly limit of 3 h.
    friday = shift.start + timedelta(days=1)
    opened = await schedule_shift(ports, coordinator, ShiftPlan(world.jiho.id, friday, friday + timedelta(hours=4)))
    limit = CaregiverProfile(world.caregiver_on_team.id, world.agency.id, max_weekly_hours=3)
    await set_caregiver_profile(ports, coordinator, limit, expected_revision=0)
    over = await client.post(
        f"/console/shifts/{opened.id}/assign", data={"csrf_token": token, "caregiver_id": world.caregiver_on_team.id}
    )
    assert over.status_code == 400
    assert "2026-11-23: Already scheduled 2 h + This shift 4 h &gt; Weekly limit 3 h" in over.text or (
        "2026-11-23: 이미 배정된 시간 2 h + 이 근무 4 h &gt; 주간 한도 3 h" in over.text
    )
    assert (await store.shifts.get(opened.id)).caregiver_id is None  # type: ignore[union-attr]

    assert await store.db["shifts"].find_one({"_id": visit}) == before, "a refusal wrote to the shift"
    history = (await client.get(f"/console/shifts/{visit}")).text.split('id="history"', 1)[1]
    assert history.count('class="refused"') == 1
    assert "already had a shift at that time" in history or "이미 다른 근무가 있음" in history


async def test_a_missing_qualification_is_shown_then_overridden_with_a_reason(
    browser: SignedIn, world: World, store: Store, ports: Ports
) -> None:
    start = ports.clock.now() + timedelta(days=2)
    plan = ShiftPlan(world.jiho.id, start, start + timedelta(hours=2), required_qualifications=("행동지원",))
    opened = await schedule_shift(ports, world.coordinator.principal(), plan)
    client, _ = await browser(Role.COORDINATOR, world.agency.id)
    token = csrf_of((await client.get(f"/console/shifts/{opened.id}")).text)
    url = f"/console/shifts/{opened.id}/assign"
    lacking = await client.post(url, data={"csrf_token": token, "caregiver_id": world.caregiver_off_team.id})
    assert lacking.status_code == 400
    refusal = lacking.text.split('id="refusal"', 1)[1].split("</div>", 1)[0]
    assert "행동지원" in refusal
    assert (await store.shifts.get(opened.id)).caregiver_id is None  # type: ignore[union-attr]

    data = {"csrf_token": token, "caregiver_id": world.caregiver_off_team.id, "override_reason": "Trained last week"}
    assert (await client.post(url, data=data)).status_code == 303
    placed = await store.shifts.get(opened.id)
    assert placed is not None and placed.caregiver_id == world.caregiver_off_team.id
    assert placed.qualification_override is not None and placed.qualification_override.reason == "Trained last week"
    assert placed.qualification_override.missing == ("행동지원",)
