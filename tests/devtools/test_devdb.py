"""The embedded default (mongo-java-server on an H2 file) keeps every write it acknowledged, even when
its process is killed with SIGKILL: a pilot agency's data must survive a crash of the dev server."""

from __future__ import annotations

from pathlib import Path

from pymongo import MongoClient

from devtools.devdb import DevDatabase

INSERTS = 200
UPDATES = 100


def test_acknowledged_inserts_and_updates_survive_a_kill_9(tmp_path: Path) -> None:
    file = tmp_path / "dev.h2"
    database = DevDatabase(backend=str(file))
    client: MongoClient[dict[str, object]] = MongoClient(database.start())
    try:
        docs = client["carecore"]["durable"]
        for i in range(INSERTS):
            docs.insert_one({"_id": i, "n": 0})  # each acknowledged before the next
        for i in range(UPDATES):
            docs.update_one({"_id": i}, {"$inc": {"n": 1}})
    finally:
        client.close()
    database.kill()

    with DevDatabase(backend=str(file)) as restarted:
        again: MongoClient[dict[str, object]] = MongoClient(restarted.uri)
        try:
            docs = again["carecore"]["durable"]
            assert docs.count_documents({}) == INSERTS
            assert docs.count_documents({"n": 1}) == UPDATES
        finally:
            again.close()
