"""Composition root: the only package that wires carecore, schema and notifications together."""
