"""Syntax highlighting (pygments) and word-level intra-line marks, producing each line's ``html``.

The lexer comes from the file name only, never from guessing content. Each side of each hunk is lexed as one
segment, so multi-line tokens inside a hunk are right without lexing whole files. Results are cached by
(blob id, segment), so re-diffing a file whose old side did not change re-uses its highlighting. Everything
here is CPU work: callers run it in a worker thread.
"""

from __future__ import annotations

import difflib
import html
import itertools
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import PurePosixPath

import msgspec
from pygments.lexer import Lexer
from pygments.lexers import find_lexer_class_for_filename
from pygments.token import STANDARD_TYPES, _TokenType
from pygments.util import ClassNotFound

from backloop.diff.model import FileDiff, Hunk, Line

MAX_WORD_DIFF_LINE = 400
MAX_WORD_DIFF_BLOCK = 64
_WORD = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)

Ranges = list[tuple[int, int]]
TokenLine = list[tuple[str, str]]
"""(css class, text) pairs of one line."""


@lru_cache(maxsize=512)
def lexer_for(path: str) -> Lexer | None:
    name = PurePosixPath(path).name
    try:
        cls = find_lexer_class_for_filename(name)
    except ClassNotFound:
        return None
    if cls is None:
        return None
    return cls(stripnl=False, stripall=False, ensurenl=True, tabsize=0)


def warm_lexers(paths: Iterable[str]) -> None:
    """Look up (and so import and compile) the lexers of these files, one per file suffix: the first lookup in a
    process takes about half a second and a lexer's first use tens of ms, which would otherwise land on the first
    live update of a view whose files were all highlighted in the worker process (diff/pool.py)."""
    seen: set[str] = set()
    for path in paths:
        suffix = PurePosixPath(path).suffix or PurePosixPath(path).name
        if suffix not in seen:
            seen.add(suffix)
            lexer_for(path)


@lru_cache(maxsize=4096)
def _css_class(ttype: _TokenType) -> str:
    while ttype not in STANDARD_TYPES and ttype.parent is not None:
        ttype = ttype.parent
    cls: str = STANDARD_TYPES.get(ttype, "")
    return "" if cls == "x" else cls  # Token.Other's class would collide with our changed-word mark


class _SegmentCache:
    """LRU of lexed segments, bounded by total line count, in two parts: a new segment goes to a small probation
    part and moves to the main part only when it is asked for again. In a live view most segments are lexed once
    (each save of a file gives its new side a new blob id): in one plain LRU they would fill the whole cache before
    anything was evicted, at about 800 bytes a line (some 300 MB)."""

    def __init__(self, max_lines: int = 400_000, probation_lines: int = 10_000) -> None:
        self._data: OrderedDict[tuple[str, ...], list[TokenLine]] = OrderedDict()
        self._lines = 0
        self._max = max_lines
        self._probation: OrderedDict[tuple[str, ...], list[TokenLine]] = OrderedDict()
        self._probation_lines = 0
        self._probation_max = probation_lines
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> list[TokenLine] | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
                return value
            value = self._probation.pop(key, None)
            if value is not None:  # asked for again: keep it
                self._probation_lines -= len(value)
                self._data[key] = value
                self._lines += len(value)
                while self._lines > self._max and self._data:
                    _, old = self._data.popitem(last=False)
                    self._lines -= len(old)
            return value

    def put(self, key: tuple[str, ...], value: list[TokenLine]) -> None:
        with self._lock:
            if key in self._data or key in self._probation:
                return
            self._probation[key] = value
            self._probation_lines += len(value)
            while self._probation_lines > self._probation_max and self._probation:
                _, old = self._probation.popitem(last=False)
                self._probation_lines -= len(old)


_cache = _SegmentCache()


def tokenize(lexer: Lexer | None, lines: Sequence[str], key: tuple[str, ...] | None = None) -> list[TokenLine]:
    """Per-line tokens of consecutive lines (one segment)."""
    if key is not None:
        cached = _cache.get(key)
        if cached is not None:
            return cached
    clean = [ln.rstrip("\r").replace("\r", " ") for ln in lines]
    if lexer is None:
        result: list[TokenLine] = [[("", ln)] if ln else [] for ln in clean]
    else:
        result = [[] for _ in clean]
        row = 0
        for ttype, value in lexer.get_tokens("\n".join(clean) + "\n"):
            cls = _css_class(ttype)
            parts = value.split("\n")
            for i, part in enumerate(parts):
                if i:
                    row += 1
                if part and row < len(result):
                    result[row].append((cls, part))
        if clean and clean[0].startswith("\ufeff") and not (result[0] and result[0][0][1].startswith("\ufeff")):
            result[0].insert(0, ("", "\ufeff"))  # pygments drops a byte order mark at the start of its input
    if key is not None:
        _cache.put(key, result)
    return result


def render(tokens: TokenLine, marks: Ranges | None = None) -> str:
    """Escaped html of one line; characters inside ``marks`` are wrapped in ``<span class="x">``."""
    out: list[str] = []
    pos = 0
    mi = 0
    marks = marks or []
    for cls, text in tokens:
        start, end = pos, pos + len(text)
        pos = end
        cuts = [start]
        while mi < len(marks) and marks[mi][0] < end:
            a, b = marks[mi]
            cuts.extend(c for c in (a, b) if start < c < end)
            if b <= end:
                mi += 1
            else:
                break
        cuts.append(end)
        for a, b in itertools.pairwise(cuts):
            if a >= b:
                continue
            piece = html.escape(text[a - start : b - start], quote=False)
            marked = any(ma <= a and b <= mb for ma, mb in marks)
            classes = " ".join(c for c in (cls, "x" if marked else "") if c)
            out.append(f'<span class="{classes}">{piece}</span>' if classes else piece)
    return "".join(out)


def word_marks(old: str, new: str) -> tuple[Ranges, Ranges] | None:
    """Character ranges that differ between two paired lines, or None when the lines are too unlike."""
    if len(old) > MAX_WORD_DIFF_LINE or len(new) > MAX_WORD_DIFF_LINE:
        return None
    a = _WORD.findall(old.rstrip("\r"))
    b = _WORD.findall(new.rstrip("\r"))
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.ratio() < 0.4:
        return None
    old_marks: Ranges = []
    new_marks: Ranges = []
    a_off = _offsets(a)
    b_off = _offsets(b)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if i2 > i1:
            old_marks.append((a_off[i1], a_off[i2]))
        if j2 > j1:
            new_marks.append((b_off[j1], b_off[j2]))
    return old_marks, new_marks


def _offsets(tokens: list[str]) -> list[int]:
    offs = [0]
    for t in tokens:
        offs.append(offs[-1] + len(t))
    return offs


def _pair_marks(lines: list[Line]) -> dict[int, Ranges]:
    """Word marks per line index: each run of deletions followed by additions is paired line by line."""
    marks: dict[int, Ranges] = {}
    i = 0
    n = len(lines)
    while i < n:
        if lines[i].kind != "del":
            i += 1
            continue
        d0 = i
        while i < n and lines[i].kind == "del":
            i += 1
        a0 = i
        while i < n and lines[i].kind == "add":
            i += 1
        dels, adds = a0 - d0, i - a0
        if not adds or max(dels, adds) > MAX_WORD_DIFF_BLOCK:
            continue
        for k in range(min(dels, adds)):
            pair = word_marks(lines[d0 + k].text, lines[a0 + k].text)
            if pair is not None:
                marks[d0 + k], marks[a0 + k] = pair
    return marks


def highlight_file(fd: FileDiff, old_blob: str | None = None, new_blob: str | None = None, *,
                   previous: FileDiff | None = None) -> FileDiff:
    """``fd`` with every line's ``html`` highlighted and word-marked. A hunk equal to one of ``previous``'s
    highlighted hunks (an earlier version of the same file's diff) is taken from it: a hunk's highlighting depends
    on its lines only, and after a save most hunks of a file are what they were."""
    if fd.highlighted or not fd.hunks:
        return _replace(fd, fd.hunks, True)
    lexer = lexer_for(fd.path)
    lexer_name = type(lexer).__name__ if lexer else "text"
    done = {}
    if previous is not None and previous.highlighted and previous.path == fd.path:
        done = {h.header: h for h in previous.hunks}
    hunks = []
    for h in fd.hunks:
        old = done.get(h.header)
        hunks.append(old if old is not None and _same_hunk(h, old) else
                     _highlight_hunk(h, lexer, lexer_name, old_blob, new_blob))
    return _replace(fd, hunks, True)


def _same_hunk(new: Hunk, old: Hunk) -> bool:
    """Whether ``old`` has exactly ``new``'s lines (compared in full: the ids are short hashes)."""
    if old.id != new.id or len(old.lines) != len(new.lines):
        return False
    return all((a.kind, a.text, a.old, a.new, a.no_eol) == (b.kind, b.text, b.old, b.new, b.no_eol)
               for a, b in zip(old.lines, new.lines, strict=True))


def _highlight_hunk(h: Hunk, lexer: Lexer | None, lexer_name: str, old_blob: str | None,
                    new_blob: str | None) -> Hunk:
    old_idx = [i for i, ln in enumerate(h.lines) if ln.kind != "add"]
    new_idx = [i for i, ln in enumerate(h.lines) if ln.kind != "del"]
    old_key = (lexer_name, old_blob, str(h.old_start), str(len(old_idx))) if old_blob else None
    new_key = (lexer_name, new_blob, str(h.new_start), str(len(new_idx))) if new_blob else None
    old_tokens = tokenize(lexer, [h.lines[i].text for i in old_idx], old_key)
    new_tokens = tokenize(lexer, [h.lines[i].text for i in new_idx], new_key)
    per_line: dict[int, TokenLine] = dict(zip(old_idx, old_tokens, strict=True))
    per_line.update(zip(new_idx, new_tokens, strict=True))  # context lines: the new side's tokens
    marks = _pair_marks(h.lines)
    lines = [
        Line(kind=ln.kind, old=ln.old, new=ln.new, text=ln.text, html=render(per_line[i], marks.get(i)),
             no_eol=ln.no_eol)
        for i, ln in enumerate(h.lines)
    ]
    return Hunk(id=h.id, old_start=h.old_start, old_lines=h.old_lines, new_start=h.new_start,
                new_lines=h.new_lines, header=h.header, lines=lines)


def highlight_text(path: str, lines: Sequence[str]) -> list[str]:
    """Highlighted html of consecutive lines of a file (for expanded context)."""
    return [render(tokens) for tokens in tokenize(lexer_for(path), lines)]


def _replace(fd: FileDiff, hunks: list[Hunk], highlighted: bool) -> FileDiff:
    return msgspec.structs.replace(fd, hunks=hunks, highlighted=highlighted)


def line_count(fd: FileDiff) -> int:
    return sum(len(h.lines) for h in fd.hunks)
