"""The tools' JSON schemas said shortly: every agent reads the whole ``tools/list`` answer into its context."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.types import Tool as MCPTool


class CompactServer(MCPServer):
    """Lists the tools with their schemas said shortly: every agent reads them into its context."""

    async def list_tools(self) -> list[MCPTool]:
        return [tool.model_copy(update={"input_schema": compact_schema(tool.input_schema),
                                        "output_schema": tool.output_schema and compact_schema(tool.output_schema)})
                for tool in await super().list_tools()]


def compact_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The same JSON schema without what pydantic repeats: titles (the property names again), defaults (the server
    fills in what a call leaves out, and every result carries every field) and ``anyOf`` for a nullable type (a
    type list says the same)."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("title", "default"):
            continue
        if key == "anyOf" and _nullable(value):
            out["type"] = [value[0]["type"], "null"]
            out.update((k, v) for k, v in value[0].items() if k != "type")
        elif key in ("properties", "$defs"):
            out[key] = {name: compact_schema(inner) for name, inner in value.items()}
        elif key == "items" and isinstance(value, dict):
            out[key] = compact_schema(value)
        else:
            out[key] = value
    return out


def _nullable(any_of: object) -> bool:
    return (isinstance(any_of, list) and len(any_of) == 2 and any_of[1] == {"type": "null"}
            and isinstance(any_of[0], dict) and isinstance(any_of[0].get("type"), str))
