"""A platform operator onboards an agency: checked first, idempotent, resumable after a crash, audited."""

from __future__ import annotations

from dataclasses import replace

import pytest

from carecore.access.principal import Role
from carecore.agencies.models import AccountSpec, AgencySpec, AiServiceSpec
from carecore.agencies.onboarding import agency_id_for, onboard_agency
from carecore.errors import ValidationFailed
from carecore.incidents.ai_services import authenticate_webhook, signed_headers
from carecore.ports import Ports
from carecore.storage.store import Store
from carecore.users.service import authenticate
from tests.conftest import World
from tests.crashes import CrashPoints, recover
from tests.support import RecordingClaims

SECRET = "busan-webhook-secret-0123456789abcdefghijk"
SPEC = AgencySpec(
    key="busan-dongrae",
    name="부산 동래 돌봄센터",
    timezone="Asia/Seoul",
    region="부산광역시",
    max_weekly_hours=48,
    min_rest_hours=10,
    swap_requires_approval=True,
    coordinators=(AccountSpec("uid-busan-coord", "오세훈", email="coord@busan.example"),),
    ai_services=(
        AiServiceSpec(AccountSpec("uid-busan-hyodol", "효돌 AI"), service="hyodol", secret=SECRET),
        AiServiceSpec(AccountSpec("uid-busan-calls", "안부전화 AI"), service="calls"),
    ),
)


async def snapshot(store: Store) -> dict[str, list[dict[str, object]]]:
    names = await store.db.list_collection_names()
    return {n: [d async for d in store.db[n].find().sort("_id", 1)] for n in sorted(names)}


async def webhook_accepts(ports: Ports, service_id: str, secret: str) -> bool:
    body = b"{}"
    headers = signed_headers(service_id, secret, body, at=int(ports.clock.now().timestamp()))
    try:
        await authenticate_webhook(
            ports, service_id, headers["X-Carecore-Timestamp"], headers["X-Carecore-Signature"], body
        )
    except Exception:  # noqa: BLE001 - any refusal means the service could not get in
        return False
    return True


async def test_an_onboarded_agency_works_for_its_coordinator_and_ai_services(
    ports: Ports, store: Store, claims: RecordingClaims
) -> None:
    done = await onboard_agency(ports, operator="ops-kim", spec=SPEC)

    agency = await store.agencies.get(done.agency.id)
    assert agency is not None and (agency.name, agency.max_weekly_hours, agency.min_rest_hours) == (
        "부산 동래 돌봄센터",
        48,
        10,
    )
    assert agency.swap_requires_approval
    # The coordinator's token (with the claims published) signs in to the new agency.
    coordinator = await authenticate(ports, "uid-busan-coord", claims.written["uid-busan-coord"])
    assert coordinator.role is Role.COORDINATOR and coordinator.agency_id == agency.id
    # Both AI services verify webhooks: the given secret, and the one generated and shown once.
    hyodol, calls = done.user_ids["uid-busan-hyodol"], done.user_ids["uid-busan-calls"]
    assert list(done.new_secrets) == [calls]
    assert await webhook_accepts(ports, hyodol, SECRET)
    assert await webhook_accepts(ports, calls, done.new_secrets[calls])
    actions = {(e.action, e.actor_id, e.outcome.value) for e in await store.audit.for_object(agency.id)}
    assert actions == {("agency.onboard", "operator:ops-kim", "done")}


async def test_onboarding_the_same_spec_again_changes_nothing_and_keeps_generated_secrets(
    ports: Ports, store: Store
) -> None:
    first = await onboard_agency(ports, operator="ops-kim", spec=SPEC)
    before = {k: v for k, v in (await snapshot(store)).items() if k != "audit"}

    again = await onboard_agency(ports, operator="ops-kim", spec=SPEC)

    assert again.user_ids == first.user_ids and again.new_secrets == {}
    assert {k: v for k, v in (await snapshot(store)).items() if k != "audit"} == before
    calls = first.user_ids["uid-busan-calls"]
    assert await webhook_accepts(ports, calls, first.new_secrets[calls])


async def test_settings_change_when_the_operator_runs_an_edited_spec(ports: Ports, store: Store) -> None:
    await onboard_agency(ports, operator="ops-kim", spec=SPEC)
    await onboard_agency(ports, operator="ops-kim", spec=replace(SPEC, max_weekly_hours=40, timezone="Asia/Tokyo"))
    agency = await store.agencies.get(agency_id_for("busan-dongrae"))
    assert agency is not None and (agency.max_weekly_hours, agency.timezone) == (40, "Asia/Tokyo")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"max_weekly_hours": 0}, "max_weekly_hours"),
        ({"min_rest_hours": 25}, "min_rest_hours"),
        ({"name": "  "}, "name"),
        ({"key": "부산"}, "key"),
        ({"coordinators": ()}, "coordinators"),
        ({"coordinators": (AccountSpec("uid-busan-hyodol", "중복"),)}, "firebase_uid"),
        ({"ai_services": (AiServiceSpec(AccountSpec("uid-x", "x"), service="x", secret="short"),)}, "secret"),
    ],
)
async def test_a_bad_spec_is_refused_before_anything_is_written(
    ports: Ports, store: Store, claims: RecordingClaims, change: dict[str, object], field: str
) -> None:
    before = await snapshot(store)
    with pytest.raises(ValidationFailed) as refused:
        await onboard_agency(ports, operator="ops-kim", spec=replace(SPEC, **change))  # type: ignore[arg-type]
    assert refused.value.field == field
    assert await snapshot(store) == before and not claims.written


async def test_an_account_of_another_agency_cannot_be_onboarded_into_a_new_one(
    ports: Ports, store: Store, world: World, claims: RecordingClaims
) -> None:
    taken = AccountSpec(world.coordinator.firebase_uid, "김지현")
    before = await snapshot(store)
    with pytest.raises(ValidationFailed, match="already has a profile"):
        await onboard_agency(ports, operator="ops-kim", spec=replace(SPEC, coordinators=(taken,)))
    assert await snapshot(store) == before and not claims.written


async def test_onboarding_completes_when_run_again_after_dying_at_any_write(crash_points: CrashPoints) -> None:
    async for run in crash_points():
        async with run.armed():
            await onboard_agency(run.ports, operator="ops-kim", spec=SPEC)
        await recover(run)
        done = await onboard_agency(run.ports, operator="ops-kim", spec=SPEC)  # the operator runs it again

        for uid, user_id in done.user_ids.items():
            user = await run.store.users.get(user_id)
            assert user is not None and run.recorded_claims[uid] == user.claims(), run.writes
        hyodol = done.user_ids["uid-busan-hyodol"]
        assert await webhook_accepts(run.ports, hyodol, SECRET), run.writes
        calls = done.user_ids["uid-busan-calls"]
        assert await run.store.ai_services.get(calls) is not None, run.writes
