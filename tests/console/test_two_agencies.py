"""Every console route, for every role of agency B, against agency A's objects: nothing seen, nothing written.

The routes come from the app itself, so a new route without a case here fails the test: each path
parameter needs an agency-A object to aim at, and each route is either agency data or listed as not.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from carecore.access.principal import Role
from carecore.care_plans.service import create_draft
from carecore.ports import Ports
from carecore.shifts.scheduling import ShiftPlan, schedule_shift
from carecore.storage.store import Store
from tests.conftest import World
from tests.console.conftest import SignedIn, csrf_of
from tests.console.test_routes import ACTIONS, OPEN_SHIFT
from tests.schema.incident_scene import incident_scene
from tests.support import plan_content

# Routes that hold no agency's data: the redirect to Now, signing in and out, and the vendored scripts.
NOT_AGENCY_DATA = {"/console", "/console/signin", "/console/session", "/console/signout", "/console/assets/{name}"}
# A server-sent event stream never ends, so a plain request would wait forever; its filter by agency
# is `console.routes._changes`.
STREAMS = {"/console/now/events"}
B_ROLES = (Role.COORDINATOR, Role.CAREGIVER, Role.FAMILY)


async def agency_a(ports: Ports, world: World) -> dict[str, str]:
    """One object of agency A for each path parameter a console route takes."""
    start = ports.clock.now() + timedelta(days=1)
    plan = ShiftPlan(world.minji.id, start, start + timedelta(hours=2), caregiver_id=world.caregiver_on_team.id)
    shift = await schedule_shift(ports, world.coordinator.principal(), plan)
    draft = await create_draft(ports, world.coordinator.principal(), world.minji.id, plan_content("초안"))
    incidents = await incident_scene(ports, world)
    return {"shift_id": shift.id, "person_id": world.minji.id, "plan_id": draft.id, "incident_id": incidents.open_id}


def console_routes(app: Starlette) -> list[Route]:
    return [r for r in app.routes if isinstance(r, Route) and r.path.startswith("/console")]


def paths(route: Route, ids: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    """The route's URLs aimed at agency A's objects, each with the form a browser would post."""
    names = list(route.param_convertors)
    unknown = set(names) - {*ids, "action"}
    assert not unknown, f"{route.path}: no agency-A object for {sorted(unknown)}: add one to agency_a()"
    url = route.path
    for name in names:
        if name != "action":
            url = url.replace("{" + name + "}", ids[name])
    if "action" in names:
        return [(url.replace("{action}", action), fields) for action, fields in ACTIONS.items()]
    form = {**OPEN_SHIFT, "person_id": ids["person_id"]} if route.path == "/console/coverage/open" else {}
    return [(url, {**form, "caregiver_id": ids["person_id"], "decision": "approve", "reason": "x"})]


async def snapshot(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Everything but the audit trail, which records refused attempts too."""
    names = [n for n in await store.db.list_collection_names() if n != "audit"]
    return {n: [d async for d in store.db[n].find().sort("_id", 1)] for n in sorted(names)}


@pytest.mark.parametrize("role", B_ROLES, ids=[r.value for r in B_ROLES])
async def test_every_console_route_shows_and_changes_nothing_of_another_agency(
    role: Role, console_app: Starlette, browser: SignedIn, world: World, ports: Ports, store: Store
) -> None:
    ids = await agency_a(ports, world)
    client, _ = await browser(role, world.other_agency_coordinator.agency_id)
    token = csrf_of((await client.get("/console/signin")).text)
    secrets_of_a = [world.minji.name, world.jiho.name, *ids.values()]
    before = await snapshot(store)
    checked = 0
    for route in console_routes(console_app):
        if route.path in NOT_AGENCY_DATA or route.path in STREAMS:
            continue
        aimed = bool(route.param_convertors)
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            for url, form in paths(route, ids):
                response: httpx.Response
                if method == "GET":
                    response = await client.get(url)
                else:
                    response = await client.post(url, data={**form, "csrf_token": token})
                checked += 1
                where = f"{method} {url} as {role.value} of agency B"
                if role is not Role.COORDINATOR:
                    assert response.status_code == 403, where
                elif aimed:
                    assert response.status_code == 404, where
                else:
                    assert response.status_code in (200, 400, 404), where  # B's own pages, or a refused form
                assert not any(s in response.text for s in secrets_of_a), f"{where} shows agency A's data"
    assert checked >= 10
    assert await snapshot(store) == before, "a request of agency B changed something"
