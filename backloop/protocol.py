"""The websocket wire protocol, version 1: every message both ways, and the one encoder/decoder.

Text frames, one JSON object each, discriminated by ``type``. This module is the single definition of the
format: ``docs/protocol.md`` describes it, ``docs/protocol.schema.json`` is generated from it
(``python -m backloop.schema``), and ``frontend/protocol.js`` mirrors its tags. Evolve it by adding message
types and fields with defaults; never rename.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from backloop.diff.model import FileDiff
from backloop.viewspec import ViewSpec

PROTOCOL_VERSION = 1

ReviewState = Literal["open", "approved", "changes_requested"]

# Close codes (RFC 6455 private range 4000-4999 for ours).
CLOSE_UNKNOWN_REVIEW = 4404
CLOSE_FORBIDDEN = 4403
CLOSE_BAD_VIEW = 4400


class ReviewInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    id: str
    title: str
    repo: str
    view: ViewSpec
    state: ReviewState = "open"
    base: str = ""
    """What the old side is, resolved (e.g. ``HEAD~1 (3f2a9c1)``)."""
    target: str = ""
    """What the new side is (``work tree``, ``index`` or a commit)."""


class ContextLine(msgspec.Struct, frozen=True):
    text: str
    html: str


# ---- server → client ----------------------------------------------------------------------------------------


class Hello(msgspec.Struct, tag="hello", frozen=True):
    protocol: int
    review: ReviewInfo


class Snapshot(msgspec.Struct, tag="snapshot", frozen=True):
    files: list[FileDiff]


class FileChanged(msgspec.Struct, tag="file", frozen=True):
    file: FileDiff


class FileRemoved(msgspec.Struct, tag="file_removed", frozen=True):
    path: str


class Lines(msgspec.Struct, tag="lines", frozen=True):
    """Reply to ``expand``: lines ``start``… of the new side of ``path``."""

    request_id: str
    path: str
    start: int
    lines: list[ContextLine]
    eof: bool
    """True when the file ends within (or before) the requested range."""


class Notice(msgspec.Struct, tag="notice", frozen=True):
    """The view cannot be shown as asked (bad ref, repository changed); ``level`` ``ok`` clears it."""

    level: Literal["ok", "warning", "error"]
    message: str


class Pong(msgspec.Struct, tag="pong", frozen=True):
    nonce: str = ""


class Error(msgspec.Struct, tag="error", frozen=True, omit_defaults=True):
    code: str
    message: str
    client_id: str | None = None


ServerMessage = Hello | Snapshot | FileChanged | FileRemoved | Lines | Notice | Pong | Error


# ---- client → server ----------------------------------------------------------------------------------------


class Expand(msgspec.Struct, tag="expand", frozen=True, forbid_unknown_fields=True):
    """Ask for lines ``start``..``end`` (1-based, inclusive) of the new side of ``path`` (to expand context)."""

    request_id: str
    path: str
    start: int
    end: int


class LoadFile(msgspec.Struct, tag="load_file", frozen=True, forbid_unknown_fields=True):
    """Render a file that was sent with ``too_large``: the server answers with a full ``file`` message."""

    path: str


class Ping(msgspec.Struct, tag="ping", frozen=True, forbid_unknown_fields=True):
    nonce: str = ""


ClientMessage = Expand | LoadFile | Ping

MAX_EXPAND_LINES = 5_000

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(ClientMessage)


class ProtocolError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def encode(message: ServerMessage) -> str:
    return _encoder.encode(message).decode()


def decode_client(data: str | bytes) -> ClientMessage:
    """Decode one client frame, or raise ProtocolError with a code and a message naming what is wrong."""
    try:
        message = _decoder.decode(data)
    except msgspec.ValidationError as exc:
        text = str(exc)
        code = "unknown_type" if "`$.type`" in text else "invalid_message"
        raise ProtocolError(code, text) from None
    except msgspec.DecodeError as exc:
        raise ProtocolError("invalid_json", f"not a JSON object: {exc}") from None
    if isinstance(message, Expand) and not (1 <= message.start <= message.end < message.start + MAX_EXPAND_LINES):
        raise ProtocolError("invalid_message", f"expand needs 1 <= start <= end and at most {MAX_EXPAND_LINES} lines")
    return message
