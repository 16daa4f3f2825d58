"""Patches between two contents of a file that git does not hold together (what was recorded at the end of a round,
and the file now), written as ``git diff`` prints them, so that parsing and highlighting take them unchanged.

Blocking (difflib): call from a worker thread.
"""

from __future__ import annotations

import difflib
import hashlib
import re

from backloop.diff.parse import FilePatch, RawEntry, git_quote

ABSENT = "0" * 64
"""The name of no content: the file does not exist on that side."""
_BINARY_SNIFF = 8000  # as git: a NUL in the first 8000 bytes
_AUTOJUNK_LINES = 5_000
"""Above this many lines difflib may skip very frequent lines when aligning (quicker; the diff stays correct)."""
_SPACE = re.compile(rb"\s+")


def blob_name(data: bytes) -> str:
    """The name a content is recorded under (sha256)."""
    return hashlib.sha256(data).hexdigest()


def _lines(data: bytes) -> list[bytes]:
    """Lines with their ``\\n`` (the last one without, when the file does not end with one)."""
    lines = [part + b"\n" for part in data.split(b"\n")]
    lines[-1] = lines[-1][:-1]
    if lines[-1] == b"":
        lines.pop()
    return lines


def _span(start: int, length: int) -> str:
    # git: a side with no lines names the line before it; one line is named alone
    first = start + 1 if length else start
    return str(first) if length == 1 else f"{first},{length}"


def _emit(out: list[bytes], mark: bytes, line: bytes) -> None:
    out.append(mark + line)
    if not line.endswith(b"\n"):
        out.append(b"\n\\ No newline at end of file\n")


def hunks(old: bytes, new: bytes, *, context: int = 3, ignore_ws: bool = False) -> bytes:
    """The ``@@`` part of the patch from ``old`` to ``new``; empty when they are the same (under ``ignore_ws``,
    ignoring all whitespace, as ``git diff --ignore-all-space``)."""
    a, b = _lines(old), _lines(new)
    keys_a = [_SPACE.sub(b"", x) for x in a] if ignore_ws else a
    keys_b = [_SPACE.sub(b"", x) for x in b] if ignore_ws else b
    matcher = difflib.SequenceMatcher(None, keys_a, keys_b, autojunk=len(a) + len(b) > _AUTOJUNK_LINES)
    out: list[bytes] = []
    for group in matcher.get_grouped_opcodes(context):
        if all(tag == "equal" for tag, *_ in group):
            continue
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        out.append(f"@@ -{_span(i1, i2 - i1)} +{_span(j1, j2 - j1)} @@\n".encode())
        for tag, x1, x2, y1, y2 in group:
            if tag == "equal":
                for line in b[y1:y2]:
                    _emit(out, b" ", line)
                continue
            for line in a[x1:x2]:
                _emit(out, b"-", line)
            for line in b[y1:y2]:
                _emit(out, b"+", line)
    return b"".join(out)


def patch(path: str, old: bytes | None, new: bytes | None, *, old_mode: str = "100644", new_mode: str = "100644",
          context: int = 3, ignore_ws: bool = False) -> FilePatch | None:
    """The patch from ``old`` to ``new`` (None: the file does not exist on that side); None when both are None."""
    if old is None and new is None:
        return None
    old_name = blob_name(old) if old is not None else ABSENT
    new_name = blob_name(new) if new is not None else ABSENT
    a_path, b_path = git_quote("a/" + path), git_quote("b/" + path)
    head = [f"diff --git {a_path} {b_path}\n"]
    if old is None:
        status, old_mode = "A", "000000"
        head += [f"new file mode {new_mode}\n", f"index {old_name}..{new_name}\n"]
    elif new is None:
        status, new_mode = "D", "000000"
        head += [f"deleted file mode {old_mode}\n", f"index {old_name}..{new_name}\n"]
    else:
        status = "M"
        if old_mode != new_mode:
            head += [f"old mode {old_mode}\n", f"new mode {new_mode}\n", f"index {old_name}..{new_name}\n"]
        else:
            head.append(f"index {old_name}..{new_name} {new_mode}\n")
    entry = RawEntry(old_mode, new_mode, old_name, new_name, status, None, path, path)
    chunk = "".join(head).encode("utf-8", "surrogateescape")
    old_b, new_b = old or b"", new or b""
    if old_name == new_name:
        return FilePatch(entry, chunk, unchanged=old_mode == new_mode)
    if b"\0" in old_b[:_BINARY_SNIFF] or b"\0" in new_b[:_BINARY_SNIFF]:
        names = (a_path if old is not None else "/dev/null", b_path if new is not None else "/dev/null")
        return FilePatch(entry, chunk + f"Binary files {names[0]} and {names[1]} differ\n".encode(
            "utf-8", "surrogateescape"))
    body = hunks(old_b, new_b, context=context, ignore_ws=ignore_ws)
    if not body:  # the same but for whitespace, which this view ignores
        return FilePatch(entry, chunk, unchanged=old_mode == new_mode)
    files = (f"--- {a_path if old is not None else '/dev/null'}\n"
             f"+++ {b_path if new is not None else '/dev/null'}\n").encode("utf-8", "surrogateescape")
    return FilePatch(entry, chunk + files + body)
