"""Checks that requirements.lock still matches pyproject.toml: every pinned dependency (and dev
extra) is in the lock at the same version, and every locked package has hashes.

`make` runs it before installing, so an edit of pyproject.toml without `make lock` fails loudly
instead of installing something nobody locked. Standard library only: it runs before the virtualenv.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;\\]+)")


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw.split("[")[0]).lower()


def declared(pyproject: Path) -> dict[str, str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    wanted = [*project["dependencies"], *project.get("optional-dependencies", {}).get("dev", [])]
    pins: dict[str, str] = {}
    for requirement in wanted:
        match = _PIN.match(requirement.replace(" ", ""))
        if match is None:
            raise SystemExit(f"lockcheck: pin {requirement!r} with == in pyproject.toml")
        pins[_name(match[1])] = match[2]
    return pins


def locked(lock: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    blocks = re.split(r"\n(?=[A-Za-z0-9])", lock.read_text())
    for block in blocks:
        match = _PIN.match(block)
        if match is None:
            continue
        if "--hash=sha256:" not in block:
            raise SystemExit(f"lockcheck: {match[1]} has no hash in {lock.name}")
        pins[_name(match[1])] = match[2]
    return pins


def problems(pyproject: Path, lock: Path) -> list[str]:
    have = locked(lock)
    return [
        f"{name}=={version} is declared but the lock has {have.get(name, 'nothing')}"
        for name, version in declared(pyproject).items()
        if have.get(name) != version
    ]


def main() -> int:
    found = problems(ROOT / "pyproject.toml", ROOT / "requirements.lock")
    for line in found:
        print(f"lockcheck: {line}", file=sys.stderr)
    if found:
        print("lockcheck: requirements.lock is stale; run `make lock` and commit it", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
