"""The demo scene exported: built once per test in the test's own database (tests/fhir/scene.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from carecore.ports import Ports
from tests.fhir.golden import demo_coordinator, export_files
from tests.fhir.scene import build_scene
from tests.support import FakeClock

Exported = dict[str, list[dict[str, Any]]]


def parsed(files: dict[str, bytes]) -> Exported:
    return {t: [json.loads(line) for line in content.splitlines()] for t, content in files.items()}


@pytest.fixture
async def scene_ports(ports: Ports, clock: FakeClock) -> Ports:
    await build_scene(ports, clock)
    return ports


@pytest.fixture
async def export_bytes(scene_ports: Ports) -> dict[str, bytes]:
    return await export_files(scene_ports, await demo_coordinator(scene_ports))
