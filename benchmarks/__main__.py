"""`python -m benchmarks` (`make bench`): every benchmark against one database; exit 1 if a check failed."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

from benchmarks import (
    console_now,
    database_uri,
    devdb_durability,
    fhir_export,
    health_cohort,
    incidents,
    notifications,
    outages,
    people_list,
    pipeline_crashes,
    reachability,
    shifts,
    validation,
)

BENCHMARKS: dict[str, Callable[[str], Awaitable[bool]]] = {
    "people_list": people_list.run,
    "shifts": shifts.run,
    "incidents": incidents.run,
    "notifications": notifications.run,
    "pipeline_crashes": pipeline_crashes.run,
    "devdb_durability": devdb_durability.run,
    "console_now": console_now.run,
    "health_cohort": health_cohort.run,
    "reachability": reachability.run,
    "fhir_export": fhir_export.run,
    "outages": outages.run,
    "validation": validation.run,
}


async def run_all(uri: str) -> bool:
    results = [await bench(uri) for bench in BENCHMARKS.values()]
    return all(results)


def main() -> int:
    with database_uri() as uri:
        return 0 if asyncio.run(run_all(uri)) else 1


if __name__ == "__main__":
    sys.exit(main())
