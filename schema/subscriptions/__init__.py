"""Subscription roots, one per domain, merged into `Subscription` by schema.build (graphql-transport-ws)."""
