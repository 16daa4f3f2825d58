"""File contents recorded at the end of each round, content-addressed in the state directory
(``<state>/blobs/ab/cdef…``, named by their sha256), never in the user's repository or its object store.

Blocking: call from a worker thread. A blob is written to a temporary file beside its place and renamed into it, so
a reader never sees half of one; a blob whose bytes do not match its name (a crash that lost a write the rename
had made visible) reads as missing.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path

_NAME = re.compile(r"[0-9a-f]{64}")


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, digest: str) -> Path:
        if not _NAME.fullmatch(digest):
            raise ValueError(f"not a blob name: {digest!r}")
        return self.root / digest[:2] / digest[2:]

    def put(self, data: bytes) -> str:
        """Store ``data`` (once: the same bytes are the same blob); returns its name."""
        digest = content_hash(data)
        path = self._path(digest)
        if path.exists():
            return digest
        # Owner-only, whatever the umask: recorded files are the user's private code.
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.parent.mkdir(exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)  # (mkstemp creates it 0600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return digest

    def get(self, digest: str) -> bytes | None:
        """The bytes named ``digest``, or None when the blob is missing or damaged."""
        try:
            data = self._path(digest).read_bytes()
        except (OSError, ValueError):
            return None
        return data if content_hash(data) == digest else None

    def has(self, digest: str) -> bool:
        return self._path(digest).exists()

