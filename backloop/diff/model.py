"""The diff model: what one file's change looks like, on the server and on the wire.

These Structs are part of the public websocket protocol (see ``docs/protocol.md``): new fields get defaults,
existing fields are never renamed.
"""

from __future__ import annotations

from typing import Literal

import msgspec

LineKind = Literal["context", "add", "del"]
FileStatus = Literal["added", "modified", "deleted", "renamed", "copied"]


class Line(msgspec.Struct, frozen=True, omit_defaults=True):
    """One diff line. ``old``/``new`` are 1-based line numbers on each side (absent on the side it is not on)."""

    kind: LineKind
    old: int | None
    new: int | None
    text: str
    """The raw line without its line break (a CR of a CRLF line is kept)."""
    html: str
    """``text`` highlighted and HTML-escaped; changed words wrapped in ``<span class="x">``."""
    no_eol: bool = False
    """The line is the last of its side and has no line break at the end."""


class Hunk(msgspec.Struct, frozen=True, omit_defaults=True):
    id: str
    """Content-based id: the same hunk text always has the same id."""
    old_start: int
    old_lines: int
    new_start: int
    new_lines: int
    header: str
    """The ``@@ -a,b +c,d @@ section`` line."""
    lines: list[Line]


class FileDiff(msgspec.Struct, frozen=True, omit_defaults=True):
    path: str
    """Path in the new version (for deletions: the deleted path)."""
    old_path: str | None
    """Path in the old version; differs from ``path`` only for renames and copies; ``None`` for added files."""
    status: FileStatus
    binary: bool
    additions: int
    deletions: int
    hunks: list[Hunk]
    digest: str = ""
    """Changes whenever anything about this file's diff changes; equal digests mean equal diffs."""
    similarity: int | None = None
    """Rename/copy similarity in percent."""
    old_mode: str | None = None
    new_mode: str | None = None
    """Octal git modes (``100644``, ``100755``, ``120000`` symlink, ``160000`` submodule), when known."""
    size: int | None = None
    """Size in bytes of the newest side of the file (set when ``too_large``)."""
    too_large: bool = False
    """The diff is too large to render by default; ``hunks`` is empty until the client asks with ``load_file``."""
    highlighted: bool = True
    """False while ``html`` is only escaped text; a ``file`` message follows once highlighting is done."""
    notice: str | None = None
    """A note about this file for the person (e.g. not valid UTF-8)."""
    untracked: bool = False
    """An untracked work-tree file (live views)."""
    unchanged: bool = False
    """In a view of the changes since a round: the file is as it was at the end of that round (no hunks)."""
    loading: bool = False
    """Sent in a large ``snapshot`` without its hunks: a ``file`` message with them follows (snapshots are
    streamed so that the first files can be shown at once)."""


# A line of unchanged context, sent to expand a hunk (no docstring: it would become the schema's description).
class ContextLine(msgspec.Struct, frozen=True):
    text: str
    html: str
