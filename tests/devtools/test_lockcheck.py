"""requirements.lock matches pyproject.toml, and an edit of one without the other is caught."""

from __future__ import annotations

from pathlib import Path

from devtools.lockcheck import ROOT, problems

PYPROJECT = """
[project]
name = "x"
dependencies = ["pymongo==4.20.0"]
[project.optional-dependencies]
dev = ["pytest==9.2.0"]
"""


def test_the_committed_lock_matches_pyproject() -> None:
    assert problems(ROOT / "pyproject.toml", ROOT / "requirements.lock") == []


def test_a_pin_changed_in_pyproject_but_not_in_the_lock_is_stale(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "requirements.lock").write_text(
        "pymongo==4.19.0 \\\n    --hash=sha256:aa\npytest==9.2.0 \\\n    --hash=sha256:bb\n"
    )

    assert problems(tmp_path / "pyproject.toml", tmp_path / "requirements.lock") == [
        "pymongo==4.20.0 is declared but the lock has 4.19.0"
    ]
