"""frontend/protocol.js mirrors backloop/protocol.py: same message tags both ways, same version, same close codes."""

from __future__ import annotations

import re
from typing import Any, get_args

import msgspec

from backloop import protocol
from tests.support import ROOT

PROTOCOL_JS = ROOT / "frontend" / "protocol.js"


def js_object(name: str) -> dict[str, str]:
    """The entries of ``export const NAME = Object.freeze({ KEY: value, ... });`` in protocol.js."""
    text = PROTOCOL_JS.read_text(encoding="utf-8")
    match = re.search(rf"export const {name} = Object\.freeze\(\{{(.*?)\}}\);", text, re.S)
    assert match, f"frontend/protocol.js has no frozen object {name}"
    entries = re.findall(r"^\s*([A-Z_]+):\s*(\"[a-z_]+\"|\d+),?\s*$", match.group(1), re.M)
    body_lines = [line for line in match.group(1).strip().splitlines() if line.strip()]
    assert len(entries) == len(body_lines), f"unparsed entries in {name}: {match.group(1)!r}"
    return {key: value.strip('"') for key, value in entries}


def struct_tags(union: Any) -> set[str]:
    tags = set()
    for member in get_args(union):
        assert issubclass(member, msgspec.Struct)
        tag = member.__struct_config__.tag
        assert isinstance(tag, str), f"{member.__name__} has no string tag"
        tags.add(tag)
    return tags


def test_server_tags_match() -> None:
    js = js_object("SERVER")
    assert set(js.values()) == struct_tags(protocol.ServerMessage)
    assert all(key == tag.upper() for key, tag in js.items())


def test_client_tags_match() -> None:
    js = js_object("CLIENT")
    assert set(js.values()) == struct_tags(protocol.ClientMessage)
    assert all(key == tag.upper() for key, tag in js.items())


def test_version_and_close_codes_match() -> None:
    text = PROTOCOL_JS.read_text(encoding="utf-8")
    version = re.search(r"export const PROTOCOL_VERSION = (\d+);", text)
    assert version and int(version.group(1)) == protocol.PROTOCOL_VERSION
    codes = {key: int(value) for key, value in js_object("CLOSE").items()}
    expected = {name.removeprefix("CLOSE_"): value for name, value in vars(protocol).items()
                if name.startswith("CLOSE_") and isinstance(value, int)}
    assert codes == expected
