"""The sweep: flags stored but never linked to an incident, finished without waiting for their sender.

A request that dies after storing a flag (before or after its incident was written) leaves the flag
record unlinked. Its sender's retry finishes it (README "Webhooks"), but a sender may never retry, so
every instance also claims such records, a short grace after they were received, with a lease, and
runs them through the same opening code: it finds what the dead request already did and does the rest.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from carecore.incidents.opening import Opening, open_incident
from carecore.incidents.policies import policy_for
from carecore.ports import Ports

logger = logging.getLogger(__name__)

SWEEP_LEASE = timedelta(seconds=30)
MAX_FLAGS_PER_PASS = 100


async def finish_stranded_flags(ports: Ports, owner: str, *, lease: timedelta = SWEEP_LEASE) -> int:
    """Finishes the unlinked flags due now, oldest first; returns how many it finished."""
    finished = 0
    for _ in range(MAX_FLAGS_PER_PASS):
        flag = await ports.store.incident_flags.claim_unlinked(now=ports.clock.now(), owner=owner, lease=lease)
        if flag is None:
            break
        try:
            await open_incident(ports, Opening.of_flag(flag), await policy_for(ports, flag.agency_id), None)
        except Exception:  # its claim lapses and another pass retries it; the others need not wait
            logger.exception("stranded flag %s could not be finished; retrying after the lease", flag.id)
            continue
        finished += 1
    return finished
