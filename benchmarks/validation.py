"""What a document costs before it runs, against fragment levels and document size: it must be linear.

Everything /graphql does with a document before execution, in the order it does it: the door's parse
with the token limit and its count of fields once fragments are spread (app/graphql_http.py), then for
what it admits the cost budget (schema/query_cost.py) and GraphQL's validation with the schema's rules.
Two series, each a few sizes, the fastest of repeated runs per size (the least disturbed by other work
on a shared machine):
1. fragment levels: each fragment spreads the previous one twice (the hostile shape of issue 13:
   2^levels fields once spread, the document growing by one short line per level);
2. document size: k distinct fragments, each selecting a few fields of a different root field and
   spread once (what real documents grow like).
Linear means the time per byte of document stays flat: the check is that the largest admitted
document's time per byte is within GOAL_RATIO of the smallest's, for each series; documents the door
refuses (over 2,000 tokens or 5,000 fields once spread) are shown too, and must be refused faster than
the largest admitted one is checked. No database.

    python -m benchmarks.validation
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable

from graphql import GraphQLSchema, parse, validate

from app.graphql_http import RequestRefused, checked_document
from schema.build import build_schema
from schema.query_cost import operation_cost

GOAL_RATIO = 3.0
REPEAT = 15
LEVELS = (2, 4, 6, 8, 10, 11, 20, 80)  # from 12 levels on, over 5,000 fields once spread: refused
SIZES = (16, 32, 64, 128, 256)  # 256 fragments are over 2,000 tokens: refused
ROOTS = (
    "me { id displayName role locale }",
    "notificationPreferences { onDuty mutedKinds }",
    "devices { edges { node { id } } }",
)


def doubling(levels: int) -> str:
    parts = ["fragment F0 on Query { me { id } }"]
    parts += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1)]
    return f"query Doubling {{ ...F{levels} }}\n" + "\n".join(parts)


def distinct(k: int) -> str:
    """k fragments on Query, each spread once; they select the same few root fields (which merge)."""
    parts = [f"fragment G{i} on Query {{ {ROOTS[i % len(ROOTS)]} }}" for i in range(k)]
    return "query Grown { " + " ".join(f"...G{i}" for i in range(k)) + " }\n" + "\n".join(parts)


def before_execution(schema: GraphQLSchema, document: str) -> str:
    """What /graphql does with `document` before running it; returns how it ended."""
    try:
        operation = checked_document(document, None)
    except RequestRefused as refused:
        return refused.code.value
    parsed = parse(document)  # Strawberry parses again, as here
    operation_cost(schema, parsed, operation, {})
    errors = validate(schema, parsed)
    return "valid" if not errors else f"invalid: {errors[0].message}"


def timed(schema: GraphQLSchema, document: str) -> tuple[float, str]:
    seconds = []
    ended = ""
    for _ in range(REPEAT):
        started = time.perf_counter()
        ended = before_execution(schema, document)
        seconds.append(time.perf_counter() - started)
    return min(seconds), ended


def series(schema: GraphQLSchema, name: str, make: Callable[[int], str], sizes: tuple[int, ...]) -> bool:
    print(f"  {name}:")
    admitted: list[tuple[int, float]] = []  # (bytes, seconds)
    refused: list[float] = []
    for n in sizes:
        document = make(n)
        seconds, ended = timed(schema, document)
        if ended == "valid":
            admitted.append((len(document), seconds))
        else:
            refused.append(seconds)
        per_byte = seconds / len(document) * 1e6
        print(f"    {n:>4}: {len(document):>6} bytes, {seconds * 1e3:8.2f} ms, {per_byte:6.2f} µs/byte ({ended})")
    (small_bytes, small), (large_bytes, large) = admitted[0], admitted[-1]
    ratio = (large / large_bytes) / (small / small_bytes)
    quick_refusals = all(r <= large for r in refused)
    ok = ratio <= GOAL_RATIO and quick_refusals
    print(
        f"    time per byte, largest admitted / smallest: {ratio:.2f} (goal <= {GOAL_RATIO}); "
        f"refusals no slower than the largest admitted: {quick_refusals}  {'ok' if ok else 'NOT LINEAR'}"
    )
    return ok


async def run(_uri: str = "") -> bool:
    """No database: `_uri` only fits the runner's signature (benchmarks/__main__.py)."""
    schema = build_schema()._schema
    print(f"\nvalidation before execution, against fragment levels and document size (fastest of {REPEAT} runs)")
    levels = series(schema, "fragment levels (each spreads the previous twice)", doubling, LEVELS)
    sizes = series(schema, "document size (distinct fragments, spread once)", distinct, SIZES)
    return levels and sizes


def main() -> int:
    return 0 if asyncio.run(run()) else 1


if __name__ == "__main__":
    sys.exit(main())
