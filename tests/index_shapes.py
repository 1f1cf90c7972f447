"""Every query the code sends is served by a declared index (issue 13), checked on query shapes.

The local server cannot `explain`, so the suite records shapes instead: a PyMongo command listener
notes, for every find, count, distinct, aggregate (its first `$match`), update, delete and
findAndModify sent by the project's code (not the tests' own look-ups), which fields the filter pins
(equality, `$in`), which it bounds (ranges) and which it only excludes (`$ne`, `$nin`, a regex...), and
the sort. A shape is served by an index when, as on MongoDB 7 (equality, then sort, then range), the
index starts with pinned fields, carries the sort in order right after them (else the server sorts in
memory) and is bounded by a pin or a range on its first unpinned key (else it scans everything).
At the end of a whole-suite run (or with CARECORE_INDEX_SHAPES=1), unserved shapes fail the run, and
so do non-unique indexes that no shape used.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymongo import monitoring

from carecore.storage.database import INDEXES

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
RANGES = frozenset({"$gt", "$gte", "$lt", "$lte"})
PINS = frozenset({"$eq", "$in", "$all", "$elemMatch"})
# GridFS keeps its own indexes on its own collections; tests exercise primitives on scratch ones.
UNCHECKED_SUFFIXES = (".files", ".chunks")
SCRATCH_PREFIX = "scratch_"

IndexKeys = tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class Shape:
    collection: str
    pinned: frozenset[str]
    ranged: frozenset[str]
    excluded: frozenset[str]
    sort: IndexKeys = ()

    def describe(self) -> str:
        parts = [f"pinned={sorted(self.pinned)}"]
        if self.ranged:
            parts.append(f"ranged={sorted(self.ranged)}")
        if self.excluded:
            parts.append(f"excluded={sorted(self.excluded)}")
        if self.sort:
            parts.append(f"sort={list(self.sort)}")
        return f"{self.collection}: {' '.join(parts)}"


def _field_kind(value: Any) -> str:
    if not isinstance(value, Mapping) or not any(str(k).startswith("$") for k in value):
        return "pinned"
    ops = set(value)
    if ops & PINS:
        return "pinned"
    if ops & RANGES or value.get("$exists") is True:
        return "ranged"
    return "excluded"


def _branches(query: Mapping[str, Any]) -> Iterator[dict[str, str]]:
    """The filter as alternatives ($or expanded), each a map of field → pinned/ranged/excluded."""
    plain: dict[str, str] = {}
    alternatives: list[list[dict[str, str]]] = []
    for key, value in query.items():
        if key == "$or":
            alternatives.append([b for sub in value for b in _branches(sub)])
        elif key == "$and":
            for sub in value:
                alternatives.append(list(_branches(sub)))
        elif key.startswith("$"):  # $nor, $expr, $text: nothing an index bounds
            continue
        else:
            plain[key] = _field_kind(value)
    combined = [plain]
    for choice in alternatives:
        combined = [{**base, **extra} for base in combined for extra in choice]
    yield from combined


def shapes_of(collection: str, query: Mapping[str, Any], sort: Mapping[str, Any] | None) -> list[Shape]:
    ordered = tuple((k, 1 if v in (1, "1") else -1) for k, v in (sort or {}).items())
    return [
        Shape(
            collection,
            pinned=frozenset(k for k, kind in branch.items() if kind == "pinned"),
            ranged=frozenset(k for k, kind in branch.items() if kind == "ranged"),
            excluded=frozenset(k for k, kind in branch.items() if kind == "excluded"),
            sort=ordered,
        )
        for branch in _branches(query)
    ]


def serves(index: IndexKeys, shape: Shape) -> bool:
    position = 0
    while position < len(index) and index[position][0] in shape.pinned:
        position += 1
    bounded = position > 0
    sort = [(f, d) for f, d in shape.sort if f not in shape.pinned]
    if sort:
        segment = index[position : position + len(sort)]
        if [f for f, _ in segment] != [f for f, _ in sort]:
            return False
        directions = [d * s for (_, d), (_, s) in zip(segment, sort, strict=True)]
        if len(set(directions)) != 1:
            return False
        return bounded or sort[0][0] in shape.ranged
    return bounded or (position < len(index) and index[position][0] in shape.ranged)


def declared_indexes() -> dict[str, list[tuple[IndexKeys, bool]]]:
    """Per collection, each declared index's keys and whether it is unique (a rule, not only speed)."""
    found: dict[str, list[tuple[IndexKeys, bool]]] = {}
    for collection, models in INDEXES.items():
        for model in models:
            spec = model.document
            keys = tuple((k, int(v)) for k, v in spec["key"].items())
            found.setdefault(collection, []).append((keys, bool(spec.get("unique"))))
    return found


def _origin() -> str | None:
    """file:line of the project's code that sent the command; None when a test sent it itself."""
    frame = sys._getframe(2)
    while frame is not None:
        path = Path(frame.f_code.co_filename)
        if path.is_relative_to(ROOT) and ".venv" not in path.parts:
            if path.is_relative_to(TESTS):
                return None
            return f"{path.relative_to(ROOT)}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _queries(command: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any], Mapping[str, Any] | None]]:
    name = next(iter(command))
    collection = command[name]
    if not isinstance(collection, str):
        return
    match name:
        case "find":
            yield collection, command.get("filter") or {}, command.get("sort")
        case "count" | "distinct":
            yield collection, command.get("query") or {}, None
        case "findAndModify":
            yield collection, command.get("query") or {}, command.get("sort")
        case "aggregate":
            pipeline: Sequence[Mapping[str, Any]] = command.get("pipeline") or []
            first = pipeline[0] if pipeline else {}
            yield collection, first.get("$match", {}), None
        case "update":
            for statement in command.get("updates", []):
                yield collection, statement.get("q") or {}, None
        case "delete":
            for statement in command.get("deletes", []):
                yield collection, statement.get("q") or {}, None


@dataclass
class ShapeRecorder(monitoring.CommandListener):
    seen: dict[Shape, str] = field(default_factory=dict)  # shape → where it was first sent from

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in {"find", "count", "distinct", "findAndModify", "aggregate", "update", "delete"}:
            return
        origin = _origin()
        if origin is None:
            return
        for collection, query, sort in _queries(event.command):
            if collection.endswith(UNCHECKED_SUFFIXES) or collection.startswith(SCRATCH_PREFIX):
                continue
            for shape in shapes_of(collection, query, sort):
                self.seen.setdefault(shape, origin)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def problems(self) -> list[str]:
        declared = declared_indexes()
        used: set[tuple[str, IndexKeys]] = set()
        unserved: list[str] = []
        for shape, origin in sorted(self.seen.items(), key=lambda item: item[1]):
            candidates = [keys for keys, _ in declared.get(shape.collection, [])] + [(("_id", 1),)]
            serving = [keys for keys in candidates if serves(keys, shape)]
            used.update((shape.collection, keys) for keys in serving)
            if not serving:
                unserved.append(f"no index serves {shape.describe()} (sent from {origin})")
        unused = [
            f"no query uses the index {list(keys)} of {collection}"
            for collection, indexes in declared.items()
            for keys, unique in indexes
            if not unique and (collection, keys) not in used
        ]
        return unserved + unused
