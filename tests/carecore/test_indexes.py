"""Start-up keeps exactly the declared indexes: a replaced index does not linger and slow every write."""

from __future__ import annotations

from carecore.storage.database import INDEXES, ensure_indexes
from carecore.storage.store import Store


async def test_an_index_no_longer_declared_is_dropped_and_the_declared_ones_stay(store: Store) -> None:
    events = store.db["events"]
    await events.create_index([("kind", 1), ("at", 1)], name="kind_1_at_1")

    await ensure_indexes(store.db)
    await ensure_indexes(store.db)  # every instance runs it at start-up; the second pass changes nothing

    names = {index["name"] async for index in await events.list_indexes()}
    declared = {model.document["name"] for model in INDEXES["events"]}
    assert names == declared | {"_id_"}
