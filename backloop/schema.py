"""Generate ``docs/protocol.schema.json`` from the protocol Structs: ``python -m backloop.schema [--check]``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import msgspec

from backloop.generated import write_or_check
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
    return write_or_check(SCHEMA_PATH, render(), "python -m backloop.schema", argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
