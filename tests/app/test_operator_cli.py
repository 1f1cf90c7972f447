"""The platform operator's commands: onboarding an agency, secret keys and their rotation, no demo in production."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import httpx
import pytest

from app.cli import main
from carecore.storage.secrets import DEV_KEYRING, Keyring, new_key_spec
from carecore.storage.store import Store
from devtools.auth_emulator import sign_in
from tests.app.conftest import sign_up
from tests.conftest import PROJECT_ID


@pytest.fixture
def operator_env(monkeypatch: pytest.MonkeyPatch, mongo_uri: str, database_name: str, auth_host: str) -> None:
    values = {
        "CARECORE_ENV": "test",
        "MONGODB_URI": mongo_uri,
        "CARECORE_DATABASE": database_name,
        "FIREBASE_PROJECT_ID": PROJECT_ID,
        "FIREBASE_AUTH_EMULATOR_HOST": auth_host,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CARECORE_SECRET_KEYS", raising=False)


async def test_an_onboarded_coordinator_signs_in_to_the_new_agency(
    operator_env: None,
    auth_host: str,
    tmp_path: Path,
    http: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    uid, email, password = sign_up(auth_host, name="오세훈")  # the operator made the account, without claims
    service_uid, _, _ = sign_up(auth_host, name="효돌 AI")
    monkeypatch.setenv("HYODOL_SECRET", "hyodol-secret-from-the-vault-0123456789ab")
    spec = {
        "key": "busan-dongrae",
        "name": "부산 동래 돌봄센터",
        "timezone": "Asia/Seoul",
        "max_weekly_hours": 48,
        "coordinators": [{"firebase_uid": uid, "display_name": "오세훈", "email": email}],
        "ai_services": [
            {"firebase_uid": service_uid, "display_name": "효돌 AI", "service": "hyodol", "secret_env": "HYODOL_SECRET"}
        ],
    }
    (tmp_path / "busan.json").write_text(json.dumps(spec, ensure_ascii=False))

    await asyncio.to_thread(main, ["onboard-agency", str(tmp_path / "busan.json"), "--operator", "ops-kim"])

    out = capsys.readouterr().out
    assert "부산 동래 돌봄센터 (busan-dongrae)" in out and "generated" not in out
    token = sign_in(auth_host, email=email, password=password)  # a fresh token carries the claims
    answer = await http.post(
        "/graphql",
        json={"query": "{ me { displayName role } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.json() == {"data": {"me": {"displayName": "오세훈", "role": "COORDINATOR"}}}


def test_a_bad_onboarding_file_is_refused_with_its_field(
    operator_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = {
        "key": "x",
        "name": "x",
        "timezone": "Mars/Olympus",
        "coordinators": [{"firebase_uid": "u", "display_name": "u"}],
    }
    (tmp_path / "bad.json").write_text(json.dumps(spec))
    with pytest.raises(SystemExit, match=r"not an IANA time zone.*\(timezone\); the agency was not created or changed"):
        main(["onboard-agency", str(tmp_path / "bad.json"), "--operator", "ops-kim"])
    (tmp_path / "typo.json").write_text(json.dumps({**spec, "time_zone": "Asia/Seoul"}))
    with pytest.raises(SystemExit, match="unknown fields: time_zone"):
        main(["onboard-agency", str(tmp_path / "typo.json"), "--operator", "ops-kim"])


def test_load_demo_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARECORE_ENV", "production")
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:1/")  # never reached: refused first
    monkeypatch.setenv("FIREBASE_PROJECT_ID", "carecore-prod")
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("CARECORE_SECRET_KEYS", new_key_spec("k1"))
    with pytest.raises(SystemExit, match="load-demo refuses to run with CARECORE_ENV=production"):
        main(["load-demo"])


async def test_reencrypt_secrets_moves_every_secret_to_the_current_key(
    operator_env: None,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await asyncio.to_thread(main, ["load-demo"])  # its AI service's secret, sealed under the dev key
    capsys.readouterr()
    main(["new-secret-key", "2026-12"])
    new = capsys.readouterr().out.strip()
    assert Keyring.parse(new).current == "2026-12"
    dev = f"dev:{base64.b64encode(DEV_KEYRING.keys['dev']).decode()}"
    monkeypatch.setenv("CARECORE_SECRET_KEYS", f"{new},{dev}")  # the new key first, the old one still read

    await asyncio.to_thread(main, ["reencrypt-secrets"])

    assert "under key 2026-12" in capsys.readouterr().out
    kids = {d["secret"]["kid"] async for d in store.db["ai_services"].find()}
    assert kids == {"2026-12"}


async def test_an_account_missing_from_firebase_is_refused_before_the_agency_exists(
    operator_env: None, tmp_path: Path, store: Store
) -> None:
    spec = {"key": "ghost", "name": "유령 기관", "coordinators": [{"firebase_uid": "no-such-uid", "display_name": "x"}]}
    (tmp_path / "ghost.json").write_text(json.dumps(spec, ensure_ascii=False))

    with pytest.raises(SystemExit, match=r"No Firebase account has this uid.*the agency was not created or changed"):
        await asyncio.to_thread(main, ["onboard-agency", str(tmp_path / "ghost.json"), "--operator", "ops-kim"])

    assert await store.db["agencies"].count_documents({}) == 0
    assert await store.db["users"].count_documents({}) == 0
