"""What ``backloop-mcp`` answers to MCP ``initialize`` and ``tools/list``, without the SDK, and which first calls it
takes before the SDK has loaded (early.py answers them).

Importing the MCP SDK takes about a second (its pydantic models), and clients time a server's start by its answer
to ``initialize``, then wait for its tools. This module imports only the standard library, so the launcher can
answer both at once while the SDK loads. The answers must be the ones the SDK itself gives: tests/mcp/
test_handshake.py pins every field here to the SDK's own answer (the tools from ``tools.json``, which
``python -m backloop.mcp.tools_json`` writes), and the launcher compares the two at run time as well.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from backloop import __version__

SERVER_NAME = "backloop"
TOOLS_FILE = Path(__file__).with_name("tools.json")
"""The SDK's ``tools/list`` result for our tools (the same for every protocol version it negotiates)."""

INSTRUCTIONS = """backloop runs a local, GitHub-like review of your changes: a person reviews them in the browser.
Workflow: call startreview (e.g. since='HEAD' for uncommitted work), give the returned URL to the user, then call
await_comments. For each comment you receive, fix the code, then call resolve_comment with a short reply saying what
you did (or reply_comment to ask a question). Re-read a file the reviewer edited in the page before changing it.
Call await_comments again after each round, and again after "No comments yet". When it returns REVIEW APPROVED,
the review is done."""

# The revisions the SDK negotiates through ``initialize`` (mcp_types.version.HANDSHAKE_PROTOCOL_VERSIONS): a client
# asking for one of them gets it, any other request gets the newest.
HANDSHAKE_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")

# What MCPServer announces: tools, and the (empty) prompts and resources it always registers.
CAPABILITIES: dict[str, Any] = {
    "prompts": {"listChanged": False},
    "resources": {"listChanged": False, "subscribe": False},
    "tools": {"listChanged": False},
}


CLIENT_INFO_KEYS = frozenset({"name", "version", "title", "description"})
CLIENT_CAPABILITIES = frozenset({"experimental", "sampling", "elicitation", "roots", "extensions", "tasks"})


def initialize_result(requested: str) -> dict[str, Any]:
    version = requested if requested in HANDSHAKE_VERSIONS else HANDSHAKE_VERSIONS[-1]
    return {"capabilities": CAPABILITIES, "instructions": INSTRUCTIONS, "protocolVersion": version,
            "serverInfo": {"name": SERVER_NAME, "version": __version__}}


def early_answer(line: bytes) -> tuple[int | str, bytes] | None:
    """The request id and the response line for ``line`` if it is a well-formed ``initialize`` request; None for
    anything else (the SDK answers that, errors included)."""
    message = _request(line, "initialize")
    if message is None or not _plain_params(message.get("params")):
        return None
    return _response(message["id"], initialize_result(message["params"]["protocolVersion"]))


def tools_answer(line: bytes) -> tuple[int | str, bytes] | None:
    """The request id and the response line for ``line`` if it is a plain ``tools/list`` request (no cursor, no
    ``_meta``: no params, or empty ones); None for anything else."""
    message = _request(line, "tools/list")
    if message is None or message.get("params", {}) != {}:
        return None
    return _response(message["id"], tools_result())


START_PARAMS = frozenset({"since", "commit", "range", "title", "repo"})
"""startreview's parameters (a test keeps them those of tools.json)."""


def startreview_call(line: bytes) -> tuple[int | str, dict[str, str | None]] | None:
    """The request id and the arguments if ``line`` is a plain ``tools/call`` of startreview (no ``_meta``, only
    its own parameters, each a string or null: what the SDK's validation passes as it is); None for anything else."""
    message = _request(line, "tools/call")
    params = message.get("params") if message is not None else None
    if message is None or not isinstance(params, dict) or set(params) - {"name", "arguments"}:
        return None
    arguments = params.get("arguments", {})
    if params.get("name") != "startreview" or not isinstance(arguments, dict) or set(arguments) - START_PARAMS:
        return None
    if not all(value is None or isinstance(value, str) for value in arguments.values()):
        return None
    return message["id"], arguments


def is_initialized(line: bytes) -> bool:
    """Whether ``line`` is the client's ``notifications/initialized`` (after which the SDK answers requests)."""
    try:
        message = json.loads(line)
    except ValueError:
        return False
    return (isinstance(message, dict) and message.get("jsonrpc") == "2.0" and "id" not in message
            and message.get("method") == "notifications/initialized")


@cache
def tools_result() -> dict[str, Any]:
    result: dict[str, Any] = json.loads(TOOLS_FILE.read_text(encoding="utf-8"))
    return result


def _request(line: bytes, method: str) -> dict[str, Any] | None:
    """``line`` decoded if it is a JSON-RPC request for ``method`` with a plain id and nothing else besides."""
    try:
        message = json.loads(line)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0" or message.get("method") != method:
        return None
    request_id = message.get("id")
    # Only the plainest shape: anything the SDK might refuse (or that bool-is-int could confuse) is left to it.
    if isinstance(request_id, bool) or not isinstance(request_id, int | str):
        return None
    return message if set(message) <= {"jsonrpc", "id", "method", "params"} else None


def response(request_id: int | str, result: dict[str, Any]) -> bytes:
    """The response line for a request, as compact as the SDK writes it."""
    return _response(request_id, result)[1]


def _response(request_id: int | str, result: dict[str, Any]) -> tuple[int | str, bytes]:
    response = {"jsonrpc": "2.0", "id": request_id, "result": result}
    return request_id, json.dumps(response, separators=(",", ":")).encode() + b"\n"


def _plain_params(params: object) -> bool:
    if not isinstance(params, dict) or set(params) - {"protocolVersion", "capabilities", "clientInfo"}:
        return False
    client, capabilities = params.get("clientInfo"), params.get("capabilities")
    return (isinstance(params.get("protocolVersion"), str) and isinstance(client, dict)
            and set(client) <= CLIENT_INFO_KEYS and "name" in client and "version" in client
            and all(isinstance(value, str) for value in client.values())
            and isinstance(capabilities, dict) and all(_plain_capability(key, value)
                                                       for key, value in capabilities.items()))


def _plain_capability(key: str, value: object) -> bool:
    """Capabilities in shapes the SDK's models accept (keys it does not know, it ignores); others go to the SDK."""
    if key not in CLIENT_CAPABILITIES:
        return True
    if not isinstance(value, dict):
        return False
    if key == "roots":
        return set(value) <= {"listChanged"} and isinstance(value.get("listChanged", False), bool)
    if key in ("experimental", "extensions"):  # free-form: name -> settings
        return all(isinstance(inner, dict) for inner in value.values())
    return all(inner == {} for inner in value.values())  # sampling, elicitation, tasks: flags as empty objects
