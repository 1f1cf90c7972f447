"""The flag → ladder → acknowledgement pipeline, randomized with crashes: no invariant is ever violated."""

from __future__ import annotations

from pymongo import AsyncMongoClient

from carecore.storage.database import Document
from tests.integration.pipeline_simulation import simulate

RUNS = 200


async def test_random_flags_crashes_and_acknowledgers_never_violate_i1_or_i4(
    mongo_client: AsyncMongoClient[Document],
) -> None:
    outcome = await simulate(mongo_client, runs=RUNS, seed=20261202)

    assert outcome.runs == RUNS and outcome.crashes > RUNS // 2
    assert [f"run {v.run} {v.invariant}: {v.detail}" for v in outcome.violations] == []
