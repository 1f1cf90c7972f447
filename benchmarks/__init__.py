"""Benchmarks: `make bench` (`python -m benchmarks`) runs them all and prints what it measured.

Each benchmark seeds its own throw-away databases, drops them afterwards and writes no files.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

from app.settings import Settings
from devtools.devdb import DevDatabase


@contextlib.contextmanager
def database_uri() -> Iterator[str]:
    """MONGODB_URI when set, else a fresh in-memory dev database (127.0.0.1) for the run."""
    if uri := os.environ.get("MONGODB_URI"):
        print("benchmarks: database from MONGODB_URI", file=sys.stderr, flush=True)
        yield uri
        return
    print("benchmarks: starting the dev database (mongo-java-server, in memory) ...", file=sys.stderr, flush=True)
    with DevDatabase() as database:
        yield database.uri


def bench_settings(uri: str, database: str, *, background_workers: bool = False) -> Settings:
    """The app's settings for a benchmark: production's limits, and background loops only when the
    benchmark measures them (they add noise to everything else)."""
    return Settings(
        environment="test",
        mongodb_uri=uri,
        database=database,
        firebase_project_id="demo-carecore-bench",
        auth_emulator_host=None,
        graphiql=False,
        introspection=False,
        background_workers=background_workers,
    )
