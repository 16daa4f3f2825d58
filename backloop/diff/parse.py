"""``git diff --raw -z -p`` output → per-file model (text lines, escaped html; highlighting comes later).

The raw (``-z``) part gives exact paths, modes, ids and rename scores without any quoting; each file's patch chunk
is matched to its raw entry in order. unidiff parses the hunks of one chunk, fed with a plain header so that odd
file names never reach its header parser.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass

from unidiff import PatchSet

from backloop.diff.model import FileDiff, FileStatus, Hunk, Line, LineKind

MAX_RENDER_BYTES = 1_000_000
"""Chunks larger than this are sent as ``too_large`` until a client asks for them."""
MAX_RENDER_LINES = 20_000

_STATUS: dict[str, FileStatus] = {
    "A": "added", "D": "deleted", "M": "modified", "T": "modified", "U": "modified", "X": "modified",
    "R": "renamed", "C": "copied",
}
_NULL_MODE = "000000"
_ZERO_ID = frozenset({"0" * 40, "0" * 64})


@dataclass(frozen=True, slots=True)
class RawEntry:
    old_mode: str
    new_mode: str
    old_id: str
    new_id: str
    status: str
    score: int | None
    old_path: str
    new_path: str


@dataclass(frozen=True, slots=True)
class FilePatch:
    """One file of a diff: its raw entry and its patch chunk (empty when git printed none)."""

    entry: RawEntry
    chunk: bytes
    untracked: bool = False
    counts: tuple[int, int] | None = None
    """(additions, deletions) when ``chunk`` holds only the head of a huge patch (a large untracked file)."""
    unchanged: bool = False
    """Listed though nothing changed (a view of the changes since a round: the file is as it was then)."""

    @property
    def path(self) -> str:
        return self.entry.old_path if self.entry.status == "D" else self.entry.new_path

    @property
    def digest(self) -> str:
        e = self.entry
        h = hashlib.blake2b(digest_size=10)
        h.update(f"{e.status}{e.score}\0{e.old_mode}{e.new_mode}\0{e.old_path}\0{e.new_path}\0".encode(
            "utf-8", "surrogateescape"))
        h.update(self.chunk)
        return h.hexdigest()


def split_raw_patch(out: bytes) -> list[FilePatch]:
    """Split ``--raw -z -p`` output into one FilePatch per raw entry that has something to show."""
    entries: list[RawEntry] = []
    pos = 0
    n = len(out)
    while pos < n and out[pos : pos + 1] == b":":
        end = out.index(b"\0", pos)
        meta = out[pos + 1 : end].decode().split(" ")
        old_mode, new_mode, old_id, new_id, status = meta[0], meta[1], meta[2], meta[3], meta[4]
        pos = end + 1
        end = out.index(b"\0", pos)
        first = out[pos:end].decode("utf-8", "surrogateescape")
        pos = end + 1
        second = first
        if status[0] in "RC":
            end = out.index(b"\0", pos)
            second = out[pos:end].decode("utf-8", "surrogateescape")
            pos = end + 1
        score = int(status[1:]) if len(status) > 1 and status[1:].isdigit() else None
        entries.append(RawEntry(old_mode, new_mode, old_id, new_id, status[0], score, first, second))
    patch = out[pos:].lstrip(b"\0")
    chunks = _split_chunks(patch)
    # Entries with nothing to show (same mode, no patch) are left out: files whose only change is whitespace
    # under -w, and work-tree files whose stat data changed but whose content did not (git/repo.py turns off
    # diff.autoRefreshIndex, which would otherwise rewrite the index to hide them).
    return [fp for fp in _match(entries, chunks)
            if fp.chunk or fp.entry.status != "M" or fp.entry.old_mode != fp.entry.new_mode]


_CHUNK_STARTS = (b"diff --git ", b"* Unmerged path ")
"""How each file's part of the patch begins (the second: an unmerged path, in a diff of the index)."""


def _split_chunks(patch: bytes) -> list[bytes]:
    if not patch:
        return []
    starts = {0}
    for marker in _CHUNK_STARTS:
        idx = patch.find(b"\n" + marker)
        while idx != -1:
            starts.add(idx + 1)
            idx = patch.find(b"\n" + marker, idx + 1)
    order = sorted(starts)
    return [patch[a:b] for a, b in zip(order, [*order[1:], len(patch)], strict=True)]


def git_quote(name: str) -> str:
    """Git's C-style quoting of a path (as with core.quotePath=false)."""
    if not any(c in '"\\' or ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return name
    out = ['"']
    escapes = {"\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r",
               '"': '\\"', "\\": "\\\\"}
    for c in name:
        if c in escapes:
            out.append(escapes[c])
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\{ord(c):03o}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _header(entry: RawEntry) -> bytes:
    if entry.status == "U":
        return f"* Unmerged path {entry.new_path}".encode("utf-8", "surrogateescape")
    return f"diff --git {git_quote('a/' + entry.old_path)} {git_quote('b/' + entry.new_path)}".encode(
        "utf-8", "surrogateescape")


def _match(entries: list[RawEntry], chunks: list[bytes]) -> list[FilePatch]:
    """Pair chunks with entries in order. An entry may have no chunk (whitespace-only change under -w) or two
    (a type change prints a deletion and an addition)."""
    result: list[FilePatch] = []
    ci = 0
    for entry in entries:
        header = _header(entry)
        parts: list[bytes] = []
        while ci < len(chunks) and chunks[ci].split(b"\n", 1)[0] == header:
            parts.append(chunks[ci])
            ci += 1
        result.append(FilePatch(entry, b"".join(parts)))
    if ci < len(chunks):
        # A header we could not predict (an unusual name): fall back to positional pairing.
        if len(chunks) == len(entries):
            return [FilePatch(e, c) for e, c in zip(entries, chunks, strict=True)]
        raise ValueError(f"cannot match diff chunk {chunks[ci][:200]!r} to a file")
    return result


def _decode(chunk: bytes) -> tuple[str, str | None]:
    try:
        return chunk.decode("utf-8"), None
    except UnicodeDecodeError:
        return chunk.decode("utf-8", "replace"), "This file is not valid UTF-8: invalid bytes are shown as \ufffd."


def _mode(mode: str) -> str | None:
    return None if mode == _NULL_MODE else mode


def hunk_id(header: str, lines: list[Line]) -> str:
    h = hashlib.blake2b(header.encode("utf-8", "surrogateescape"), digest_size=8)
    for line in lines:
        h.update(line.kind[0].encode())
        h.update(line.text.encode("utf-8", "surrogateescape"))
        h.update(b"\n")
    return h.hexdigest()


def build_file(patch: FilePatch, *, full: bool = False, summary: bool = False) -> FileDiff:
    """The FileDiff of one FilePatch; hunks left out (``too_large``) for huge chunks unless ``full``. With
    ``summary`` the hunks are not parsed yet (``loading``): status and counts only, cheap for a first look."""
    e = patch.entry
    status = _STATUS.get(e.status, "modified")
    # A type change (file <-> symlink) is printed as two parts, a deletion and an addition: each has its own
    # header and hunks.
    binary = False
    bodies: list[bytes] = []
    for part in _split_chunks(patch.chunk):
        hunk_at = part.find(b"\n@@ ")
        head = part if hunk_at == -1 else part[:hunk_at]
        binary = binary or b"\nBinary files " in head or b"\nGIT binary patch" in head
        if hunk_at != -1:
            bodies.append(part[hunk_at + 1 :])
    size = sum(len(b) for b in bodies)
    too_large = not full and (size > MAX_RENDER_BYTES or sum(b.count(b"\n") for b in bodies) > MAX_RENDER_LINES)
    notice: str | None = None
    hunks: list[Hunk] = []
    if too_large and patch.counts is not None:
        additions, deletions = patch.counts
    elif too_large or (summary and bodies):
        additions = sum(b.count(b"\n+") for b in bodies)
        deletions = sum(b.count(b"\n-") for b in bodies)
    elif bodies:
        for body in bodies:
            text, part_notice = _decode(body)
            notice = notice or part_notice
            hunks += parse_hunks(text)
        additions = sum(1 for h in hunks for ln in h.lines if ln.kind == "add")
        deletions = sum(1 for h in hunks for ln in h.lines if ln.kind == "del")
    else:
        additions = deletions = 0
    if e.status == "U":
        notice = "Unmerged path: this file has merge conflicts."
    return FileDiff(
        path=patch.path,
        old_path=None if status == "added" else e.old_path,
        status=status,
        binary=binary,
        additions=additions,
        deletions=deletions,
        hunks=hunks,
        digest=patch.digest,
        similarity=e.score if status in ("renamed", "copied") else None,
        old_mode=_mode(e.old_mode),
        new_mode=_mode(e.new_mode),
        too_large=too_large,
        highlighted=not hunks,
        notice=notice,
        untracked=patch.untracked,
        unchanged=patch.unchanged,
        loading=summary and bool(bodies) and not too_large,
    )


def parse_hunks(text: str) -> list[Hunk]:
    """Hunks of the ``@@``-part of one file's patch."""
    patch = PatchSet("--- a/f\n+++ b/f\n" + text)
    hunks: list[Hunk] = []
    if not patch:
        return hunks
    for uh in patch[0]:
        lines: list[Line] = []
        for ul in uh:
            kind_char = ul.line_type
            value: str = ul.value
            if kind_char == "\\":
                if lines:
                    lines[-1] = _with_no_eol(lines[-1])
                continue
            raw = value[:-1] if value.endswith("\n") else value
            kind: LineKind = "add" if kind_char == "+" else "del" if kind_char == "-" else "context"
            lines.append(Line(
                kind=kind,
                old=ul.source_line_no if kind != "add" else None,
                new=ul.target_line_no if kind != "del" else None,
                text=raw,
                html=html.escape(raw.rstrip("\r"), quote=False),
            ))
        header = f"@@ -{_span(uh.source_start, uh.source_length)} +{_span(uh.target_start, uh.target_length)} @@"
        if uh.section_header:
            header += " " + uh.section_header
        hunks.append(Hunk(
            id=hunk_id(header, lines),
            old_start=uh.source_start,
            old_lines=uh.source_length,
            new_start=uh.target_start,
            new_lines=uh.target_length,
            header=header,
            lines=lines,
        ))
    return hunks


def _span(start: int, length: int) -> str:
    return str(start) if length == 1 else f"{start},{length}"


def _with_no_eol(line: Line) -> Line:
    return Line(kind=line.kind, old=line.old, new=line.new, text=line.text, html=line.html, no_eol=True)


def blob_ids(chunk: bytes) -> tuple[str | None, str | None]:
    """Old and new blob ids from the ``index a..b`` line (``--full-index``), for highlight caching."""
    at = chunk.find(b"\nindex ")
    if at == -1:
        return None, None
    line = chunk[at + 7 : chunk.find(b"\n", at + 1)].split(b" ")[0]
    old, _, new = line.decode().partition("..")
    return (None if old in _ZERO_ID else old) or None, (None if new in _ZERO_ID else new) or None
