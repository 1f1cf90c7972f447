"""Database commands per new incident from a flag (issue 13): counted with a command listener, not timed.

Each command is named by collection, so a change that adds one shows where. The first ladder step is
claimed by the incident's insert itself (IncidentStore.insert `claim`), not by a separate claim.
"""

from __future__ import annotations

from collections import Counter

from carecore.incidents.ingestion import ingest_flag
from carecore.incidents.models import AiService, Outcome
from carecore.ports import Ports
from tests.carecore.incidents.conftest import flag
from tests.commands import counted
from tests.conftest import World

# The flag's path today, in order; issue 13's goal is 6, which needs one write per collection (see docs/cost.md).
NEW_INCIDENT = Counter(
    {
        ("find", "people"): 1,  # the person by the service's reference
        ("find", "incident_policies"): 1,  # triage
        ("insert", "audit"): 1,  # write-ahead, PENDING
        ("insert", "incident_flags"): 1,  # the flag record: idempotency, and the sweep's work list
        ("findAndModify", "incidents"): 2,  # the merge that finds nothing; the first step's move on
        ("insert", "incidents"): 1,  # with the first ladder step claimed
        ("insert", "alert_requests"): 1,  # the first step's alerts
        ("insert", "events"): 1,  # incident.created, for subscriptions
        ("update", "incident_flags"): 1,  # the link, last
        ("update", "audit"): 1,  # DONE
    }
)


async def test_a_new_incident_from_a_flag_takes_eleven_commands_with_no_separate_claim_of_its_first_step(
    ports: Ports, world: World, ai: AiService, mongo_uri: str, database_name: str
) -> None:
    async with counted(mongo_uri, database_name, ports) as (counted_ports, log):
        opened = await ingest_flag(counted_ports, world.ai_service.principal(), ai, flag())

    assert opened.outcome is Outcome.CREATED
    assert await ports.store.alert_requests.for_subject(opened.incident.id), "the first step ran in the request"
    assert Counter(log.collections) == NEW_INCIDENT
    assert sum(log.names.values()) == 11
