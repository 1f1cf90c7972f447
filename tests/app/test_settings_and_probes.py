"""Start-up safety and the orchestrator probes."""

from __future__ import annotations

import httpx
import pytest

from app.settings import Settings, SettingsError
from carecore.storage.secrets import DEV_KEYRING, new_key_spec


def test_the_auth_emulator_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:1/")
    monkeypatch.setenv("FIREBASE_PROJECT_ID", "carecore-prod")
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
    monkeypatch.setenv("CARECORE_ENV", "production")
    with pytest.raises(SettingsError, match="unsigned tokens"):
        Settings.from_env()
    monkeypatch.setenv("CARECORE_ENV", "test")
    assert Settings.from_env().auth_emulator_host == "127.0.0.1:9099"


def test_production_defaults_close_graphiql_and_introspection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:1/")
    monkeypatch.setenv("FIREBASE_PROJECT_ID", "carecore-prod")
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    monkeypatch.delenv("CARECORE_ENV", raising=False)
    monkeypatch.setenv("CARECORE_SECRET_KEYS", new_key_spec("k1"))  # production needs one (next test)
    settings = Settings.from_env()
    assert settings.environment == "production"
    assert not settings.graphiql and not settings.introspection


def test_production_without_a_secret_key_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:1/")
    monkeypatch.setenv("FIREBASE_PROJECT_ID", "carecore-prod")
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("CARECORE_ENV", "production")
    monkeypatch.delenv("CARECORE_SECRET_KEYS", raising=False)
    with pytest.raises(SettingsError, match="CARECORE_SECRET_KEYS is not set"):
        Settings.from_env()
    monkeypatch.setenv("CARECORE_SECRET_KEYS", "k1:not-base64!")
    with pytest.raises(SettingsError, match="not valid base64"):
        Settings.from_env()
    monkeypatch.setenv("CARECORE_SECRET_KEYS", "k1:c2hvcnQ=")
    with pytest.raises(SettingsError, match="AES-256 wants 32"):
        Settings.from_env()
    monkeypatch.setenv("CARECORE_SECRET_KEYS", f"{new_key_spec('k2')},{new_key_spec('k1')}")
    keyring = Settings.from_env().keyring()
    assert keyring.current == "k2" and set(keyring.keys) == {"k1", "k2"}
    # Development and tests run on the public development key, without setting anything.
    monkeypatch.setenv("CARECORE_ENV", "development")
    monkeypatch.delenv("CARECORE_SECRET_KEYS")
    assert Settings.from_env().keyring() is DEV_KEYRING


async def test_health_and_readiness_probes_answer(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}
