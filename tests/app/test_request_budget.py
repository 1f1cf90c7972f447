"""Which deadline a request's database work gets: seconds for people, longer for batches, none for streams."""

from __future__ import annotations

from app.outages import request_budget


def test_people_wait_seconds_batches_get_longer_and_streams_keep_per_read_timeouts() -> None:
    budget = request_budget(default=5.0, batch=60.0)

    assert budget("POST", "/graphql") == 5.0
    assert budget("GET", "/console/now") == 5.0
    assert budget("GET", "/fhir/R4/Patient") == 5.0
    # A 1,000-reading batch with its detection, or a FHIR transaction, must not die at the people's deadline.
    assert budget("POST", "/ingest/observations") == budget("POST", "/fhir/R4") == 60.0
    # A bulk download or the console's event stream runs for as long as it takes.
    assert budget("GET", "/fhir/R4/bulk/abc/def.ndjson") is None
    assert budget("GET", "/console/now/events") is None
    assert budget("GET", "/readyz") is None  # sets its own, shorter one
