"""AI services' webhook secrets are sealed at rest; keys rotate without downtime; old plaintext migrates."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.server import build_app
from app.settings import Settings
from carecore.errors import Unauthenticated
from carecore.incidents.ai_services import authenticate_webhook, configure_ai_service, signed_headers
from carecore.incidents.models import AiService
from carecore.ports import Ports
from carecore.storage.secrets import Keyring, KeyringError, new_key_spec
from carecore.storage.store import Store
from tests.conftest import World, build_world
from tests.crashes import CrashPoints, recover

SECRET = "the-webhook-secret-0123456789abcdefghijklmnop"
K1, K2 = new_key_spec("k1"), new_key_spec("k2")


async def webhook_accepts(ports: Ports, service_id: str, secret: str) -> bool:
    """Whether a flag signed with `secret` is let in: what the AI service itself notices."""
    body = b'{"flag": 1}'
    at = int(ports.clock.now().timestamp())
    headers = signed_headers(service_id, secret, body, at=at)
    try:
        await authenticate_webhook(
            ports, service_id, headers["X-Carecore-Timestamp"], headers["X-Carecore-Signature"], body
        )
    except Unauthenticated:
        return False
    return True


def on(store: Store, spec: str, ports: Ports) -> Ports:
    """The same database seen by an instance running with keyring `spec`."""
    return Ports(
        store=Store(store.db, keyring=Keyring.parse(spec)),
        clock=ports.clock,
        claims=ports.claims,
        tokens=ports.tokens,
        acknowledgers=ports.acknowledgers,
    )


async def test_a_configured_secret_is_stored_sealed_and_still_verifies_signatures(
    world: World, store: Store, ports: Ports
) -> None:
    await configure_ai_service(
        ports, world.coordinator.principal(), world.ai_service.id, service="hyodol", secret=SECRET
    )

    raw = await store.db["ai_services"].find_one({"_id": world.ai_service.id})
    assert raw is not None and SECRET.encode() not in repr(raw).encode()
    assert raw["secret"]["kid"] == "dev"
    assert await webhook_accepts(ports, world.ai_service.id, SECRET)
    assert not await webhook_accepts(ports, world.ai_service.id, SECRET[:-1] + "x")


async def test_a_ciphertext_copied_onto_another_service_does_not_open(world: World, store: Store, ports: Ports) -> None:
    await configure_ai_service(
        ports, world.coordinator.principal(), world.ai_service.id, service="hyodol", secret=SECRET
    )
    raw = await store.db["ai_services"].find_one({"_id": world.ai_service.id})
    assert raw is not None
    await store.db["ai_services"].insert_one({**raw, "_id": world.caregiver_on_team.id})

    with pytest.raises(KeyringError, match="altered or moved"):
        await store.ai_services.get(world.caregiver_on_team.id)


async def test_keys_rotate_while_webhooks_keep_verifying(world: World, store: Store, ports: Ports) -> None:
    old = on(store, K1, ports)
    await configure_ai_service(old, world.coordinator.principal(), world.ai_service.id, service="s", secret=SECRET)
    # Step 1 adds k2 after k1 everywhere; step 2 puts it first: both instances verify throughout.
    reading, rotated = on(store, f"{K1},{K2}", ports), on(store, f"{K2},{K1}", ports)
    for instance in (old, reading, rotated):
        assert await webhook_accepts(instance, world.ai_service.id, SECRET)

    assert await rotated.store.ai_services.reseal_all() == 1
    assert await rotated.store.ai_services.reseal_all() == 0  # nothing left under k1

    raw = await store.db["ai_services"].find_one({"_id": world.ai_service.id})
    assert raw is not None and raw["secret"]["kid"] == "k2"
    assert await webhook_accepts(on(store, K2, ports), world.ai_service.id, SECRET)  # k1 can go now


async def test_a_secret_under_a_removed_key_names_the_key(world: World, store: Store, ports: Ports) -> None:
    await configure_ai_service(
        on(store, K1, ports), world.coordinator.principal(), world.ai_service.id, service="s", secret=SECRET
    )
    with pytest.raises(KeyringError, match="'k1', which CARECORE_SECRET_KEYS no longer holds"):
        await on(store, K2, ports).store.ai_services.get(world.ai_service.id)


async def put_plaintext(store: Store, service: AiService) -> None:
    """A document as written before secrets were sealed."""
    await store.db["ai_services"].insert_one(
        {
            "_id": service.user_id,
            "agency_id": service.agency_id,
            "service": service.service,
            "secret": service.secret,
            "configured_at": service.configured_at,
        }
    )


async def test_plaintext_secrets_migrate_resumably_through_crashes(crash_points: CrashPoints) -> None:
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        services = [world.ai_service, world.caregiver_on_team, world.guardian]  # ids of any profiles will do
        secrets = {u.id: f"{SECRET}-{i}" for i, u in enumerate(services)}
        at = datetime(2026, 1, 1)
        for u in services:
            await put_plaintext(run.store, AiService(u.id, world.agency.id, "s", secrets[u.id], at))
        assert await webhook_accepts(run.ports, world.ai_service.id, secrets[world.ai_service.id])

        async with run.armed():
            await run.store.ai_services.reseal_all()
        await recover(run)
        for u in services:  # half-migrated: every secret still opens, sealed or not yet
            stored = await run.store.ai_services.get(u.id)
            assert stored is not None and stored.secret == secrets[u.id], run.writes
        await run.store.ai_services.reseal_all()  # the next start-up resumes it

        for u in services:
            raw = await run.store.db["ai_services"].find_one({"_id": u.id})
            assert raw is not None and isinstance(raw["secret"], dict), run.writes
            stored = await run.store.ai_services.get(u.id)
            assert stored is not None and stored.secret == secrets[u.id], run.writes
        assert await webhook_accepts(run.ports, world.ai_service.id, secrets[world.ai_service.id])


async def test_the_app_seals_old_plaintext_at_start_up(
    world: World, store: Store, ports: Ports, mongo_uri: str, database_name: str
) -> None:
    await put_plaintext(store, AiService(world.ai_service.id, world.agency.id, "s", SECRET, datetime(2026, 1, 1)))
    settings = Settings(
        environment="test",
        mongodb_uri=mongo_uri,
        database=database_name,
        firebase_project_id="demo-carecore-test",
        auth_emulator_host=None,
        graphiql=False,
        introspection=False,
        background_workers=False,
        secret_keys=K1,
    )
    app = build_app(settings, clock=ports.clock)
    async with app.router.lifespan_context(app):
        raw = await store.db["ai_services"].find_one({"_id": world.ai_service.id})
        assert raw is not None and raw["secret"]["kid"] == "k1"
    assert await webhook_accepts(on(store, K1, ports), world.ai_service.id, SECRET)


def test_keys_never_show_in_a_repr() -> None:
    keyring = Keyring.parse(K1)
    assert K1.split(":")[1] not in repr(keyring) and repr(keyring) == "Keyring(current='k1')"
