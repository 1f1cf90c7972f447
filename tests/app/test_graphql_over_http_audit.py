"""graphql-http's own server audit (npm `graphql-http`, pinned in tools/graphql-audit) against the app
served by uvicorn, with a coordinator's token: every one of its 61 audits ok, warnings included."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from app.server import build_app
from app.settings import Settings
from devtools.auth_emulator import ensure_npm_packages
from tests.app.servers import serving

AUDIT = Path(__file__).resolve().parents[2] / "tools" / "graphql-audit"


@pytest.fixture(scope="module")
def audit_tools() -> Path:
    ensure_npm_packages(AUDIT)
    return AUDIT


async def test_the_graphql_over_http_audit_passes_all_61(
    settings: Settings, coordinator_token: str, audit_tools: Path
) -> None:
    node = shutil.which("node")
    assert node is not None, "Node.js 20+ is required"
    async with serving(build_app(settings)) as host:
        process = await asyncio.create_subprocess_exec(
            node,
            str(audit_tools / "audit.mjs"),
            f"http://{host}/graphql",
            coordinator_token,
            cwd=audit_tools,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    results = json.loads(out)
    failed = [f"{r['id']} {r['status']}: {r['name']} ({r['reason']})" for r in results if r["status"] != "ok"]
    assert failed == []
    assert len(results) == 61
