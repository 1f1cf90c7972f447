"""The direction of imports: the core knows nothing of GraphQL, push or the database driver's edges."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(package: str) -> dict[Path, set[str]]:
    found: dict[Path, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[path.relative_to(ROOT)] = names
    return found


def test_the_core_imports_neither_schema_nor_notifications_nor_the_app() -> None:
    for path, names in imported_modules("carecore").items():
        bad = {n for n in names if n.split(".")[0] in ("schema", "notifications", "app", "strawberry", "console")}
        assert not bad, f"{path} imports {bad}"


def test_only_core_storage_imports_the_database_driver() -> None:
    for package in ("carecore", "schema", "notifications", "console"):
        for path, names in imported_modules(package).items():
            if path.parts[:2] == ("carecore", "storage"):
                continue
            bad = {n for n in names if n.split(".")[0] in ("pymongo", "bson", "motor")}
            assert not bad, f"{path} imports {bad}"


def test_the_graphql_layer_does_not_reach_into_storage() -> None:
    for path, names in imported_modules("schema").items():
        bad = {n for n in names if n.startswith("carecore.storage")}
        assert not bad, f"{path} imports {bad}"


def test_the_console_is_a_thin_layer_over_the_core_services() -> None:
    """No second path to the data: the console reads and changes through the core's services only."""
    for path, names in imported_modules("console").items():
        bad = {n for n in names if n.startswith("carecore.storage") or n.split(".")[0] in ("schema", "app")}
        assert not bad, f"{path} imports {bad}"


def test_access_is_decided_for_principals_from_the_one_resolver() -> None:
    """`User.principal()` lacks the people a caregiver serves through shifts; `principal_for` adds them."""
    for package in ("carecore", "app", "schema", "notifications", "fixtures", "console"):
        for path in (ROOT / package).rglob("*.py"):
            if path.relative_to(ROOT) == Path("carecore/users/service.py"):
                continue
            assert ".principal()" not in path.read_text(encoding="utf-8"), f"{path}: use users.service.principal_for"


def test_the_graphql_layer_type_checks_without_ignores() -> None:
    """mypy --strict sees every schema type: enums as Annotated aliases, mutation results through `attempt`."""
    for path in (ROOT / "schema").rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            assert "type: ignore" not in line, f"{path.relative_to(ROOT)}:{number} silences mypy"


def test_each_mutation_answers_with_the_union_it_declares() -> None:
    """`attempt` lets through only the refusals its result union names; a narrower union would mask real ones."""
    for path in (ROOT / "schema" / "mutations").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.AsyncFunctionDef) or not isinstance(node.returns, ast.Name):
                continue
            if not node.decorator_list:  # a helper passing its own `result` on, not a resolver
                continue
            for call in ast.walk(node):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Name)
                    and call.func.id in ("attempt", "attempt_in_zone")
                    and call.args
                ):
                    given = call.args[0]
                    assert isinstance(given, ast.Name) and given.id == node.returns.id, (
                        f"{path.relative_to(ROOT)}:{call.lineno} {node.name} returns {node.returns.id}"
                    )


# The codecs map every domain's records, the FHIR export reads every domain, and every domain decides access
# through `carecore.access`: those import other packages' enums by design.
_ENUM_READERS = ("storage", "fhir")
_ENUM_BASES = ("Enum", "StrEnum", "IntEnum")


def test_domains_share_enums_through_the_vocabulary_not_each_other() -> None:
    """An enum that several domains use lives in `carecore/vocabulary.py` (a leaf), not in one of them."""
    core = ROOT / "carecore"
    enums: dict[str, set[str]] = {}  # package -> enum classes its modules define
    for path in core.rglob("*.py"):
        package = path.relative_to(core).parts[0].removesuffix(".py")
        for statement in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(statement, ast.ClassDef) and any(
                isinstance(b, ast.Name) and b.id in _ENUM_BASES for b in statement.bases
            ):
                enums.setdefault(package, set()).add(statement.name)
    shared = enums.pop("vocabulary")  # re-exported by their home domains' models: still not to be borrowed from there
    assert not [
        n
        for n in ast.walk(ast.parse((core / "vocabulary.py").read_text()))
        if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("carecore")
    ], "the vocabulary is a leaf"
    for path in imported_modules("carecore"):
        own = path.parts[1]
        if own in _ENUM_READERS:
            continue
        for node in ast.walk(ast.parse((ROOT / path).read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith("carecore."):
                continue
            other = (node.module or "").split(".")[1]
            if other in (own, "access", "vocabulary"):
                continue
            borrowed = {a.name for a in node.names} & (enums.get(other, set()) | shared)
            assert not borrowed, f"{path} imports {borrowed} from {node.module}: move them to carecore/vocabulary.py"


def test_the_modules_a_tool_starts_from_import_on_their_own() -> None:
    """A benchmark, a CLI or a test may import any of these first; a cycle hidden by the app's import order
    (carecore.metrics and carecore.ports, 2026-12-02) broke `python -m benchmarks.notifications`."""
    starts = ["carecore.ports", "carecore.storage.store", "carecore.metrics", "carecore.health.service"]
    starts += ["carecore.shifts.scheduling", "carecore.shifts.open_shifts", "schema.build"]
    for module in starts:
        done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0, f"import {module}: {done.stderr.strip().splitlines()[-1:]}"
