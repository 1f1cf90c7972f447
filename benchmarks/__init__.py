"""Benchmarks: `make bench` (`python -m benchmarks`) runs them all and prints what it measured.

Each benchmark seeds its own throw-away databases, drops them afterwards and writes no files.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

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
