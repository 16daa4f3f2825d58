"""git's index file, read and written directly (``gitformat-index``): the entries of a work tree's index, and small
scratch indexes made of some of them.

A scratch index lets ``git diff-files`` compare a few paths without loading the whole index, which in a large
repository is most of the command's cost (about 8 of 12 ms for one path in 20,000 files). Its entries carry no
stat data, so git compares every one of them by content, converting the work-tree file as ``git add`` would; the
output is what git prints with the real index. Only plain entries are used so (stage 0, none of the
assume-unchanged, skip-worktree and intent-to-add flags, which change what ``diff-files`` reports); a split
index is not read at all.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

_SIGNATURE = b"DIRC"
_STAT = struct.Struct(">10I")
"""ctime s/ns, mtime s/ns, dev, ino, mode, uid, gid, size."""
_ASSUME_VALID = 0x8000
_EXTENDED = 0x4000
_STAGE = 0x3000
_NAME_MASK = 0x0FFF
_EXTENDED_ODD = 0x60
"""The first byte of the extended flags: skip-worktree (0x4000) and intent-to-add (0x2000)."""
_FILE_TYPES = (0o10, 0o12, 0o16)
"""``mode >> 12`` of a file, a symlink and a gitlink (not the directories of a sparse index)."""
_HASHES = {20: "sha1", 32: "sha256"}


class IndexFormatError(ValueError):
    """The index file is not one this module reads (a split index, an unknown version, damaged, …)."""


IndexEntry = tuple[int, bytes]
"""(mode, raw object id: 20 bytes for SHA-1, 32 for SHA-256)."""


@dataclass(frozen=True)
class Index:
    """The plain entries of an index file, and the paths whose entries are not plain."""

    entries: Mapping[bytes, IndexEntry]
    special: frozenset[bytes]
    hash_size: int
    stamp: tuple[int, int, int]
    """(inode, size, mtime_ns) of the file that was read."""

    def plain(self, path: str) -> IndexEntry | None:
        return self.entries.get(path.encode("utf-8", "surrogateescape"))


def stamp_of(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def read_index(path: Path, hash_size: int) -> Index:
    """Parse the index file at ``path`` (object ids of ``hash_size`` bytes). Raises OSError or
    IndexFormatError."""
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        data = fh.read()
    if len(data) < 12 + hash_size or data[:4] != _SIGNATURE:
        raise IndexFormatError("not an index file")
    version, count = struct.unpack_from(">II", data, 4)
    if version not in (2, 3, 4):
        raise IndexFormatError(f"index version {version}")
    try:
        entries, special, pos = _entries(data, version, count, hash_size)
    except (IndexError, ValueError, struct.error) as exc:
        raise IndexFormatError(f"damaged index: {exc}") from None
    _check_extensions(data, pos, len(data) - hash_size)
    return Index(entries, frozenset(special), hash_size, (st.st_ino, st.st_size, st.st_mtime_ns))


def _entries(data: bytes, version: int, count: int,
             hash_size: int) -> tuple[dict[bytes, IndexEntry], set[bytes], int]:
    """The entries (plain ones by name, the names of the others) and the offset after the last one."""
    unpack = struct.Struct(f">24xI12x{hash_size}sH").unpack_from
    fixed = _STAT.size + hash_size + 2
    entries: dict[bytes, IndexEntry] = {}
    special: set[bytes] = set()
    pos = 12
    name = b""
    for _ in range(count):
        mode, oid, flags = unpack(data, pos)
        start = pos + fixed
        odd = flags & (_ASSUME_VALID | _STAGE) or mode >> 12 not in _FILE_TYPES
        if flags & _EXTENDED:
            if version < 3:
                raise IndexFormatError("extended flags in a version 2 index")
            odd = odd or data[start] & _EXTENDED_ODD
            start += 2
        if version == 4:
            strip, start = _varint(data, start)
            stop = data.index(b"\0", start)
            if strip > len(name):
                raise IndexFormatError("bad path compression")
            name = name[: len(name) - strip] + data[start:stop]
            pos = stop + 1
        else:
            length = flags & _NAME_MASK
            stop = start + length if length < _NAME_MASK else data.index(b"\0", start)
            name = data[start:stop]
            pos += (start - pos + len(name) + 8) & ~7
        if odd or name in special:
            special.add(name)
            entries.pop(name, None)  # an unmerged path has several entries: none of them is plain
        else:
            entries[name] = (mode, oid)
    return entries, special, pos


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """git's offset encoding (varint.c): big-endian 7-bit groups, each continuation adding one."""
    c = data[pos]
    pos += 1
    value = c & 0x7F
    while c & 0x80:
        c = data[pos]
        pos += 1
        value = ((value + 1) << 7) | (c & 0x7F)
    return value, pos


def _check_extensions(data: bytes, pos: int, end: int) -> None:
    while pos + 8 <= end:
        signature = data[pos : pos + 4]
        (size,) = struct.unpack_from(">I", data, pos + 4)
        if signature == b"link":  # a split index: the entries read are only changes to a shared index
            raise IndexFormatError("split index")
        pos += 8 + size
    if pos != end:
        raise IndexFormatError("bad extension sizes")


def write_index(path: Path, entries: Iterable[tuple[bytes, IndexEntry]], hash_size: int) -> None:
    """Write a version 2 index of ``entries`` (name, entry) without stat data, so that git compares them by
    content."""
    items = sorted(entries)
    out = bytearray(_SIGNATURE + struct.pack(">II", 2, len(items)))
    fixed = _STAT.size + hash_size + 2
    for name, (mode, oid) in items:
        if len(oid) != hash_size:
            raise IndexFormatError("object id of the wrong size")
        out += _STAT.pack(0, 0, 0, 0, 0, 0, mode, 0, 0, 0) + oid
        out += struct.pack(">H", min(len(name), _NAME_MASK)) + name
        out += b"\0" * (((fixed + len(name) + 8) & ~7) - fixed - len(name))
    out += hashlib.new(_HASHES[hash_size], out).digest()
    with open(path, "wb") as fh:
        fh.write(out)


def scratch_entries(index: Index, paths: Iterable[str]) -> list[tuple[bytes, IndexEntry]] | None:
    """What a scratch index for comparing ``paths`` holds: their plain entries and :func:`support_entries`.
    None when a path has no plain entry, or a supporting one is not plain."""
    chosen: dict[bytes, IndexEntry] = {}
    for path in paths:
        name = path.encode("utf-8", "surrogateescape")
        entry = index.entries.get(name)
        if entry is None:
            return None
        chosen[name] = entry
    support = support_entries(index, chosen)
    if support is None:
        return None
    return sorted({**dict(support), **chosen}.items())


def support_entries(index: Index, names: Iterable[bytes]) -> list[tuple[bytes, IndexEntry]] | None:
    """The entries git may read instead of a missing work-tree file while it compares the files ``names``: each
    ancestor directory's ``.gitattributes`` and ``.gitmodules``. None when one of them is not plain."""
    wanted = {b".gitmodules", b".gitattributes"}
    for name in names:
        cut = name.rfind(b"/")
        while cut > 0:
            wanted.add(name[:cut] + b"/.gitattributes")
            cut = name.rfind(b"/", 0, cut)
    if not wanted.isdisjoint(index.special):
        return None
    return [(name, index.entries[name]) for name in wanted if name in index.entries]
