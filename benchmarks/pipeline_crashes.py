"""The randomized crash run of the flag → ladder → acknowledgement pipeline, at scale (issue 9).

`python -m benchmarks.pipeline_crashes [RUNS]` (default 10,000): random flags, deaths at random
writes and random acknowledgers on a simulated clock (tests/integration/pipeline_simulation.py);
prints the runs, the deaths injected, the invariant violations (the goal: none) and how long it took.
"""

from __future__ import annotations

import asyncio
import collections
import sys
import time

from benchmarks import database_uri
from carecore.storage.database import connect
from tests.integration.pipeline_simulation import simulate

RUNS = 10_000
SEED = 20261202


async def run(uri: str, runs: int = RUNS) -> bool:
    client = connect(uri)
    started = time.perf_counter()
    try:
        outcome = await simulate(client, runs=runs, seed=SEED)
    finally:
        await client.close()
    took = time.perf_counter() - started
    kinds = collections.Counter(v.invariant for v in outcome.violations)
    print(
        f"pipeline crashes: {outcome.runs} runs, {outcome.crashes} deaths injected, "
        f"{len(outcome.violations)} invariant violations {dict(kinds)}, {took:.0f} s ({took / runs * 1000:.0f} ms/run)"
    )
    for v in outcome.violations[:10]:
        print(f"  run {v.run} {v.invariant}: {v.detail}")
    return not outcome.violations


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else RUNS
    with database_uri() as uri:
        return 0 if asyncio.run(run(uri, runs)) else 1


if __name__ == "__main__":
    sys.exit(main())
