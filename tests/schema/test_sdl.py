"""The committed SDL is the contract with the mobile apps: it must match the code."""

from __future__ import annotations

from pathlib import Path

import strawberry

SDL = Path(__file__).resolve().parents[2] / "schema" / "schema.graphql"


def test_the_committed_sdl_matches_the_code(schema: strawberry.Schema) -> None:
    assert SDL.read_text(encoding="utf-8") == schema.as_str() + "\n", (
        "schema/schema.graphql is out of date: run `python -m app sdl > schema/schema.graphql` and review the diff"
    )
