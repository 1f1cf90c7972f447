"""Counting what a piece of code asks of the database: commands by name and documents returned.

Round-trip tests (issue 13) assert counts, never times: a dedicated client with this listener reads and
writes the test's database, and the code under test runs on a Store over it.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from pymongo import AsyncMongoClient, monitoring

from carecore.ports import Ports
from carecore.storage.database import Document
from carecore.storage.store import Store


class CommandLog(monitoring.CommandListener):
    def __init__(self) -> None:
        self.names: Counter[str] = Counter()
        self.returned = 0  # documents in find and getMore replies
        self.finds: list[tuple[str, Document]] = []  # (collection, filter) of each find
        self.collections: list[tuple[str, str]] = []  # (command, collection) of each command, in order

    def clear(self) -> None:
        self.names.clear()
        self.returned = 0
        self.finds.clear()
        self.collections.clear()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.names[event.command_name] += 1
        self.collections.append((event.command_name, str(event.command.get(event.command_name))))
        if event.command_name == "find":
            self.finds.append((event.command["find"], dict(event.command.get("filter") or {})))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        cursor: dict[str, Any] = event.reply.get("cursor") or {}
        self.returned += len(cursor.get("firstBatch", ())) + len(cursor.get("nextBatch", ()))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@contextlib.asynccontextmanager
async def counted(mongo_uri: str, database_name: str, ports: Ports) -> AsyncIterator[tuple[Ports, CommandLog]]:
    """`ports` on the same database through a client whose commands are counted."""
    log = CommandLog()
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongo_uri, event_listeners=[log], tz_aware=True)
    try:
        yield dataclasses.replace(ports, store=Store(client[database_name])), log
    finally:
        await client.close()
