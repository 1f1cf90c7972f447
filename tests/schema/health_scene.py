"""A reading of minji's, recorded by her caregiver, for the operations that read health data."""

from __future__ import annotations

from carecore.health.service import record_observation
from carecore.ports import Ports
from tests.carecore.health.conftest import bp_reading
from tests.conftest import World


async def health_scene(ports: Ports, world: World) -> str:
    """The id of one accepted, unremarkable blood pressure reading of minji's."""
    reading = bp_reading(world.minji.id, ports.clock.now(), 128, 82)
    result = await record_observation(ports, world.caregiver_on_team.principal(), reading)
    assert result.observation is not None
    return result.observation.id
