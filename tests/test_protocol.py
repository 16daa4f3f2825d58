"""The wire protocol: every client message decodes or fails with a code; server messages carry their tag."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from backloop.diff.model import ContextLine, FileDiff, Hunk, Line
from backloop.protocol import (
    MAX_EXPAND_LINES,
    PROTOCOL_VERSION,
    Error,
    Expand,
    FileChanged,
    FileRemoved,
    Hello,
    Lines,
    LoadFile,
    Notice,
    Ping,
    Pong,
    ProtocolError,
    ReviewInfo,
    ServerMessage,
    Snapshot,
    decode_client,
    encode,
)
from backloop.viewspec import ViewSpec


def test_version() -> None:
    assert PROTOCOL_VERSION == 1


@pytest.mark.parametrize(("raw", "expected"), [
    ('{"type": "ping"}', Ping()),
    ('{"type": "ping", "nonce": "n1"}', Ping(nonce="n1")),
    ('{"type": "load_file", "path": "a b/<c>.txt"}', LoadFile(path="a b/<c>.txt")),
    ('{"type": "expand", "request_id": "r", "path": "x", "start": 1, "end": 1}', Expand("r", "x", 1, 1)),
    (b'{"type": "expand", "request_id": "r", "path": "x", "start": 10, "end": 20}', Expand("r", "x", 10, 20)),
])
def test_decode(raw: str | bytes, expected: object) -> None:
    assert decode_client(raw) == expected


@pytest.mark.parametrize(("raw", "code"), [
    ("", "invalid_json"),
    ("not json", "invalid_json"),
    ('{"type": "ping"', "invalid_json"),
    (b"\xff\xfe", "invalid_json"),
    ("[]", "invalid_message"),
    ('"ping"', "invalid_message"),
    ("null", "invalid_message"),
    ("{}", "invalid_message"),
    ('{"type": "nope"}', "unknown_type"),
    ('{"type": 5}', "unknown_type"),
    ('{"type": "ping", "extra": 1}', "invalid_message"),
    ('{"type": "ping", "nonce": 5}', "invalid_message"),
    ('{"type": "load_file"}', "invalid_message"),
    ('{"type": "load_file", "path": null}', "invalid_message"),
    ('{"type": "expand", "request_id": "r", "path": "x", "start": 1}', "invalid_message"),
    ('{"type": "expand", "request_id": "r", "path": "x", "start": "1", "end": 2}', "invalid_message"),
    ('{"type": "expand", "request_id": "r", "path": "x", "start": 0, "end": 2}', "invalid_message"),
    ('{"type": "expand", "request_id": "r", "path": "x", "start": -5, "end": 2}', "invalid_message"),
    ('{"type": "expand", "request_id": "r", "path": "x", "start": 5, "end": 4}', "invalid_message"),
    ('{"type": "expand", "request_id": "r", "path": "x", "start": 1, "end": ' + str(MAX_EXPAND_LINES + 1) + "}",
     "invalid_message"),
    ('{"type": "expand", "request_id": "r", "path": "x", "start": 1, "end": 1e400}', "invalid_message"),
    ('{"type": "expand", "request_id": "r", "path": "x", "start": 1, "end": 99999999999999999999999}',
     "invalid_message"),
])
def test_decode_errors(raw: str | bytes, code: str) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_client(raw)
    assert info.value.code == code
    assert info.value.message


def test_error_messages_name_the_problem() -> None:
    with pytest.raises(ProtocolError, match="path"):
        decode_client('{"type": "load_file"}')
    with pytest.raises(ProtocolError, match="extra"):
        decode_client('{"type": "ping", "extra": 1}')
    with pytest.raises(ProtocolError, match="start <= end"):
        decode_client('{"type": "expand", "request_id": "r", "path": "x", "start": 5, "end": 4}')


def test_largest_expand() -> None:
    assert decode_client(json.dumps({"type": "expand", "request_id": "r", "path": "x", "start": 1,
                                     "end": MAX_EXPAND_LINES}))


def _file() -> FileDiff:
    line = Line(kind="add", old=None, new=1, text="<b>", html="&lt;b&gt;")
    hunk = Hunk(id="h", old_start=0, old_lines=0, new_start=1, new_lines=1, header="@@ -0,0 +1 @@", lines=[line])
    return FileDiff(path="a.txt", old_path=None, status="added", binary=False, additions=1, deletions=0,
                    hunks=[hunk], digest="d")


SERVER_MESSAGES: list[ServerMessage] = [
    Hello(protocol=1, review=ReviewInfo(id="r", title="t", repo="/x", view=ViewSpec(since="HEAD", live=True))),
    Snapshot(files=[_file()]),
    FileChanged(file=_file()),
    FileRemoved(path="gone.txt"),
    Lines(request_id="q", path="a.txt", start=3, lines=[ContextLine(text="x", html="x")], eof=True),
    Notice(level="error", message="unknown since 'nope'"),
    Pong(nonce="n"),
    Error(code="invalid_json", message="bad"),
]


@pytest.mark.parametrize("message", SERVER_MESSAGES, ids=lambda m: type(m).__name__)
def test_server_messages_round_trip(message: ServerMessage) -> None:
    text = encode(message)
    data: dict[str, Any] = json.loads(text)
    assert data["type"] == msgspec.inspect.type_info(type(message)).tag  # type: ignore[attr-defined]
    assert msgspec.json.decode(text, type=ServerMessage) == message


def test_wire_shape_of_a_file() -> None:
    data = json.loads(encode(FileChanged(file=_file())))
    assert data == {"type": "file", "file": {
        "path": "a.txt", "old_path": None, "status": "added", "binary": False, "additions": 1, "deletions": 0,
        "hunks": [{"id": "h", "old_start": 0, "old_lines": 0, "new_start": 1, "new_lines": 1,
                   "header": "@@ -0,0 +1 @@",
                   "lines": [{"kind": "add", "old": None, "new": 1, "text": "<b>", "html": "&lt;b&gt;"}]}],
        "digest": "d"}}
    hello = json.loads(encode(SERVER_MESSAGES[0]))
    assert hello["review"]["view"] == {"since": "HEAD", "live": True}
    assert json.loads(encode(Error(code="c", message="m"))) == {"type": "error", "code": "c", "message": "m"}
