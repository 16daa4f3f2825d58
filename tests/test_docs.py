"""The docs stay true: generated schema, every message and flag documented, CI runs the README's command."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable

import msgspec
import pytest

from backloop import schema
from backloop.cli import _list_parser, _server_parser
from backloop.protocol import ClientMessage, ServerMessage
from tests.support import ROOT


def _tags(union: object) -> set[str]:
    tags = set()
    for struct in union.__args__:  # type: ignore[attr-defined]
        info = msgspec.inspect.type_info(struct)
        assert isinstance(info, msgspec.inspect.StructType)
        tags.add(str(info.tag))
    return tags


def _code_blocks(markdown: str) -> list[str]:
    blocks: list[str] = []
    current: list[str] | None = None
    for line in markdown.splitlines():
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append("\n".join(current))
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def test_schema_is_fresh() -> None:
    assert schema.SCHEMA_PATH.read_text() == schema.render(), "run: python -m backloop.schema"


def test_every_message_is_documented() -> None:
    text = (ROOT / "docs" / "protocol.md").read_text()
    documented = set(re.findall(r"^### `([a-z_]+)`", text, re.M))
    assert _tags(ServerMessage) | _tags(ClientMessage) == documented


def _section(markdown: str, heading: str) -> str:
    start = markdown.index(f"\n## `{heading}`")
    end = markdown.find("\n## ", start + 1)
    return markdown[start:end if end >= 0 else None]


@pytest.mark.parametrize(("command", "parser"), [("backloop server", _server_parser), ("backloop list", _list_parser)])
def test_every_cli_flag_is_documented(command: str, parser: Callable[[str], argparse.ArgumentParser]) -> None:
    text = _section((ROOT / "docs" / "cli.md").read_text(), command)
    flags = {opt for action in parser("x")._actions for opt in action.option_strings if opt.startswith("--")}
    flags.discard("--help")
    missing = {f for f in flags if f"`{f}" not in text}
    assert not missing


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = _code_blocks(readme)
    test_commands = [b for b in blocks if "-m pytest" in b]
    assert len(test_commands) == 1
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_commands[0] in ci
    assert ci[-1] == test_commands[0]
