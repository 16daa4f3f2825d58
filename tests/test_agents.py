"""``backloop mcp-config``: each client's snippet parses in its own format and runs this install's MCP server."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path
from typing import Any

import pytest

from backloop import agents

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "t", "version": "1"}}}


def mcp_config(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "backloop", "mcp-config", *args], capture_output=True, text=True,
                          timeout=30, stdin=subprocess.DEVNULL, check=False)


def command_of(client: str, text: str) -> list[str]:
    """The command line the client would run, read back the way that client reads its configuration."""
    if client == "claude":
        words = shlex.split(text)
        assert words[:5] == ["claude", "mcp", "add", "local-review", "--"], words
        return words[5:]
    if client == "codex":
        server = tomllib.loads(text)["mcp_servers"]["local-review"]
    else:
        server = json.loads(text)["mcpServers"]["local-review"]
    assert isinstance(server["command"], str) and isinstance(server["args"], list)
    return [server["command"], *server["args"]]


def this_install() -> Path:
    return Path(sys.executable).absolute().parent / "backloop-mcp"


@pytest.mark.parametrize(("client", "where"), [
    ("claude", "run this once in a shell"),
    ("codex", "~/.codex/config.toml"),
    ("cursor", "~/.cursor/mcp.json"),
    ("json", '"mcpServers"'),
])
def test_each_client_gets_this_installs_server(client: str, where: str) -> None:
    result = mcp_config("--client", client)
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("backloop: ") and where in result.stderr
    command = command_of(client, result.stdout)
    assert command == [str(this_install())]  # the script next to this interpreter: this install, by absolute path
    assert Path(command[0]).is_absolute() and Path(command[0]).is_file() and os.access(command[0], os.X_OK)


def test_the_default_is_the_generic_json() -> None:
    result = mcp_config()
    assert result.returncode == 0
    assert command_of("json", result.stdout) == [str(this_install())]


def test_the_configured_command_is_a_working_mcp_server(tmp_path: Path) -> None:
    command = command_of("json", mcp_config("--client", "json").stdout)
    proc = subprocess.run(command, input=json.dumps(INIT) + "\n", capture_output=True, text=True, timeout=60,
                          cwd=tmp_path, env=dict(os.environ, BACKLOOP_STATE_DIR=str(tmp_path / "state")), check=False)
    answer: dict[str, Any] = json.loads(proc.stdout.splitlines()[0])
    assert answer["id"] == 1 and answer["result"]["serverInfo"]["name"] == "backloop", proc.stderr


@pytest.mark.parametrize("client", agents.CLIENTS)
def test_paths_with_spaces_and_quotes_survive(client: str) -> None:
    command = ['/home/a b/"q"/it\'s/.venv/bin/backloop-mcp', "--x", "tab\there\x7f"]
    assert command_of(client, agents.snippet(client, command).text) == command


def test_without_the_script_python_runs_the_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An install without console scripts: this interpreter runs ``-m backloop mcp`` (the same server)."""
    python = tmp_path / "bin" / "python"
    monkeypatch.setattr(sys, "executable", str(python))
    monkeypatch.setattr(sysconfig, "get_path", lambda name: str(tmp_path / "scripts"))
    assert agents.mcp_command() == [str(python), "-m", "backloop", "mcp"]


def test_an_unknown_client_is_one_line() -> None:
    result = mcp_config("--client", "vim")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("backloop: argument --client: invalid choice")
