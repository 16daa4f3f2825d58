"""``backloop mcp-config``: how to point a coding agent at this install's MCP server.

The command is the ``backloop-mcp`` script installed next to the running interpreter (a virtualenv's ``bin/``), by
its absolute path: agents start MCP servers without the person's shell, so neither an activated virtualenv nor
``PATH`` can be relied on."""

from __future__ import annotations

import json
import os
import shlex
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

SERVER_KEY = "local-review"
"""The name the agent knows the server by (its tools show up as ``local-review``'s)."""
CLIENTS = ("claude", "codex", "cursor", "json")
SCRIPT = "backloop-mcp.exe" if os.name == "nt" else "backloop-mcp"


def mcp_command() -> list[str]:
    """This install's MCP server as a command line: its ``backloop-mcp`` script, else ``python -m backloop mcp``
    with this interpreter (an install without scripts)."""
    interpreter = Path(sys.executable).absolute()  # not resolved: a virtualenv's python is a symlink out of it
    for folder in (interpreter.parent, Path(sysconfig.get_path("scripts"))):
        script = folder / SCRIPT
        if script.is_file() and os.access(script, os.X_OK):
            return [str(script)]
    return [str(interpreter), "-m", "backloop", "mcp"]


@dataclass(frozen=True)
class Snippet:
    text: str
    """What to run or paste (printed on stdout)."""
    where: str
    """Where it goes (printed on stderr, so that stdout can be appended to a config file as it is)."""


def _toml_string(value: str) -> str:
    # A JSON string is a TOML basic string, but for DEL, which TOML wants escaped.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _json_config(command: list[str]) -> str:
    server = {"command": command[0], "args": command[1:]}
    return json.dumps({"mcpServers": {SERVER_KEY: server}}, indent=2)


def snippet(client: str, command: list[str] | None = None) -> Snippet:
    """The set-up for ``client`` (claude, codex, cursor or json) running ``command`` (default: this install's)."""
    command = command or mcp_command()
    if client == "claude":
        return Snippet(shlex.join(["claude", "mcp", "add", SERVER_KEY, "--", *command]),
                       "run this once in a shell (add --scope user before the name for every project)")
    if client == "codex":
        args = ", ".join(_toml_string(a) for a in command[1:])
        text = f"[mcp_servers.{SERVER_KEY}]\ncommand = {_toml_string(command[0])}\nargs = [{args}]"
        return Snippet(text, "add this to ~/.codex/config.toml (or a project's .codex/config.toml)")
    if client == "cursor":
        return Snippet(_json_config(command), "merge this into ~/.cursor/mcp.json (every project) or the "
                                              "project's .cursor/mcp.json")
    if client == "json":
        return Snippet(_json_config(command), "merge this into your agent's MCP configuration (the usual "
                                              "\"mcpServers\" form)")
    raise ValueError(f"unknown client {client!r}")

