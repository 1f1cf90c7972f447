"""Settings from the environment, read once at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

from carecore.storage.secrets import DEV_KEYRING, Keyring, KeyringError

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
    # Push and the second channel are off when their credentials are absent (the log says so).
    fcm_credentials: str | None = None  # a service-account JSON file, or "application-default"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_api_base: str | None = None  # tests and local runs only
    public_url: str | None = None  # where Twilio reaches our webhooks
    # The Firebase Web API key the console's sign-in page uses (the Auth emulator accepts any).
    firebase_web_api_key: str = "fake-api-key"
    # Background work (ladder steps, visits, alert delivery) on this instance; any number may run it at once.
    background_workers: bool = True
    worker_poll_seconds: float = 1.0  # seconds between polls of an idle background loop
    escalation_lease_seconds: float = 15.0  # how late a ladder step can be when its worker dies holding it
    event_poll_seconds: float = 0.25  # how often subscriptions' events are read (DESIGN "Scale")
    ws_keep_alive_seconds: float = 15.0  # server pings on idle WebSockets, under typical NAT timeouts
    ws_recheck_seconds: float = 30.0  # a WebSocket's caller is checked again at least this often
    # Deadlines of database work: all of one request's, a readiness probe's, any one background operation's.
    request_timeout_seconds: float = 5.0
    # The AI services' and gateways' batches (up to 1,000 readings with their detection) get longer.
    batch_timeout_seconds: float = 60.0
    readiness_timeout_seconds: float = 0.5  # orchestrators' probes usually give up after 1 s; the rest is overhead
    database_timeout_seconds: float = 30.0
    metrics_token: str | None = None  # GET /metrics wants `Authorization: Bearer <it>`; unset: no /metrics
    # AES-GCM keys sealing AI services' webhook secrets at rest, `kid:base64key,...` with the current
    # one first (carecore/storage/secrets.py); required in production, development's public key otherwise.
    secret_keys: str | None = field(default=None, repr=False)
    # Production hardening: /graphql runs only documents registered by hash (app/trusted_documents.py).
    trusted_documents: bool = False

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
            "fcm_credentials": os.environ.get("CARECORE_FCM_CREDENTIALS")
            or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
            or None,
            "twilio_account_sid": os.environ.get("TWILIO_ACCOUNT_SID") or None,
            "twilio_auth_token": os.environ.get("TWILIO_AUTH_TOKEN") or None,
            "twilio_from_number": os.environ.get("TWILIO_FROM_NUMBER") or None,
            "twilio_api_base": os.environ.get("CARECORE_TWILIO_API_BASE") or None,
            "public_url": os.environ.get("CARECORE_PUBLIC_URL") or None,
            "firebase_web_api_key": os.environ.get("FIREBASE_WEB_API_KEY", "fake-api-key" if dev else ""),
            "background_workers": _flag("CARECORE_BACKGROUND_WORKERS", True),
            "worker_poll_seconds": float(os.environ.get("CARECORE_WORKER_POLL_SECONDS", "1.0")),
            "escalation_lease_seconds": float(os.environ.get("CARECORE_ESCALATION_LEASE_SECONDS", "15")),
            "event_poll_seconds": float(os.environ.get("CARECORE_EVENT_POLL_SECONDS", "0.25")),
            "ws_keep_alive_seconds": float(os.environ.get("CARECORE_WS_KEEP_ALIVE_SECONDS", "15")),
            "ws_recheck_seconds": float(os.environ.get("CARECORE_WS_RECHECK_SECONDS", "30")),
            "request_timeout_seconds": float(os.environ.get("CARECORE_REQUEST_TIMEOUT_SECONDS", "5")),
            "batch_timeout_seconds": float(os.environ.get("CARECORE_BATCH_TIMEOUT_SECONDS", "60")),
            "readiness_timeout_seconds": float(os.environ.get("CARECORE_READINESS_TIMEOUT_SECONDS", "0.5")),
            "database_timeout_seconds": float(os.environ.get("CARECORE_DATABASE_TIMEOUT_SECONDS", "30")),
            "metrics_token": os.environ.get("CARECORE_METRICS_TOKEN") or None,
            "secret_keys": os.environ.get("CARECORE_SECRET_KEYS") or None,
            "trusted_documents": _flag("CARECORE_TRUSTED_DOCUMENTS", False),
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
        # A redirected Twilio endpoint would send real alerts to a stand-in. (FCM has no such setting:
        # firebase-admin always posts to fcm.googleapis.com; tests route that name, tests/network.py.)
        if self.environment == "production" and self.twilio_api_base:
            raise SettingsError("CARECORE_TWILIO_API_BASE is for tests, not production.")
        if not self.firebase_project_id:
            raise SettingsError("FIREBASE_PROJECT_ID is not set.")
        self.keyring()

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def keyring(self) -> Keyring:
        """The keys sealing secrets at rest; production refuses to run on development's public key."""
        if self.secret_keys is None:
            if self.is_production:
                raise SettingsError(
                    "CARECORE_SECRET_KEYS is not set: AI services' webhook secrets are encrypted at rest under it. "
                    "Generate a key with `python -m app new-secret-key` and keep it in your secret manager."
                )
            return DEV_KEYRING
        try:
            return Keyring.parse(self.secret_keys)
        except KeyringError as exc:
            raise SettingsError(f"CARECORE_SECRET_KEYS: {exc}.") from None
