"""Untracked work-tree files as patches, in the form ``git diff`` prints for an added file.

Synthesised here rather than with one ``git diff --no-index`` process per file: a snapshot of a tree with many
new files stays one ``ls-files`` call plus plain reads.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import BinaryIO

from backloop.diff.parse import MAX_RENDER_BYTES, FilePatch, RawEntry, git_quote

_BINARY_SNIFF = 8000  # git's buffer_is_binary looks for a NUL in the first 8000 bytes


def untracked_patch(root: Path, rel: str, *, full: bool = False, hash_name: str = "sha1") -> FilePatch | None:
    """The patch adding ``rel``, or None when it is no longer a regular file or symlink. Only the head of a huge
    file is read unless ``full``: enough to send it as ``too_large``."""
    path = root / rel
    blob: str | None = None
    line_count: int | None = None
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISLNK(st.st_mode):
        data = os.readlink(path).encode("utf-8", "surrogateescape")
        mode = "120000"
    elif stat.S_ISREG(st.st_mode):
        mode = "100755" if st.st_mode & 0o111 else "100644"
        try:
            with open(path, "rb") as fh:
                if st.st_size > MAX_RENDER_BYTES and not full:
                    data = fh.read(MAX_RENDER_BYTES + 1)
                    blob, line_count = _scan_rest(data, fh, st.st_size, hash_name)
                else:
                    data = fh.read()
        except OSError:
            return None
    else:
        return None
    size = st.st_size if mode != "120000" else len(data)
    if blob is None:
        blob = _blob_id(data, size, hash_name) if len(data) == size else "0" * 40
    name_b = git_quote("b/" + rel)
    head = f"diff --git {git_quote('a/' + rel)} {name_b}\nnew file mode {mode}\nindex {'0' * len(blob)}..{blob}\n"
    binary = b"\0" in data[:_BINARY_SNIFF]
    if not data:
        body = b""
    elif binary:
        body = f"Binary files /dev/null and {name_b} differ\n".encode("utf-8", "surrogateescape")
    else:
        lines = data.split(b"\n")
        no_eol = lines[-1] != b""
        if not no_eol:
            lines.pop()
        body = (f"--- /dev/null\n+++ {name_b}\n@@ -0,0 +1" + (f",{len(lines)}" if len(lines) != 1 else "")
                + " @@\n").encode("utf-8", "surrogateescape")
        body += b"".join(b"+" + ln + b"\n" for ln in lines)
        if no_eol:
            body += b"\\ No newline at end of file\n"
    chunk = head.encode("utf-8", "surrogateescape") + body
    entry = RawEntry("000000", mode, "0" * len(blob), blob, "A", None, rel, rel)
    counts = (line_count, 0) if line_count is not None and not binary else None
    return FilePatch(entry, chunk, untracked=True, counts=counts)


def complete_patch(root: Path, patch: FilePatch) -> FilePatch:
    """``patch`` with all of its file: one made from only the head of a big untracked file (``counts`` set) is
    read again in full."""
    if patch.counts is None:
        return patch
    hash_name = "sha256" if len(patch.entry.new_id) == 64 else "sha1"
    return untracked_patch(root, patch.path, full=True, hash_name=hash_name) or patch


def _scan_rest(head: bytes, fh: BinaryIO, size: int, hash_name: str) -> tuple[str, int]:
    """Blob id and line count of a file of which only ``head`` is kept: the rest is read in blocks (so that the
    counts are right and any change anywhere in the file changes the blob id, and so the digest)."""
    h = hashlib.new(hash_name)
    h.update(b"blob %d\0" % size)
    h.update(head)
    total, newlines, last = len(head), head.count(b"\n"), head[-1:]
    while block := fh.read(1 << 20):
        h.update(block)
        total += len(block)
        newlines += block.count(b"\n")
        last = block[-1:]
    lines = newlines + (1 if last not in (b"", b"\n") else 0)
    # The file changed while we read it: no id (the watcher reports the change and it is read again).
    return (h.hexdigest() if total == size else "0" * len(h.hexdigest())), lines


def _blob_id(data: bytes, size: int, hash_name: str) -> str:
    h = hashlib.new(hash_name)
    h.update(b"blob %d\0" % size)
    h.update(data)
    return h.hexdigest()
