"""The golden export of the demo agency: committed NDJSON files that a test compares the code's export to.

Regenerate after an intended change of the mapping or the demo, then review the diff:
    .venv/bin/python -m tests.fhir.golden
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from carecore.access.principal import Principal
from carecore.fhir.mapping import ndjson_line
from carecore.fhir.resources import EXPORT_TYPES, AgencyResources
from carecore.ports import Ports
from carecore.storage.database import connect, ensure_indexes
from carecore.storage.store import Store
from carecore.users.service import principal_for
from devtools.devdb import DevDatabase
from fixtures.demo import demo_ids
from tests.fhir.scene import build_scene
from tests.support import FakeClock, RecordingClaims, RefusingTokens

GOLDEN = Path(__file__).resolve().parent / "golden"


async def demo_coordinator(ports: Ports) -> Principal:
    user = await ports.store.users.get(demo_ids().coordinator)
    assert user is not None
    return await principal_for(ports, user)


async def export_files(ports: Ports, actor: Principal) -> dict[str, bytes]:
    """Every exported type as the bytes of its NDJSON file."""
    files = {}
    for resource_type in EXPORT_TYPES:
        lines = [ndjson_line(r) async for r in AgencyResources(ports, actor).of_type(resource_type)]
        files[resource_type] = b"".join(lines)
    return files


def golden_files() -> dict[str, bytes]:
    return {t: (GOLDEN / f"{t}.ndjson").read_bytes() for t in EXPORT_TYPES if (GOLDEN / f"{t}.ndjson").exists()}


async def _regenerate(uri: str) -> None:
    client = connect(uri)
    db = client["fhir_golden"]
    await client.drop_database("fhir_golden")
    await ensure_indexes(db)
    clock = FakeClock()
    ports = Ports(store=Store(db), clock=clock, claims=RecordingClaims(), tokens=RefusingTokens())
    await build_scene(ports, clock)
    files = await export_files(ports, await demo_coordinator(ports))
    GOLDEN.mkdir(exist_ok=True)
    for stale in GOLDEN.glob("*.ndjson"):
        stale.unlink()
    for resource_type, content in files.items():
        (GOLDEN / f"{resource_type}.ndjson").write_bytes(content)
        print(f"{resource_type}: {len(content.splitlines())} resources")
    await client.drop_database("fhir_golden")
    await client.close()


if __name__ == "__main__":
    with DevDatabase() as database:
        asyncio.run(_regenerate(database.uri))
