"""Mutation inputs, one module per domain; each converts itself to the core's values."""
