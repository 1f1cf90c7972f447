"""What durability costs the embedded default: inserts per second on the H2 file with a commit before
each acknowledgement (kept across kill -9) against H2's own once-a-second commit (loses up to a second).

`python -m benchmarks.devdb_durability`; part of `make bench`. Prints the ratio measured in this run.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from pymongo import MongoClient

from devtools.devdb import DevDatabase

INSERTS = 2_000
UPDATES = 1_000


def _writes_per_second(durable: bool) -> float:
    with (
        tempfile.TemporaryDirectory() as folder,
        DevDatabase(backend=str(Path(folder) / "bench.h2"), durable=durable) as database,
    ):
        client: MongoClient[dict[str, object]] = MongoClient(database.uri)
        try:
            docs = client["bench"]["writes"]
            docs.insert_one({"_id": "warm-up"})
            started = time.perf_counter()
            for i in range(INSERTS):
                docs.insert_one({"_id": i, "n": 0})
            for i in range(UPDATES):
                docs.update_one({"_id": i}, {"$inc": {"n": 1}})
            return (INSERTS + UPDATES) / (time.perf_counter() - started)
        finally:
            client.close()


async def run(_uri: str = "") -> bool:
    """Starts its own two H2 servers; the shared benchmark database is not used."""
    auto = await asyncio.to_thread(_writes_per_second, False)
    durable = await asyncio.to_thread(_writes_per_second, True)
    print(
        f"devdb durability: {durable:.0f} writes/s committing each write vs {auto:.0f} writes/s with H2's "
        f"1 s auto-commit: {auto / durable:.2f}x slower for no acknowledged write lost on kill -9"
    )
    return True


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(run()) else 1)
