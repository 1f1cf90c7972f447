"""Mutation roots, one per domain, merged into `Mutation` by schema.build."""
