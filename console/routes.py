"""The console's routes under /console; each reads or changes through one core function.

A page needs a coordinator's live session: signed out (or a session that was revoked, expired or no
longer matches the profile) goes to the sign-in page, any other role gets a polite refusal. Every POST
carries the CSRF token, checked before anything else, so a refused request has written nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from carecore.access.principal import Principal, Role
from carecore.agencies.service import get_agency
from carecore.alerts.deliveries import deliveries_of
from carecore.care_plans.service import approve_plan, get_plan_or_raise, list_versions
from carecore.errors import DomainError, Forbidden, NotFound, StateConflict, Unauthenticated, ValidationFailed
from carecore.events.feed import EventFeed
from carecore.incidents.models import CLOSED, LIVE, UNACKNOWLEDGED, Incident, IncidentStatus, Severity
from carecore.incidents.reads import detector_stats, get_incident_or_raise, review_queue
from carecore.incidents.service import (
    acknowledge_incident_at_desk,
    assign_incident,
    confirm_incident,
    dismiss_incident,
    mark_incident_reported,
    reopen_incident,
    resolve_incident,
)
from carecore.pagination import MAX_PAGE_SIZE, PageRequest
from carecore.people.service import get_person_or_raise, list_people, load_people
from carecore.ports import Ports
from carecore.shifts.errors import MissingQualifications, RestTooShort, ShiftOverlap, WeeklyHoursExceeded
from carecore.shifts.queries import get_shift, refused_assignments
from carecore.shifts.scheduling import ShiftPlan, assign_shift, schedule_shift
from carecore.shifts.support import zone
from carecore.shifts.swaps import decide_swap
from carecore.users.service import list_users
from console.assets import vendor_asset
from console.auth import CsrfRefused, check_csrf, end_session, form_fields, principal_of, start_session
from console.config import Wiring
from console.coverage import coverage_week, week_of
from console.now import CURSOR_PARAMS, now_board
from console.texts import locale_of
from console.views import clock_text, countdown_text, render

STATIC = Path(__file__).resolve().parent / "static"
SIGN_IN = "/console/signin"
HEARTBEAT_SECONDS = 15.0

Page = Callable[[Request, Principal], Awaitable[Response]]
Action = Callable[[Ports, Principal, str, Mapping[str, str]], Awaitable[Incident]]


def console_routes(wiring: Wiring) -> list[BaseRoute]:
    def page(handler: Page, *, changes: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if changes:
                try:
                    await check_csrf(request)
                except CsrfRefused:
                    return _refused_csrf(request, wiring)
            principal = await principal_of(request, wiring)
            if principal is None:
                return _to_sign_in(request)
            if principal.role is not Role.COORDINATOR:
                return render(request, wiring, "not_coordinator.html", locale=principal.locale, status_code=403)
            return await handler(request, principal)

        return endpoint

    async def home(_: Request) -> Response:
        return RedirectResponse("/console/now", status_code=303)

    async def sign_in_page(request: Request) -> Response:
        locale = locale_of(request.headers.get("accept-language"))
        return render(request, wiring, "signin.html", locale=locale, config=wiring.config)

    async def create_session(request: Request) -> Response:
        try:
            await check_csrf(request)
        except CsrfRefused:
            return JSONResponse({"error": "csrf"}, status_code=403)
        body = await request.json()
        id_token = body.get("idToken") if isinstance(body, dict) else None
        if not isinstance(id_token, str) or not id_token:
            return JSONResponse({"error": "idToken is required"}, status_code=400)
        response = JSONResponse({"next": "/console/now"})
        try:
            await start_session(response, wiring, id_token)
        except Unauthenticated as exc:
            return JSONResponse({"error": exc.message}, status_code=401)
        return response

    async def sign_out(request: Request) -> Response:
        try:
            await check_csrf(request)
        except CsrfRefused:
            return _refused_csrf(request, wiring)
        response = RedirectResponse(SIGN_IN, status_code=303)
        await end_session(request, response, wiring, await principal_of(request, wiring))
        return response

    async def now(request: Request, actor: Principal) -> Response:
        ports = wiring.ports()
        cursors = {k: v for k, v in request.query_params.items() if k in CURSOR_PARAMS}
        board = await now_board(ports, actor, cursors)
        partial = request.headers.get("hx-request") == "true"
        return render(
            request,
            wiring,
            "now_board.html" if partial else "now.html",
            locale=actor.locale,
            board=board,
            cursors=cursors,
            query=request.url.query,
            **await _clocks(ports, actor),
        )

    async def now_events(request: Request, actor: Principal) -> Response:
        """Server-sent events: 'changed' when an incident of the agency changed on any instance.

        They carry nothing but their name (never an id or health data): the page then fetches the
        board through the usual reads and checks. 204 tells the browser's EventSource not to retry.
        """
        feed = wiring.feed()
        if feed is None:
            return Response(status_code=204)
        return StreamingResponse(
            _changes(feed, actor.agency_id),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def incident(request: Request, actor: Principal) -> Response:
        return await _incident_page(request, actor, error=None)

    async def _incident_page(request: Request, actor: Principal, *, error: DomainError | None) -> Response:
        ports = wiring.ports()
        try:
            found = await get_incident_or_raise(ports, actor, request.path_params["incident_id"])
        except NotFound:
            return render(request, wiring, "not_found.html", locale=actor.locale, status_code=404)
        people = await load_people(ports, actor, [found.person_id])
        deliveries = await deliveries_of(ports, actor, [found.id])
        users = (await list_users(ports, actor, PageRequest(first=MAX_PAGE_SIZE))).items
        return render(
            request,
            wiring,
            "incident.html",
            locale=actor.locale,
            status_code=_status_of(error),
            incident=found,
            person=people.get(found.person_id),
            deliveries=deliveries.get(found.id, []),
            names={u.id: u.display_name for u in users},
            assignees=[u for u in users if u.active and u.role in (Role.COORDINATOR, Role.CAREGIVER)],
            error=error,
            can_confirm=found.status is IncidentStatus.IN_REVIEW,
            can_acknowledge=found.status in UNACKNOWLEDGED,
            can_close=found.status in LIVE,
            can_reopen=found.status in CLOSED,
            can_report=found.report_due_at is not None and found.reported_at is None,
            **await _clocks(ports, actor),
        )

    async def incident_action(request: Request, actor: Principal) -> Response:
        action = _ACTIONS.get(request.path_params["action"])
        incident_id = request.path_params["incident_id"]
        if action is None:
            return render(request, wiring, "not_found.html", locale=actor.locale, status_code=404)
        form = await form_fields(request)
        try:
            await action(wiring.ports(), actor, incident_id, form)
        except NotFound:
            return render(request, wiring, "not_found.html", locale=actor.locale, status_code=404)
        except DomainError as exc:
            return await _incident_page(request, actor, error=exc)
        back = "/console/review" if form.get("back") == "review" else f"/console/incidents/{incident_id}"
        return RedirectResponse(back, status_code=303)

    async def review(request: Request, actor: Principal) -> Response:
        ports = wiring.ports()
        queue = await review_queue(ports, actor, PageRequest(after=request.query_params.get("after") or None))
        people = await load_people(ports, actor, {i.person_id for i in queue.items})
        return render(
            request,
            wiring,
            "review.html",
            locale=actor.locale,
            queue=queue,
            people=people,
            stats=await detector_stats(ports, actor),
            severities=list(Severity),
            **await _clocks(ports, actor),
        )

    async def shift(request: Request, actor: Principal) -> Response:
        return await _shift_page(request, actor, error=None)

    async def _shift_page(request: Request, actor: Principal, *, error: DomainError | None) -> Response:
        ports = wiring.ports()
        try:
            found = await get_shift(ports, actor, request.path_params["shift_id"])
        except NotFound:
            return render(request, wiring, "not_found.html", locale=actor.locale, status_code=404)
        conflict = None
        neighbour = {ShiftOverlap: "conflicting_shift_id", RestTooShort: "neighbouring_shift_id"}.get(type(error))
        if error is not None and neighbour is not None:
            with contextlib.suppress(NotFound):
                conflict = await get_shift(ports, actor, getattr(error, neighbour))
        refusals = await refused_assignments(ports, actor, found.id)
        users = (await list_users(ports, actor, PageRequest(first=MAX_PAGE_SIZE))).items
        person_ids = {found.person_id} | ({conflict.person_id} if conflict else set())
        return render(
            request,
            wiring,
            "shift.html",
            locale=actor.locale,
            status_code=_status_of(error),
            shift=found,
            error=error,
            conflict=conflict,
            missing=error.missing if isinstance(error, MissingQualifications) else (),
            hours=error if isinstance(error, WeeklyHoursExceeded) else None,
            rest=error if isinstance(error, RestTooShort) else None,
            timeline=sorted([*found.history, *refusals], key=lambda entry: entry.at),
            people=await load_people(ports, actor, person_ids),
            names={u.id: u.display_name for u in users},
            caregivers=[u for u in users if u.role is Role.CAREGIVER and u.active],
            **await _clocks(ports, actor),
        )

    async def assign(request: Request, actor: Principal) -> Response:
        shift_id = request.path_params["shift_id"]
        form = await form_fields(request)
        try:
            await assign_shift(
                wiring.ports(),
                actor,
                shift_id,
                caregiver_id=form.get("caregiver_id", ""),
                reason=_opt(form, "reason"),
                override_reason=_opt(form, "override_reason"),
            )
        except NotFound as exc:
            if exc.field == "caregiverId":
                return await _shift_page(request, actor, error=exc)
            return render(request, wiring, "not_found.html", locale=actor.locale, status_code=404)
        except DomainError as exc:
            return await _shift_page(request, actor, error=exc)
        return RedirectResponse(f"/console/shifts/{shift_id}", status_code=303)

    async def people(request: Request, actor: Principal) -> Response:
        ports = wiring.ports()
        search = request.query_params.get("search") or None
        found = await list_people(ports, actor, PageRequest(after=request.query_params.get("after") or None), search)
        return render(
            request,
            wiring,
            "people.html",
            locale=actor.locale,
            page=found,
            search=search,
            **await _clocks(ports, actor),
        )

    async def person(request: Request, actor: Principal) -> Response:
        return await _person_page(request, actor, request.path_params["person_id"], error=None)

    async def _person_page(
        request: Request, actor: Principal, person_id: str, *, error: DomainError | None
    ) -> Response:
        ports = wiring.ports()
        try:
            found = await get_person_or_raise(ports, actor, person_id)
        except NotFound:
            return render(request, wiring, "not_found.html", locale=actor.locale, status_code=404)
        users = (await list_users(ports, actor, PageRequest(first=MAX_PAGE_SIZE))).items
        return render(
            request,
            wiring,
            "person.html",
            locale=actor.locale,
            status_code=_status_of(error),
            person=found,
            error=error,
            plans=await list_versions(ports, actor, found, PageRequest()),
            names={u.id: u.display_name for u in users},
            **await _clocks(ports, actor),
        )

    async def approve(request: Request, actor: Principal) -> Response:
        ports = wiring.ports()
        form = await form_fields(request)
        revision = form.get("expected_revision", "")
        try:
            plan, _ = await get_plan_or_raise(ports, actor, request.path_params["plan_id"])
        except NotFound:
            return render(request, wiring, "not_found.html", locale=actor.locale, status_code=404)
        try:
            await approve_plan(ports, actor, plan.id, expected_revision=int(revision) if revision.isdigit() else -1)
        except DomainError as exc:
            return await _person_page(request, actor, plan.person_id, error=exc)
        return RedirectResponse(f"/console/people/{plan.person_id}", status_code=303)

    async def coverage(request: Request, actor: Principal) -> Response:
        return await _coverage_page(request, actor, error=None)

    async def _coverage_page(request: Request, actor: Principal, *, error: DomainError | None) -> Response:
        ports = wiring.ports()
        cursors = {k: v for k, v in request.query_params.items() if k in ("shifts", "gaps")}
        week = await coverage_week(ports, actor, _day(request.query_params.get("week")), cursors)
        users = (await list_users(ports, actor, PageRequest(first=MAX_PAGE_SIZE))).items
        return render(
            request,
            wiring,
            "coverage.html",
            locale=actor.locale,
            status_code=_status_of(error),
            week=week,
            error=error,
            previous=week.monday - timedelta(days=7),
            following=week.monday + timedelta(days=7),
            names={u.id: u.display_name for u in users},
            people=(await list_people(ports, actor, PageRequest(first=MAX_PAGE_SIZE))).items,
            **await _clocks(ports, actor),
        )

    async def open_a_shift(request: Request, actor: Principal) -> Response:
        ports = wiring.ports()
        form = await form_fields(request)
        try:
            tz = zone(await get_agency(ports, actor.agency_id))
            start = _local_time(form.get("start", ""), tz)
            hours = int(form.get("hours", "0")) if form.get("hours", "").isdigit() else 0
            quals = tuple(q.strip() for q in form.get("qualifications", "").split(",") if q.strip())
            plan = ShiftPlan(form.get("person_id", ""), start, start + timedelta(hours=hours), None, quals)
            opened = await schedule_shift(ports, actor, plan)
        except DomainError as exc:
            return await _coverage_page(request, actor, error=exc)
        week = week_of(opened.start.astimezone(tz).date())
        return RedirectResponse(f"/console/coverage?week={week.isoformat()}", status_code=303)

    async def swap_decision(request: Request, actor: Principal) -> Response:
        form = await form_fields(request)
        try:
            await decide_swap(
                wiring.ports(), actor, request.path_params["shift_id"], approve=form.get("decision") == "approve"
            )
        except NotFound:
            return render(request, wiring, "not_found.html", locale=actor.locale, status_code=404)
        except DomainError as exc:
            return await _coverage_page(request, actor, error=exc)
        week = form.get("week", "")
        return RedirectResponse(f"/console/coverage?week={week}" if _day(week) else "/console/coverage", 303)

    return [
        Route("/console", home),
        Route("/console/signin", sign_in_page),
        Route("/console/session", create_session, methods=["POST"]),
        Route("/console/signout", sign_out, methods=["POST"]),
        Route("/console/now", page(now)),
        Route("/console/now/events", page(now_events)),
        Route("/console/review", page(review)),
        Route("/console/coverage", page(coverage)),
        Route("/console/coverage/open", page(open_a_shift, changes=True), methods=["POST"]),
        Route("/console/shifts/{shift_id}/swap", page(swap_decision, changes=True), methods=["POST"]),
        Route("/console/people", page(people)),
        Route("/console/people/{person_id}", page(person)),
        Route("/console/plans/{plan_id}/approve", page(approve, changes=True), methods=["POST"]),
        Route("/console/shifts/{shift_id}", page(shift)),
        Route("/console/shifts/{shift_id}/assign", page(assign, changes=True), methods=["POST"]),
        Route("/console/incidents/{incident_id}", page(incident)),
        Route("/console/incidents/{incident_id}/{action}", page(incident_action, changes=True), methods=["POST"]),
        Route("/console/assets/{name}", vendor_asset),
        Mount("/console/static", StaticFiles(directory=STATIC), name="console-static"),
    ]


async def _changes(feed: EventFeed, agency_id: str) -> AsyncIterator[str]:
    async with feed.subscribe() as queue:
        yield ": listening\n\n"
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                yield ": still here\n\n"  # keeps proxies from closing an idle stream
                continue
            if event.agency_id == agency_id:
                yield "event: changed\ndata: \n\n"


def _opt(form: Mapping[str, str], name: str) -> str | None:
    return form.get(name) or None


def _yes_no(form: Mapping[str, str], name: str) -> bool | None:
    return {"yes": True, "no": False}.get(form.get(name, ""))


_ACTIONS: dict[str, Action] = {
    "confirm": lambda p, a, i, f: confirm_incident(p, a, i, severity=_severity(f), note=_opt(f, "note")),
    "acknowledge": lambda p, a, i, f: acknowledge_incident_at_desk(p, a, i, note=_opt(f, "note")),
    "assign": lambda p, a, i, f: assign_incident(p, a, i, assignee_id=f.get("assignee_id", ""), note=_opt(f, "note")),
    "resolve": lambda p, a, i, f: resolve_incident(
        p, a, i, outcome=f.get("outcome", ""), note=_opt(f, "note"), actionable=_yes_no(f, "actionable")
    ),
    "dismiss": lambda p, a, i, f: dismiss_incident(p, a, i, reason=f.get("reason", "")),
    "reopen": lambda p, a, i, f: reopen_incident(p, a, i, note=_opt(f, "note")),
    "report": lambda p, a, i, f: mark_incident_reported(p, a, i, reference=_opt(f, "reference"), note=_opt(f, "note")),
}


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _local_time(text: str, tz: ZoneInfo) -> datetime:
    """A datetime-local field's value, in the agency's time zone."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=tz)
    except ValueError as exc:
        raise ValidationFailed("Give the start as a date and a time.", field="start") from exc


def _severity(form: Mapping[str, str]) -> Severity | None:
    """The severity a coordinator chose; anything else keeps the flag's own."""
    chosen = form.get("severity", "")
    return Severity(chosen) if chosen in Severity.__members__ else None


def _status_of(error: DomainError | None) -> int:
    if error is None:
        return 200
    if isinstance(error, Forbidden):
        return 403
    return 409 if isinstance(error, StateConflict) else 400


async def _clocks(ports: Ports, actor: Principal) -> dict[str, Any]:
    tz = zone(await get_agency(ports, actor.agency_id))
    now = ports.clock.now()
    return {"at": clock_text(tz), "left": countdown_text(now, actor.locale), "now": now, "tz": tz.key}


def _to_sign_in(request: Request) -> Response:
    if request.headers.get("hx-request") == "true":
        # htmx would swap the sign-in page into the board; send the whole window there instead.
        return Response(status_code=401, headers={"HX-Redirect": SIGN_IN})
    return RedirectResponse(SIGN_IN, status_code=303)


def _refused_csrf(request: Request, wiring: Wiring) -> Response:
    locale = locale_of(request.headers.get("accept-language"))
    return render(request, wiring, "refused.html", locale=locale, status_code=403)
