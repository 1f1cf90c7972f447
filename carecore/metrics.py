"""Prometheus metrics of the instance (prometheus-client's default registry), served at /metrics by the app.

Counters and histograms are updated where things happen; the gauges that describe shared state (the
outbox, the event consumers) are read from the database when scraped (`refresh_gauges`), so every
instance reports the same numbers and none keeps a count that a crash could make wrong.
Labels stay few and bounded: never ids, never anything a caller typed except an operation name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram

from carecore.events.consumers import CONSUMERS

if TYPE_CHECKING:  # carecore.ports imports the storage, which imports this module: a cycle at run time
    from carecore.ports import Ports

HTTP_SECONDS = Histogram(
    "carecore_http_request_duration_seconds", "HTTP requests by route and status", ["method", "route", "status"]
)
GRAPHQL_SECONDS = Histogram(
    "carecore_graphql_operation_duration_seconds",
    "GraphQL operations over HTTP by name and type",
    ["operation", "type"],
)
ESCALATION_LAG = Histogram(
    "carecore_escalation_lag_seconds",
    "From a ladder step's due time to the worker running it",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600),
)
DISPATCH_SECONDS = Histogram("carecore_dispatch_duration_seconds", "One call to a delivery channel", ["channel"])
DISPATCH_RESULTS = Counter("carecore_dispatch_results_total", "Delivery outcomes by channel", ["channel", "result"])
WEBHOOK_RESULTS = Counter(
    "carecore_webhook_requests_total", "Webhook requests by webhook and status", ["webhook", "status"]
)
LEASE_TAKEOVERS = Counter(
    "carecore_lease_takeovers_total",
    "Work claimed after another worker's lease lapsed (a worker died or stalled)",
    ["work"],
)
OUTBOX_DEPTH = Gauge("carecore_outbox_depth", "Notifications waiting for a push attempt (due or scheduled)")
OUTBOX_OLDEST = Gauge("carecore_outbox_oldest_age_seconds", "Age of the oldest notification waiting for a push")
EVENT_LAG = Gauge(
    "carecore_event_consumer_lag_seconds",
    "Age of the oldest event a consumer has not handled yet (0: none)",
    ["consumer"],
)


async def refresh_gauges(ports: Ports) -> None:
    """Reads the shared state the gauges show; the caller bounds it with a deadline."""
    now = ports.clock.now()
    depth, oldest = await ports.store.notifications.outbox_stats()
    OUTBOX_DEPTH.set(depth)
    OUTBOX_OLDEST.set(max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
    for consumer in CONSUMERS:
        at = await ports.store.events.oldest_unhandled(consumer.name, consumer.kinds)
        EVENT_LAG.labels(consumer.name).set(max((now - at).total_seconds(), 0.0) if at else 0.0)
