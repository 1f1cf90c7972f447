"""Settings from the environment, read once at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

Environment = Literal["development", "test", "production"]


class SettingsError(RuntimeError):
    pass


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True, slots=True)
class Settings:
    environment: Environment
    mongodb_uri: str
    database: str
    firebase_project_id: str
    auth_emulator_host: str | None
    graphiql: bool
    introspection: bool
    # The polling loop of background checks (app/workers.py); benchmarks turn it off for steady figures.
    background_jobs: bool = True

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ.get("CARECORE_ENV", "production")
        if env not in ("development", "test", "production"):
            raise SettingsError(f"CARECORE_ENV must be development, test or production, not {env!r}.")
        dev = env != "production"
        values: dict[str, object] = {
            "environment": env,
            "mongodb_uri": os.environ.get("MONGODB_URI", ""),
            "database": os.environ.get("CARECORE_DATABASE", "carecore"),
            "firebase_project_id": os.environ.get("FIREBASE_PROJECT_ID", "demo-carecore" if dev else ""),
            "auth_emulator_host": os.environ.get("FIREBASE_AUTH_EMULATOR_HOST") or None,
            "graphiql": _flag("CARECORE_GRAPHIQL", dev),
            "introspection": _flag("CARECORE_INTROSPECTION", dev),
            "background_jobs": _flag("CARECORE_BACKGROUND_JOBS", True),
        }
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        if not self.mongodb_uri:
            raise SettingsError("MONGODB_URI is not set.")
        # The emulator accepts unsigned tokens: anyone could forge any role.
        if self.auth_emulator_host and self.environment == "production":
            raise SettingsError(
                "FIREBASE_AUTH_EMULATOR_HOST is set in production: it would accept unsigned tokens. "
                "Unset it, or set CARECORE_ENV=development or test."
            )
        if not self.firebase_project_id:
            raise SettingsError("FIREBASE_PROJECT_ID is not set.")
