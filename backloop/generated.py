"""Files generated from the code (the protocol's JSON Schema, the MCP tools list): write one, or check it is
current."""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(path: Path, text: str, command: str, argv: list[str]) -> int:
    """With ``--check`` in ``argv``: 0 if ``path`` holds ``text``, else 1 and a note naming ``command`` that
    writes it. Otherwise write it and return 0."""
    if "--check" in argv:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            print(f"{path} is stale: run {command}", file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return 0
