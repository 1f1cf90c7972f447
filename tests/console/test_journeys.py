"""The console in a real browser: journey (a) of issue 11.

A CRITICAL flag arrives through the webhook while the coordinator has Now open; it appears without a
reload; the coordinator acknowledges it with a note; the ladder stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, expect

from app.server import build_app
from app.settings import Settings
from carecore.access.principal import Principal
from carecore.clock import SystemClock
from carecore.errors import DomainError
from carecore.incidents.ai_services import signed_headers
from carecore.incidents.models import TimelineAction
from carecore.ports import Ports
from carecore.shifts.models import Shift
from carecore.shifts.scheduling import ShiftPlan, schedule_shift
from carecore.shifts.swaps import request_swap, respond_to_swap
from carecore.storage.store import Store
from console.assets import WEB_TOOLS
from devtools.auth_emulator import create_user, ensure_npm_packages
from fixtures.demo import demo_accounts, demo_ids, load_demo
from fixtures.demo_incidents import DEMO_WEBHOOK_SECRET
from fixtures.demo_people import user_id
from tests.app.servers import serving
from tests.conftest import PROJECT_ID
from tests.console.browser import chromium, screenshot_path, serious_accessibility_violations, sign_in
from tests.support import FakeClock, RecordingClaims, RefusingTokens


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    ensure_npm_packages(WEB_TOOLS)
    async with chromium() as launched:
        yield launched


@pytest.fixture
def live_clock() -> FakeClock:
    """The server's clock: real time, so the webhook's signatures are fresh, moved on by the test."""
    return FakeClock(SystemClock().now())


@pytest.fixture
async def server(
    mongo_uri: str, database_name: str, auth_host: str, store: Store, live_clock: FakeClock
) -> AsyncIterator[str]:
    settings = Settings(
        environment="development",  # plain http on loopback: the session cookie is not Secure here
        mongodb_uri=mongo_uri,
        database=database_name,
        firebase_project_id=PROJECT_ID,
        auth_emulator_host=auth_host,
        graphiql=True,
        introspection=True,
        worker_poll_seconds=0.2,
    )
    await load_demo(store, live_clock.now() - timedelta(hours=1))
    for account in demo_accounts():
        create_user(
            auth_host,
            PROJECT_ID,
            uid=account.uid,
            email=account.email,
            password=account.password,
            display_name=account.display_name,
            custom_claims=account.claims,
        )
    app = build_app(settings, clock=live_clock)
    async with serving(app) as host:
        yield f"http://{host}"


def _flag(external_id: str, type: str = "SEIZURE", confidence: float = 0.95) -> bytes:
    return json.dumps(
        {
            "externalId": external_id,
            "personRef": demo_ids().seizure_person_wellness_ref,
            "type": type,
            "confidence": confidence,
            "detector": "wearable-seizure",
            "modelVersion": "2.1",
            "evidence": {"summary": "Rhythmic movement for 120 s", "signals": []},
        }
    ).encode()


async def _send_flag(server: str, clock: FakeClock, raw: bytes) -> str:
    """What the AI service does: a signed POST to the webhook; returns the incident it opened."""
    headers = signed_headers(demo_ids().ai_service, DEMO_WEBHOOK_SECRET, raw, at=int(clock.now().timestamp()))
    async with httpx.AsyncClient(base_url=server, trust_env=False) as webhook:
        sent = await webhook.post("/ingest/flags", content=raw, headers={**headers, "Content-Type": "application/json"})
    assert sent.status_code == 202, sent.text
    return str(sent.json()["incidentId"])


async def test_a_a_critical_flag_appears_on_now_and_is_acknowledged_with_a_note(
    browser: Browser, server: str, store: Store, live_clock: FakeClock
) -> None:
    coordinator = next(a for a in demo_accounts() if a.uid == "demo-coordinator-2")  # English-speaking
    context = await browser.new_context(base_url=server)
    page = await context.new_page()
    errors: list[str] = []
    requested: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: requested.append(r.url))
    try:
        await page.goto("/console/signin")
        assert await serious_accessibility_violations(page) == []
        # The stream answers once it listens: only then does the flag count as "arriving while Now is open".
        async with page.expect_response(lambda r: r.url.endswith("/console/now/events"), timeout=30_000):
            await sign_in(page, coordinator.email, coordinator.password)
        await page.evaluate("window.__stillTheSamePage = true")

        incident_id = await _send_flag(server, live_clock, _flag("journey-a"))
        sent_at = time.monotonic()

        row = page.locator(f'tr[data-incident="{incident_id}"]')
        await expect(row).to_be_visible(timeout=10_000)
        shown_after = time.monotonic() - sent_at
        assert shown_after < 2.0, f"the new incident took {shown_after:.1f} s to appear"
        assert any(url.endswith("/console/now/events") for url in requested), "Now follows the events stream"
        countdown = row.locator("time.countdown")
        await expect(countdown).not_to_have_text(await countdown.text_content() or "", timeout=3_000)  # it ticks
        await expect(row).to_contain_text("step 1")
        assert await page.evaluate("window.__stillTheSamePage === true"), "the page reloaded"
        await page.screenshot(path=str(screenshot_path("journey_a_now")), full_page=True)
        assert await serious_accessibility_violations(page) == []

        await row.locator("a").click()
        await page.wait_for_url(f"**/console/incidents/{incident_id}")
        await page.fill("#ack-note", "Called her daughter; seizure over, staying with her")
        await page.click("form[action$='/acknowledge'] button")
        await expect(page.locator("#status")).to_have_text("ACKNOWLEDGED")
        await expect(page.locator("#ladder")).to_contain_text("ladder stopped")
        await page.screenshot(path=str(screenshot_path("journey_a_acknowledged")), full_page=True)
        assert await serious_accessibility_violations(page) == []
    finally:
        await context.close()

    acknowledged = await store.incidents.get(incident_id)
    assert acknowledged is not None and acknowledged.escalation.due_at is None
    steps_then = [e for e in acknowledged.timeline if e.action in (TimelineAction.ALERTED, TimelineAction.ESCALATED)]
    live_clock.advance(timedelta(hours=2))  # past every step of the CRITICAL ladder
    await asyncio.sleep(1.5)  # several passes of the background workers
    later = await store.incidents.get(incident_id)
    assert later is not None
    steps_now = [e for e in later.timeline if e.action in (TimelineAction.ALERTED, TimelineAction.ESCALATED)]
    assert steps_now == steps_then, "the ladder went on after the acknowledgement"
    assert not [e for e in errors if "Content Security Policy" in e], errors


async def test_graphiql_renders_from_the_apps_own_assets_without_a_cdn(browser: Browser, server: str) -> None:
    context = await browser.new_context(base_url=server)
    page = await context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server) else None)
    try:
        await page.goto("/graphql")
        await expect(page.locator(".graphiql-container")).to_be_visible(timeout=15_000)
        await page.screenshot(path=str(screenshot_path("graphiql")))
    finally:
        await context.close()
    assert outside == [], f"GraphiQL fetched from elsewhere: {outside}"


async def test_c_a_low_confidence_flag_confirmed_in_the_review_queue_becomes_an_incident_on_now(
    browser: Browser, server: str, store: Store, live_clock: FakeClock
) -> None:
    coordinator = next(a for a in demo_accounts() if a.uid == "demo-coordinator-2")
    incident_id = await _send_flag(server, live_clock, _flag("journey-c", "WANDERING", 0.2))
    flagged = await store.incidents.get(incident_id)
    assert flagged is not None and flagged.status.value == "IN_REVIEW"
    context = await browser.new_context(base_url=server)
    page = await context.new_page()
    try:
        await sign_in(page, coordinator.email, coordinator.password)
        await expect(page.locator(f'tr[data-incident="{incident_id}"]')).to_have_count(0)
        await page.goto("/console/review")
        item = page.locator(f'article[data-incident="{incident_id}"]')
        await expect(item).to_be_visible()
        assert await serious_accessibility_violations(page) == []
        await page.screenshot(path=str(screenshot_path("journey_c_review")), full_page=True)
        await item.locator("form[action$='/confirm'] button").click()
        await page.wait_for_url("**/console/review")
        await expect(page.locator(f'article[data-incident="{incident_id}"]')).to_have_count(0)
        await page.goto("/console/now")
        await expect(page.locator(f'tr[data-incident="{incident_id}"]')).to_be_visible()
        await page.screenshot(path=str(screenshot_path("journey_c_now")), full_page=True)
        await page.goto("/console/people")  # the People screens pass the accessibility check too
        assert await serious_accessibility_violations(page) == []
        await page.locator("tr.person a").first.click()
        await expect(page.locator("#h-plans")).to_be_visible()
        assert await serious_accessibility_violations(page) == []
        await page.screenshot(path=str(screenshot_path("person")), full_page=True)
    finally:
        await context.close()
    confirmed = await store.incidents.get(incident_id)
    assert confirmed is not None and confirmed.status.value == "OPEN"


async def _schedule_with_first_free(
    ports: Ports, coordinator: Principal, person_id: str, start: datetime, candidates: list[str]
) -> tuple[Shift, str]:
    """Schedules the shift with the first demo caregiver free then (the demo's own shifts fill some hours)."""
    for caregiver_id in candidates:
        plan = ShiftPlan(person_id=person_id, start=start, end=start + timedelta(hours=1), caregiver_id=caregiver_id)
        with contextlib.suppress(DomainError):
            return await schedule_shift(ports, coordinator, plan), caregiver_id
    raise AssertionError("no demo caregiver was free")


async def test_b_a_late_visit_is_reassigned_after_a_busy_caregiver_is_refused(
    browser: Browser, server: str, store: Store, live_clock: FakeClock
) -> None:
    ids = demo_ids()
    coordinator = next(a for a in demo_accounts() if a.uid == "demo-coordinator-2")
    principal = (await store.users.get_by_firebase_uid(coordinator.uid)).principal()  # type: ignore[union-attr]
    ports = Ports(store=store, clock=live_clock, claims=RecordingClaims(), tokens=RefusingTokens())
    start = live_clock.now().replace(second=0, microsecond=0) + timedelta(days=3)
    caregivers = [user_id(f"demo-caregiver-{n}") for n in range(1, 8)]
    late, first = await _schedule_with_first_free(ports, principal, ids.seizure_person, start, caregivers)
    busy_shift, busy = await _schedule_with_first_free(
        ports, principal, ids.other_person, start, [c for c in caregivers if c != first]
    )
    live_clock.advance(timedelta(days=3, minutes=15))  # nobody checked in: the visit is late
    context = await browser.new_context(base_url=server)
    page = await context.new_page()
    try:
        await sign_in(page, coordinator.email, coordinator.password)
        visit = page.locator(f'tr[data-shift="{late.id}"]')
        await expect(visit).to_contain_text("late")
        await visit.locator("a").click()
        await page.wait_for_url(f"**/console/shifts/{late.id}")

        await page.select_option("#caregiver_id", busy)
        await page.fill("#assign-reason", "Not answering the phone")
        await page.click("form[action$='/assign'] button")
        await expect(page.locator("#refusal")).to_contain_text("already has a shift")
        await expect(page.locator(f'#refusal a[href="/console/shifts/{busy_shift.id}"]')).to_be_visible()
        await expect(page.locator("#history li.refused")).to_contain_text("already had a shift at that time")
        await page.screenshot(path=str(screenshot_path("journey_b_conflict")), full_page=True)
        assert await serious_accessibility_violations(page) == []
        live_clock.advance(timedelta(minutes=2))  # the coordinator looks for someone free

        await page.select_option("#caregiver_id", ids.idle_caregiver)
        await page.fill("#assign-reason", "Not answering the phone")
        await page.click("form[action$='/assign'] button")
        await page.wait_for_url(f"**/console/shifts/{late.id}")
        await expect(page.locator("#refusal")).to_have_count(0)
        # created, assigned, the refused attempt (the conflict), reassigned: in that order
        await expect(page.locator("#history li")).to_have_count(4)
        await expect(page.locator("#history li").nth(2)).to_contain_text("REFUSED")
        await expect(page.locator("#history li").nth(2)).to_contain_text("already had a shift at that time")
        await expect(page.locator("#history li").nth(3)).to_contain_text("REASSIGNED")
        await page.screenshot(path=str(screenshot_path("journey_b_reassigned")), full_page=True)
        monday = (start.astimezone(ZoneInfo("Asia/Seoul")).date()).isoformat()
        await page.goto(f"/console/coverage?week={monday}")  # the week shows the shift with its new caregiver
        await expect(page.locator(f'a[href="/console/shifts/{late.id}"]')).to_be_visible()
        assert await serious_accessibility_violations(page) == []
        await page.screenshot(path=str(screenshot_path("coverage")), full_page=True)
    finally:
        await context.close()
    shift = await store.shifts.get(late.id)
    assert shift is not None and shift.caregiver_id == ids.idle_caregiver
    assert [(h.action.value, h.to_caregiver_id) for h in shift.history][1:] == [
        ("ASSIGNED", first),
        ("REASSIGNED", ids.idle_caregiver),
    ]


async def test_a_swap_both_caregivers_agreed_on_is_approved_and_the_shift_changes_hands(
    browser: Browser, server: str, store: Store, live_clock: FakeClock
) -> None:
    ids = demo_ids()
    coordinator = next(a for a in demo_accounts() if a.uid == "demo-coordinator-2")
    agency = await store.agencies.get(ids.agency)
    assert agency is not None
    await store.agencies.upsert(dataclasses.replace(agency, swap_requires_approval=True))
    principal = (await store.users.get_by_firebase_uid(coordinator.uid)).principal()  # type: ignore[union-attr]
    ports = Ports(store=store, clock=live_clock, claims=RecordingClaims(), tokens=RefusingTokens())
    start = live_clock.now().replace(second=0, microsecond=0) + timedelta(days=4)
    caregivers = [user_id(f"demo-caregiver-{n}") for n in range(1, 8)]
    shift, giver = await _schedule_with_first_free(ports, principal, ids.seizure_person, start, caregivers)
    asker = await store.users.get(giver)
    assert asker is not None
    taker = None
    for candidate in (c for c in caregivers if c != giver):
        with contextlib.suppress(DomainError):  # the demo's own shifts keep some of them busy then
            await request_swap(ports, asker.principal(), shift.id, to_caregiver_id=candidate)
            taker = await store.users.get(candidate)
            break
    assert taker is not None, "no demo caregiver could take the swap"
    waiting = await respond_to_swap(ports, taker.principal(), shift.id, accept=True)
    assert waiting.current_swap is not None and waiting.current_swap.status.value == "AWAITING_APPROVAL"

    context = await browser.new_context(base_url=server)
    page = await context.new_page()
    try:
        await sign_in(page, coordinator.email, coordinator.password)
        monday = start.astimezone(ZoneInfo("Asia/Seoul")).date().isoformat()
        await page.goto(f"/console/coverage?week={monday}")
        card = page.locator(f'div.swap[data-shift="{shift.id}"]')
        await expect(card).to_contain_text(f"{asker.display_name} → {taker.display_name}")
        assert await serious_accessibility_violations(page) == []
        await page.screenshot(path=str(screenshot_path("swap_waiting")), full_page=True)
        await card.locator("button[value=approve]").click()
        await page.wait_for_url("**/console/coverage?week=*")
        await expect(page.locator(f'div.swap[data-shift="{shift.id}"]')).to_have_count(0)
        await expect(page.locator(f'li[data-shift="{shift.id}"]')).to_contain_text(taker.display_name)
        await page.screenshot(path=str(screenshot_path("swap_approved")), full_page=True)
        await page.locator(f'li[data-shift="{shift.id}"] a').click()
        await expect(page.locator("#caregiver")).to_have_text(taker.display_name)
        await expect(page.locator("#history li").last).to_contain_text("SWAPPED")
    finally:
        await context.close()
    swapped = await store.shifts.get(shift.id)
    assert swapped is not None and swapped.caregiver_id == taker.id
    assert swapped.history[-1].action.value == "SWAPPED" and swapped.history[-1].from_caregiver_id == giver
