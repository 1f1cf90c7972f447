"""Command line: `python -m app dev|serve|load-demo|token|sdl|parked-events|register-documents`, and the
operators' `onboard-agency|new-secret-key|reencrypt-secrets` (README "Operations")."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import uvicorn

from app.firebase import FirebaseGateway
from app.logs import configure_logging
from app.server import build_app, subject_acknowledgers
from app.settings import Settings
from app.trusted_documents import InvalidDocument, checked_directory, register
from carecore.access.principal import Role
from carecore.agencies.models import AccountSpec, AgencySpec, AiServiceSpec
from carecore.agencies.onboarding import onboard_agency
from carecore.clock import SystemClock
from carecore.errors import DomainError
from carecore.events.cleanup import parked_events
from carecore.ports import Ports
from carecore.storage.database import connect, ensure_indexes
from carecore.storage.secrets import KeyringError, new_key_spec
from carecore.storage.store import Store
from console.assets import WEB_TOOLS
from devtools.auth_emulator import AuthEmulator, create_user, ensure_installed, ensure_npm_packages, sign_in
from devtools.devdb import DevDatabase, ensure_classpath
from fixtures.demo import DEMO_PASSWORD, demo_accounts, load_demo
from schema.build import build_schema

ROOT = Path(__file__).resolve().parent.parent
DEV_PROJECT_ID = "demo-carecore"
DEV_EMULATOR_PORT = 9099
DEV_DB_PORT = 27018

logger = logging.getLogger("carecore")


def refuse_demo_in_production(settings: Settings) -> None:
    """The demo agency's accounts have public passwords and its people are invented: never in production."""
    if settings.is_production:
        sys.exit(
            "load-demo refuses to run with CARECORE_ENV=production: the demo's accounts and people would mix "
            "with real ones. Onboard a real agency with `python -m app onboard-agency` instead."
        )


async def _load_demo(settings: Settings) -> None:
    refuse_demo_in_production(settings)
    client = connect(settings.mongodb_uri)
    try:
        db = client[settings.database]
        await ensure_indexes(db)
        summary = await load_demo(Store(db, keyring=settings.keyring()), SystemClock().now())
    finally:
        await client.close()
    state = f"{summary.created} objects written" if summary.newly_written else "already loaded"
    print(f"Demo agency: {summary.users} users, {summary.people} people with active plans ({state}).")


def _serve(settings: Settings, host: str, port: int) -> None:
    # websockets-sansio: the maintained WebSocket implementation, for subscriptions at /graphql.
    # log_config=None: uvicorn's loggers go to the root handler of configure_logging (JSON lines).
    uvicorn.run(
        build_app(settings),
        host=host,
        port=port,
        log_level="info",
        log_config=None,
        access_log=False,
        ws="websockets-sansio",
    )


def _print_tokens_help(host: str, port: int) -> None:
    print(f"\nGraphQL and GraphiQL: http://{host}:{port}/graphql")
    coordinator = next(a for a in demo_accounts() if a.role is Role.COORDINATOR)
    print(f"Coordinator console: http://{host}:{port}/console")
    print(f"  sign in as {coordinator.email} / {coordinator.password} ({coordinator.display_name})")
    print("An ID token for a demo user (send it as `Authorization: Bearer <token>`):")
    for account in demo_accounts():
        print(f"  .venv/bin/python -m app token {account.uid:<22} # {account.role.value}, {account.display_name}")
    print()


def dev(args: argparse.Namespace) -> None:
    """Everything a developer needs, started and stopped together."""
    os.environ.setdefault("CARECORE_ENV", "development")
    with ExitStack() as stack:
        if not os.environ.get("MONGODB_URI"):
            ensure_classpath(ROOT)
            (ROOT / ".data").mkdir(exist_ok=True)
            database = stack.enter_context(DevDatabase(backend=str(ROOT / ".data" / "dev.h2"), port=DEV_DB_PORT))
            os.environ["MONGODB_URI"] = database.start()
        ensure_installed(ROOT)
        ensure_npm_packages(WEB_TOOLS)  # htmx, GraphiQL and React, served by the app itself
        emulator = stack.enter_context(AuthEmulator(project_id=DEV_PROJECT_ID, port=DEV_EMULATOR_PORT))
        os.environ["FIREBASE_AUTH_EMULATOR_HOST"] = emulator.start()
        os.environ.setdefault("FIREBASE_PROJECT_ID", DEV_PROJECT_ID)
        for account in demo_accounts():
            create_user(
                emulator.host,
                DEV_PROJECT_ID,
                uid=account.uid,
                email=account.email,
                password=account.password,
                display_name=account.display_name,
                custom_claims=account.claims,
            )
        settings = Settings.from_env()
        refuse_demo_in_production(settings)  # `dev` with CARECORE_ENV=production set by hand
        asyncio.run(_load_demo(settings))
        _print_tokens_help(args.host, args.port)
        _serve(settings, args.host, args.port)


async def _parked_events(settings: Settings) -> None:
    client = connect(settings.mongodb_uri)
    try:
        parked = await parked_events(Store(client[settings.database]), limit=1000)
    finally:
        await client.close()
    for p, owed in parked:
        e = p.event
        still = f"still owed to {', '.join(owed)}" if owed else "handled since"
        print(f"{e.id} {e.kind} {e.subject_type} {e.subject_id} at {e.at.isoformat()}", end=" ")
        print(f"parked {p.parked_at.isoformat()}: {still}")
    print(f"{len(parked)} parked event(s).")


def agency_spec(raw: Any) -> AgencySpec:
    """The spec of an onboarding file (README "Onboarding an agency"); a secret may name an environment variable."""
    if not isinstance(raw, dict):
        raise ValueError("the file must hold one JSON object")

    def account(a: dict[str, Any]) -> AccountSpec:
        return AccountSpec(str(a["firebase_uid"]), str(a["display_name"]), a.get("email"), a.get("phone"))

    def service(s: dict[str, Any]) -> AiServiceSpec:
        secret = s.get("secret")
        if env := s.get("secret_env"):  # keeps the secret out of the file
            secret = os.environ.get(env)
            if secret is None:
                raise ValueError(f"secret_env names {env}, which is not set")
        return AiServiceSpec(account(s), str(s["service"]), secret)

    known = {f for f in AgencySpec.__dataclass_fields__}
    if unknown := set(raw) - known:
        raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
    settings = {k: v for k, v in raw.items() if k not in ("coordinators", "ai_services")}
    return AgencySpec(
        **settings,
        coordinators=tuple(account(a) for a in raw.get("coordinators", [])),
        ai_services=tuple(service(s) for s in raw.get("ai_services", [])),
    )


async def _onboard(settings: Settings, spec: AgencySpec, operator: str) -> None:
    client = connect(settings.mongodb_uri, timeout_seconds=settings.database_timeout_seconds)
    firebase = FirebaseGateway(settings.firebase_project_id, http_timeout_seconds=settings.request_timeout_seconds)
    try:
        db = client[settings.database]
        await ensure_indexes(db)
        store = Store(db, keyring=settings.keyring())
        ports = Ports(
            store=store, clock=SystemClock(), claims=firebase, tokens=firebase, acknowledgers=subject_acknowledgers()
        )
        done = await onboard_agency(ports, operator=operator, spec=spec)
    finally:
        firebase.close()
        await client.close()
    print(f"Agency {done.agency.name} ({spec.key}): id {done.agency.id}, time zone {done.agency.timezone}.")
    for uid, user_id in done.user_ids.items():
        print(f"  account {uid}: profile {user_id}")
    for user_id, secret in done.new_secrets.items():
        # Shown once, for the operator to hand to the service; stored sealed, never shown again.
        print(f"  webhook secret generated for AI service {user_id}: {secret}")


def onboard(args: argparse.Namespace) -> None:
    try:
        raw = json.loads(Path(args.file).read_text())
        spec = agency_spec(raw)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        sys.exit(f"onboard-agency: {args.file}: {exc!s}")
    try:
        asyncio.run(_onboard(Settings.from_env(), spec, args.operator))
    except DomainError as exc:
        field = f" ({exc.field})" if exc.field else ""
        sys.exit(f"onboard-agency: {exc}{field}; the agency was not created or changed.")


async def _reencrypt(settings: Settings) -> None:
    client = connect(settings.mongodb_uri, timeout_seconds=settings.database_timeout_seconds)
    keyring = settings.keyring()
    try:
        changed = await Store(client[settings.database], keyring=keyring).ai_services.reseal_all()
    finally:
        await client.close()
    print(f"{changed} secret(s) sealed again under key {keyring.current}; every secret is now under it.")


async def _register_documents(settings: Settings, directory: Path) -> None:
    documents = checked_directory(build_schema()._schema, directory)  # all of them, before storing any
    client = connect(settings.mongodb_uri)
    try:
        db = client[settings.database]
        await ensure_indexes(db)
        registered = await register(Store(db), documents, at=SystemClock().now())
    finally:
        await client.close()
    for r in registered:
        print(f"{r.sha256} {'new' if r.new else 'kept'} {r.path.name}: {', '.join(r.names)}")
    print(f"{sum(r.new for r in registered)} new of {len(registered)} document(s) from {directory}.")


def register_documents(args: argparse.Namespace) -> None:
    directory = Path(args.directory)
    if not directory.is_dir():
        sys.exit(f"{directory} is not a directory of .graphql files.")
    try:
        asyncio.run(_register_documents(Settings.from_env(), directory))
    except InvalidDocument as exc:
        sys.exit(f"Nothing registered: {exc}")


def token(args: argparse.Namespace) -> None:
    accounts = {a.uid: a for a in demo_accounts()}
    account = accounts.get(args.uid)
    if account is None:
        sys.exit(f"No demo account {args.uid!r}; one of: {', '.join(accounts)}")
    host = os.environ.get("FIREBASE_AUTH_EMULATOR_HOST", f"127.0.0.1:{DEV_EMULATOR_PORT}")
    print(sign_in(host, email=account.email, password=DEMO_PASSWORD))


def argv_command(argv: list[str] | None) -> str | None:
    args = sys.argv[1:] if argv is None else argv
    return args[0] if args else None


def main(argv: list[str] | None = None) -> None:
    # JSON lines for machines, unless CARECORE_LOG_FORMAT=text (`dev` defaults to text for people).
    default = "text" if argv_command(argv) == "dev" else "json"
    configure_logging(json_lines=os.environ.get("CARECORE_LOG_FORMAT", default) != "text")
    parser = argparse.ArgumentParser(prog="python -m app", description="carecore service")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("dev", "local stack with demo data"),
        ("serve", "serve with settings from the environment"),
    ):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--host", default="127.0.0.1")
        sub.add_argument("--port", type=int, default=8000)
    commands.add_parser("load-demo", help="load the demo agency into MONGODB_URI (idempotent)")
    sub = commands.add_parser("token", help="print an ID token of a demo user from the Auth emulator")
    sub.add_argument("uid")
    commands.add_parser("sdl", help="print the GraphQL SDL")
    commands.add_parser("parked-events", help="list events a consumer left unhandled too long (never deleted)")
    sub = commands.add_parser("onboard-agency", help="create or update an agency from a JSON file (idempotent)")
    sub.add_argument("file")
    sub.add_argument("--operator", required=True, help="who is onboarding, for the audit trail")
    sub = commands.add_parser("new-secret-key", help="print a new CARECORE_SECRET_KEYS entry")
    sub.add_argument("kid", help="the key's id, e.g. 2026-12")
    commands.add_parser("reencrypt-secrets", help="seal every stored secret under the current key (after rotation)")
    sub = commands.add_parser(
        "register-documents", help="register a directory's .graphql files as trusted documents (by SHA-256)"
    )
    sub.add_argument("directory", nargs="?", default=str(ROOT / "schema" / "operations"))
    args = parser.parse_args(argv)
    match args.command:
        case "dev":
            dev(args)
        case "serve":
            _serve(Settings.from_env(), args.host, args.port)
        case "load-demo":
            asyncio.run(_load_demo(Settings.from_env()))
        case "token":
            token(args)
        case "sdl":
            print(build_schema().as_str())
        case "parked-events":
            asyncio.run(_parked_events(Settings.from_env()))
        case "onboard-agency":
            onboard(args)
        case "new-secret-key":
            try:
                print(new_key_spec(args.kid))
            except KeyringError as exc:
                sys.exit(f"new-secret-key: {exc}")
        case "reencrypt-secrets":
            asyncio.run(_reencrypt(Settings.from_env()))
        case "register-documents":
            register_documents(args)
