"""The docs stay true: generated schema, every message and flag documented, CI runs the README's command."""

from __future__ import annotations

import argparse
import json
import re
import textwrap
import tomllib
from collections.abc import Callable

import msgspec
import pytest

from backloop import agents, schema
from backloop.agentcli import verbs as review_verbs
from backloop.cli import _list_parser, _mcp_config_parser, _review_parser, _server_parser
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
    """Fenced blocks, also those indented in a list item (their indent removed)."""
    blocks: list[str] = []
    current: list[str] | None = None
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append(textwrap.dedent("\n".join(current)))
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


@pytest.mark.parametrize(("command", "parser"), [("backloop server", _server_parser), ("backloop list", _list_parser),
                                               ("backloop mcp-config", _mcp_config_parser)])
def test_every_cli_flag_is_documented(command: str, parser: Callable[[str], argparse.ArgumentParser]) -> None:
    text = _section((ROOT / "docs" / "cli.md").read_text(), command)
    flags = {opt for action in parser("x")._actions for opt in action.option_strings if opt.startswith("--")}
    flags.discard("--help")
    missing = {f for f in flags if f"`{f}" not in text}
    assert not missing


def test_every_review_verb_and_flag_is_documented() -> None:
    text = _section((ROOT / "docs" / "cli.md").read_text(), "backloop review")
    (verbs,) = [a for a in _review_parser("x")._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(verbs.choices) == {"start", "await", "resolve", "reply", "approve"}
    assert "`--json` (every verb)" in text
    for verb, parser in verbs.choices.items():
        rows = [line.split("|")[1] for line in text.splitlines() if line.startswith(f"| `{verb} ")]
        for action in parser._actions:
            names = action.option_strings or [str(action.metavar)]
            for name in set(names) - {"-h", "--help", "--json"}:
                assert any(f" {name}" in row for row in rows), (verb, name)
    statuses = re.findall(r"^\| (\d+) \|", text, re.M)
    assert {int(s) for s in statuses} == {review_verbs.DONE, review_verbs.FAILED, review_verbs.NOTHING_YET,
                                          review_verbs.APPROVED, review_verbs.INTERRUPTED}


VENV_SETUP = "python3 -m venv .venv && .venv/bin/pip install -q -e "
"""How the README's commands begin: a project virtualenv (a stock Debian or Ubuntu Python refuses a plain pip
install, PEP 668), made on the first run and reused after."""


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = _code_blocks(readme)
    test_commands = [b for b in blocks if "-m pytest" in b]
    assert len(test_commands) == 1
    assert test_commands[0] == f"{VENV_SETUP}'.[test]' && .venv/bin/python -m pytest"
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_commands[0] in ci
    assert ci[-1] == test_commands[0]


def test_the_readme_run_command_is_one_line_in_the_virtualenv() -> None:
    blocks = _code_blocks((ROOT / "README.md").read_text())
    run = [b for b in blocks if b.startswith("python3 -m venv") and "pytest" not in b]
    assert run == [f"{VENV_SETUP}. && .venv/bin/backloop server"]


def test_no_command_installs_outside_a_virtualenv() -> None:
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if not line.lstrip().startswith("#")]
    commands = [*ci, *(b for doc in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
                       for b in _code_blocks(doc.read_text()))]
    for bad in (re.compile(r"(?<![/\w])pip3? install"), re.compile(r"python3? -m pip")):
        assert not [c for c in commands if bad.search(c)], bad.pattern


def test_the_published_package_is_named_only_as_a_future() -> None:
    """``uvx --from backloop`` installs another, older project from PyPI today: every mention says so."""
    for doc in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for paragraph in doc.read_text().split("\n\n"):
            flat = " ".join(paragraph.split())
            if "uvx --from backloop" in flat:
                assert "once backloop is published" in flat.lower(), (doc.name, flat)


def test_the_readme_agent_snippets_are_what_mcp_config_prints() -> None:
    """The README's examples, with a placeholder path, in each client's own format."""
    command = ["/abs/path/to/backloop/.venv/bin/backloop-mcp"]
    blocks = _code_blocks((ROOT / "README.md").read_text())
    assert agents.snippet("claude", command).text in blocks
    toml = [tomllib.loads(b) for b in blocks if b.startswith("[mcp_servers.")]
    assert toml == [tomllib.loads(agents.snippet("codex", command).text)]
    configs = [json.loads(b) for b in blocks if b.startswith('{"mcpServers"')]
    assert configs == [json.loads(agents.snippet("json", command).text)]
    assert json.loads(agents.snippet("cursor", command).text) == configs[0]


def test_design_names_every_layer() -> None:
    """docs/design.md's layer table names every module of the import contract, in the contract's order."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    [layers] = [c["layers"] for c in config if c["type"] == "layers"]
    design = (ROOT / "docs" / "design.md").read_text()
    table = design[design.index("\n## Layers"):design.index("\n## ", design.index("\n## Layers") + 1)]
    positions = []
    for layer in layers:
        for module in re.split(r"\s*[|:]\s*", layer):
            name = module.removeprefix("backloop.").replace(".", "/")
            found = re.search(rf"`{re.escape(name)}(\.py|/)`", table)
            assert found is not None, f"docs/design.md's layer table does not name {module}"
            positions.append(found.start())
    assert positions == sorted(positions), "docs/design.md lists the layers in another order than pyproject.toml"
