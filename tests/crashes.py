"""The crash-point harness: a flow is killed before its 1st write, then before its 2nd, ... until it
completes, and after each death recovery must restore the invariants (issue 9, docs/safety.md).

"Killed" is a BaseException: no `except Exception` in the code under test catches it, exactly as no
handler runs when the process dies. Once killed, every further write of the dead "process" fails too
(tasks it left behind die with it), until `recover` starts the next one. Writes are counted at the
PyMongo collection methods and at the Firebase claims port, so every store and flow is covered
without a seam of its own. Each run gets a fresh database.

    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        async with run.armed():
            await the_flow(run.ports, world)
        await recover(run)
        await check(...)
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

from pymongo import AsyncMongoClient

from app.server import subject_acknowledgers
from carecore.alerts.dispatcher import Dispatcher
from carecore.alerts.ports import PushSender, SecondChannel
from carecore.alerts.second_channel import call_out_due
from carecore.background import core_jobs
from carecore.ports import ClaimsPublisher, Ports
from carecore.storage.database import Db, Document, ensure_indexes
from carecore.storage.store import Store
from tests.support import FakeClock, RecordingClaims, RefusingTokens

# Longer than every lease in carecore (tests/test_crash_harness.py keeps it so): after it, every
# claim a dead process held has lapsed and the next instance takes it over.
RECOVERY_AFTER = timedelta(minutes=2, seconds=1)
MAX_WRITES = 120  # a flow with more writes than this is a flow to split, and a harness loop to stop
MAX_PASSES = 30

WRITES = frozenset(
    {
        "insert_one",
        "insert_many",
        "update_one",
        "update_many",
        "replace_one",
        "delete_one",
        "delete_many",
        "find_one_and_update",
        "find_one_and_replace",
        "find_one_and_delete",
        "bulk_write",
    }
)


class Killed(BaseException):
    """The process died here: the write was not applied and nothing after it runs."""


@dataclass
class Faults:
    """Counts writes while armed and kills the process at write number `crash_at`."""

    crash_at: int | None = None
    armed: bool = False
    dead: bool = False
    writes: list[str] = field(default_factory=list)

    def before_write(self, where: str) -> None:
        if self.dead:
            raise Killed(f"{where} after the process died")
        if not self.armed:
            return
        self.writes.append(where)
        if len(self.writes) == self.crash_at:
            self.dead = True
            raise Killed(f"before write {self.crash_at}: {where}")


class _FaultyCollection:
    def __init__(self, collection: Any, faults: Faults) -> None:
        self._collection = collection
        self._faults = faults

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._collection, name)
        if name not in WRITES:
            return attribute
        where = f"{self._collection.name}.{name}"

        async def write(*args: Any, **kwargs: Any) -> Any:
            self._faults.before_write(where)
            return await attribute(*args, **kwargs)

        return write


class FaultyDb:
    def __init__(self, db: Db, faults: Faults) -> None:
        self._db = db
        self._faults = faults

    def __getitem__(self, name: str) -> _FaultyCollection:
        return _FaultyCollection(self._db[name], self._faults)

    def get_collection(self, name: str, **kwargs: Any) -> _FaultyCollection:
        return _FaultyCollection(self._db.get_collection(name, **kwargs), self._faults)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


@dataclass
class _FaultyClaims:
    """Firebase custom claims are a write of the flow too (e.g. a role change)."""

    inner: ClaimsPublisher
    faults: Faults

    async def set_claims(self, firebase_uid: str, claims: dict[str, str]) -> None:
        self.faults.before_write("firebase.set_claims")
        await self.inner.set_claims(firebase_uid, claims)


@dataclass
class CrashRun:
    """One run of a flow: it dies before write number `position` (or completes, the last run)."""

    position: int
    store: Store
    ports: Ports
    clock: FakeClock
    claims: ClaimsPublisher
    faults: Faults
    entered: bool = False
    crashed: bool = False

    @property
    def recorded_claims(self) -> dict[str, dict[str, str]]:
        """The claims a default run recorded in memory (runs with the Auth emulator have none)."""
        inner = self.claims.inner if isinstance(self.claims, _FaultyClaims) else self.claims
        assert isinstance(inner, RecordingClaims), "this run's claims went to the Auth emulator"
        return inner.written

    @contextlib.asynccontextmanager
    async def armed(self) -> AsyncIterator[None]:
        """Counts the writes of the block; the process dies at write `position`, ending the block."""
        self.entered = True
        self.faults.crash_at, self.faults.armed = self.position, True
        try:
            yield
        except Killed:
            self.crashed = True
            for _ in range(20):  # tasks the dead process left running meet their end at their next write
                await asyncio.sleep(0)
        finally:
            self.faults.armed = False

    @property
    def writes(self) -> list[str]:
        """The writes counted in the armed block: the last one is where this run died."""
        return list(self.faults.writes)


CrashPoints = Callable[[], AsyncIterator[CrashRun]]


def crash_points_for(client: AsyncMongoClient[Document], claims: ClaimsPublisher | None = None) -> CrashPoints:
    """Without `claims`, the runs record claims in memory (flows that write none need no emulator)."""

    async def runs() -> AsyncIterator[CrashRun]:
        for position in range(1, MAX_WRITES + 1):
            name = f"crash_{uuid.uuid4().hex[:12]}"
            db = client[name]
            await ensure_indexes(db)
            faults = Faults()
            store = Store(cast(Db, FaultyDb(db, faults)))
            clock = FakeClock()
            faulty = _FaultyClaims(claims or RecordingClaims(), faults)
            ports = Ports(
                store=store, clock=clock, claims=faulty, tokens=RefusingTokens(), acknowledgers=subject_acknowledgers()
            )
            run = CrashRun(position, store, ports, clock, faulty, faults)
            try:
                yield run
            finally:
                await client.drop_database(name)
            assert run.entered, "the flow never entered run.armed()"
            if not run.crashed:
                return  # the flow completed before this write: every crash point was visited
        raise AssertionError(f"the flow did not complete within {MAX_WRITES} writes")

    return runs


async def recover(
    run: CrashRun,
    *,
    after: timedelta = RECOVERY_AFTER,
    push: PushSender | None = None,
    second: SecondChannel | None = None,
) -> int:
    """A new process starts after `after`: every background job runs, as production runs them, until idle.

    Returns how much the jobs did. Push and the second channel run when senders are given.
    """
    run.faults.dead = False
    run.clock.advance(after)
    ports, owner = run.ports, f"recovery-{run.position}"
    total = 0
    for _ in range(MAX_PASSES):
        done = 0
        for job in core_jobs():
            done += await job.run(ports, owner)
        if push is not None:
            done += await Dispatcher(ports, push, owner=f"{owner}-push").run_until_idle()
        if second is not None:
            done += await call_out_due(ports, second, owner=f"{owner}-callout")
        total += done
        if done == 0:
            return total
    raise AssertionError(f"background jobs still busy after {MAX_PASSES} passes")
