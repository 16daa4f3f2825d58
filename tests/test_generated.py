"""Generated files: written on request, and a check that says which command brings a stale one up to date."""

from __future__ import annotations

from pathlib import Path

import pytest

from backloop.generated import write_or_check


def test_write_then_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out" / "made.json"
    assert write_or_check(target, "{}\n", "make it", ["--check"]) == 1  # missing
    assert "is stale: run make it" in capsys.readouterr().err
    assert write_or_check(target, "{}\n", "make it", []) == 0
    assert target.read_text() == "{}\n"
    assert write_or_check(target, "{}\n", "make it", ["--check"]) == 0
    assert write_or_check(target, "[]\n", "make it", ["--check"]) == 1  # out of date: left as it is
    assert target.read_text() == "{}\n"
    assert f"{target} is stale: run make it" in capsys.readouterr().err
