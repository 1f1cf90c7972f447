"""Trusted documents: in production mode (CARECORE_TRUSTED_DOCUMENTS=1) only registered documents run.

Requests take the shape of Apollo's persisted queries: `extensions.persistedQuery.sha256Hash` names
the document by the hex SHA-256 of its exact text, and `query` may be left out (GET or POST). The door
(app/graphql_http.py) looks the hash up in the `trusted_documents` collection and runs the stored
text; an unknown hash is PERSISTED_QUERY_NOT_FOUND, a request without one PERSISTED_QUERY_REQUIRED,
and a `query` sent along must be the registered text itself. Registration is a release step, never a
request: `python -m app register-documents DIR` stores each `.graphql` file of DIR (the apps' operations,
`schema/operations/` here) after checking it validates against the schema and stays within the cost budget.
With the mode off nothing of this runs: documents are sent as text, as always.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from graphql import GraphQLError, GraphQLSchema, OperationDefinitionNode, parse, validate

from carecore.storage.store import Store
from schema.query_cost import MAX_COST, operation_cost


class InvalidDocument(ValueError):
    """A file that would never run: it does not parse or validate, or costs too much at its defaults."""


@dataclass(frozen=True, slots=True)
class Checked:
    path: Path
    text: str
    names: list[str]


@dataclass(frozen=True, slots=True)
class Registered:
    path: Path
    sha256: str
    names: list[str]
    new: bool


def document_hash(document: str) -> str:
    """The hash a persisted-query request sends: hex SHA-256 of the document's UTF-8 text, exactly as written."""
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def operation_names(schema: GraphQLSchema, document: str, *, path: Path) -> list[str]:
    """The named operations of a document the schema accepts, or InvalidDocument saying why not."""
    try:
        parsed = parse(document)
    except GraphQLError as exc:  # a syntax error, with its position
        raise InvalidDocument(f"{path}: {exc}") from None
    if errors := validate(schema, parsed):
        raise InvalidDocument(f"{path}: {errors[0].message}")
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    if not operations or any(o.name is None for o in operations):
        raise InvalidDocument(f"{path}: every operation needs a name (the apps' logs and metrics use it)")
    for o in operations:
        if (cost := operation_cost(schema, parsed, o, {})) > MAX_COST:
            raise InvalidDocument(f"{path}: {o.name.value if o.name else ''} costs {cost}, over {MAX_COST}")
    return [o.name.value for o in operations if o.name]


def checked_directory(schema: GraphQLSchema, directory: Path) -> list[Checked]:
    """Every `.graphql` file of `directory` (recursively), each checked; InvalidDocument on the first bad one."""
    files = sorted(directory.rglob("*.graphql"))
    return [Checked(p, text, operation_names(schema, text, path=p)) for p in files for text in [p.read_text("utf-8")]]


async def register(store: Store, documents: list[Checked], *, at: datetime) -> list[Registered]:
    """Stores checked documents under their hashes; those already there stay as they were."""
    registered = []
    for d in documents:
        sha = document_hash(d.text)
        new = await store.trusted_documents.register(sha, d.text, names=d.names, source=d.path.name, at=at)
        registered.append(Registered(d.path, sha, d.names, new))
    return registered
