"""Command line: `python -m app dev|serve|load-demo|token|sdl|parked-events|register-documents`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from contextlib import ExitStack
from pathlib import Path

import uvicorn

from app.logs import configure_logging
from app.server import build_app
from app.settings import Settings
from app.trusted_documents import InvalidDocument, checked_directory, register
from carecore.access.principal import Role
from carecore.clock import SystemClock
from carecore.events.cleanup import parked_events
from carecore.storage.database import connect, ensure_indexes
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


async def _load_demo(settings: Settings) -> None:
    client = connect(settings.mongodb_uri)
    try:
        db = client[settings.database]
        await ensure_indexes(db)
        summary = await load_demo(Store(db), SystemClock().now())
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
        case "register-documents":
            register_documents(args)
