"""Minji did not answer her wellness call: she is unreachable, for the operations that list such people."""

from __future__ import annotations

from carecore.ids import new_id
from carecore.ports import Ports
from carecore.reachability.models import CallOutcome, Contact, ContactKind
from carecore.reachability.service import record_contact
from tests.conftest import World


async def reachability_scene(ports: Ports, world: World) -> None:
    now = ports.clock.now()
    unanswered = Contact(
        id=new_id(),
        agency_id=world.agency.id,
        person_id=world.minji.id,
        kind=ContactKind.CALL,
        at=now,
        received_at=now,
        source="wellness-call",
        call_outcome=CallOutcome.NOT_ANSWERED,
        session="matrix",
        attempt=1,
    )
    await record_contact(ports, None, unanswered)
