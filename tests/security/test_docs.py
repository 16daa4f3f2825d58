"""docs/security.md names real tests: every ``tests/...py::test_name`` in its tables is a test function of that
file, and every test of tests/security/ is named there (a defence without its proof, or a proof of nothing)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.support import ROOT

DOC = ROOT / "docs" / "security.md"
NAMED = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def named_tests() -> set[tuple[str, str]]:
    """(file, test) pairs in the tables of docs/security.md."""
    rows = [line for line in DOC.read_text().splitlines() if line.startswith("|")]
    return {(m[1], m[2]) for row in rows for m in NAMED.finditer(row)}


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return {node.name for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")}


def test_every_named_test_exists() -> None:
    named = named_tests()
    assert len(named) >= 30, "the tables of docs/security.md name fewer tests than expected: is the format changed?"
    missing = [f"{file}::{name}" for file, name in sorted(named)
               if not (ROOT / file).is_file() or name not in defined_tests(ROOT / file)]
    assert not missing, f"docs/security.md names tests that do not exist: {missing}"


def test_every_security_test_is_named() -> None:
    named = named_tests()
    unnamed = [f"{path.relative_to(ROOT)}::{name}"
               for path in sorted((ROOT / "tests" / "security").glob("test_*.py")) if path.name != "test_docs.py"
               for name in sorted(defined_tests(path)) if (str(path.relative_to(ROOT)), name) not in named]
    assert not unnamed, f"tests of tests/security/ that docs/security.md does not name: {unnamed}"
