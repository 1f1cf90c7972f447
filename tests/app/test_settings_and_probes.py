"""Start-up safety and the orchestrator probes."""

from __future__ import annotations

import httpx
import pytest

from app.settings import Settings, SettingsError


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
    settings = Settings.from_env()
    assert settings.environment == "production"
    assert not settings.graphiql and not settings.introspection


async def test_health_and_readiness_probes_answer(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}
