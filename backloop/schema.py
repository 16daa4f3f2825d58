"""Generate ``docs/protocol.schema.json`` from the protocol Structs: ``python -m backloop.schema [--check]``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import msgspec

from backloop.protocol import PROTOCOL_VERSION, ClientMessage, ServerMessage

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "docs" / "protocol.schema.json"


def schema() -> dict[str, Any]:
    (server, client), defs = msgspec.json.schema_components(
        [ServerMessage, ClientMessage], ref_template="#/$defs/{name}"
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"backloop websocket protocol v{PROTOCOL_VERSION}",
        "description": "Text frames, one JSON object each. `server` is any message the server sends, `client` any "
        "message a client may send. Generated from backloop/protocol.py; do not edit by hand.",
        "$defs": {**defs, "ServerMessage": server, "ClientMessage": client},
        "oneOf": [{"$ref": "#/$defs/ServerMessage"}, {"$ref": "#/$defs/ClientMessage"}],
    }


def render() -> str:
    return json.dumps(schema(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not SCHEMA_PATH.exists() or SCHEMA_PATH.read_text() != text:
            print(f"{SCHEMA_PATH} is stale: run python -m backloop.schema", file=sys.stderr)
            return 1
        return 0
    SCHEMA_PATH.parent.mkdir(exist_ok=True)
    SCHEMA_PATH.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
