"""The randomized crash run of the flag → ladder → acknowledgement pipeline, at scale (issue 9).

`python -m benchmarks.pipeline_crashes [RUNS]` (default 10,000): random flags, deaths at random
writes and random acknowledgers on a simulated clock (tests/integration/pipeline_simulation.py);
prints the runs, the deaths injected, the invariant violations (the goal: none) and how long it took.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import sys
import time

from benchmarks import database_uri
from carecore.storage.database import connect
from tests.integration.pipeline_simulation import Outcome, simulate

RUNS = 10_000
SEED = 20261202
PROCESSES = 2  # this machine's cores


def _share(uri: str, runs: int, seed: int) -> Outcome:
    """One process's share of the runs, in its own database (the simulation is CPU-bound Python)."""

    async def go() -> Outcome:
        client = connect(uri)
        try:
            return await simulate(client, runs=runs, seed=seed)
        finally:
            await client.close()

    return asyncio.run(go())


async def run(uri: str, runs: int = RUNS, processes: int = PROCESSES) -> bool:
    started = time.perf_counter()
    shares = [runs // processes + (1 if i < runs % processes else 0) for i in range(processes)]
    with concurrent.futures.ProcessPoolExecutor(processes) as pool:
        loop = asyncio.get_running_loop()
        parts = await asyncio.gather(
            *(loop.run_in_executor(pool, _share, uri, n, SEED + i) for i, n in enumerate(shares) if n)
        )
    outcome = Outcome(
        runs=sum(p.runs for p in parts),
        crashes=sum(p.crashes for p in parts),
        violations=[v for p in parts for v in p.violations],
    )
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
