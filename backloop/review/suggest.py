"""Suggested changes: a ```suggestion block in a comment on lines (or in a reply in its thread) proposes the text
that replaces those lines. Applying one rewrites exactly the lines the thread is about, found again by their
quoted text (they may have moved), and refuses when they are no longer there: never the wrong lines.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from backloop.review.anchor import reanchor
from backloop.review.model import Comment

_BLOCK = re.compile(r"^(?P<fence>`{3,}|~{3,})suggestion[ \t]*\r?\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S)


class SuggestionRefused(Exception):
    """The suggestion cannot be applied; the message says why, for the person."""


def suggested_lines(body: str) -> list[str] | None:
    """The replacement lines of the first suggestion block in ``body`` (an empty block deletes the lines), or None
    when it has none."""
    found = _BLOCK.search(body)
    if found is None:
        return None
    return found.group("body").replace("\r\n", "\n").splitlines()


@dataclass(frozen=True)
class Suggestion:
    source_id: str
    """The comment or reply whose body holds the block."""
    thread: Comment
    lines: list[str]


def find(thread: Comment, source_id: str) -> Suggestion:
    """The suggestion of ``source_id``, the thread's own comment or one of its replies."""
    if thread.path is None or thread.line is None or thread.side != "new":
        raise SuggestionRefused("only a comment on lines of the new side can carry a suggestion")
    body = thread.body if source_id == thread.id else next((r.body for r in thread.replies if r.id == source_id), None)
    if body is None:
        raise SuggestionRefused(f"no comment or reply {source_id!r} in this thread")
    lines = suggested_lines(body)
    if lines is None:
        raise SuggestionRefused("that comment has no ```suggestion block")
    if source_id in thread.applied:
        raise SuggestionRefused("that suggestion was applied already")
    return Suggestion(source_id, thread, lines)


def apply_all(text: str, suggestions: list[Suggestion]) -> str:
    """``text`` (one file) with every suggestion applied to the lines its thread is about now; SuggestionRefused
    when a thread's lines are gone or two suggestions would change the same lines. Every other line keeps its
    bytes, line ending included."""
    raw = text.splitlines(keepends=True)
    lines = [line.rstrip("\r\n") for line in raw]
    spans: list[tuple[int, int, list[str]]] = []
    for s in suggestions:
        thread = s.thread
        assert thread.line is not None
        count = (thread.end_line or thread.line) - thread.line + 1
        start = reanchor(thread.quoted, thread.line, lines) if thread.quoted else None
        if start is None or start - 1 + count > len(lines):
            raise SuggestionRefused(f"the lines of {thread.path} this suggestion replaces have changed since it was "
                                    "made: nothing was applied")
        spans.append((start - 1, start - 1 + count, s.lines))
    spans.sort()
    for (_, end, _), (start, _, _) in itertools.pairwise(spans):
        if start < end:
            raise SuggestionRefused("two of these suggestions change the same lines: apply them one at a time")
    for start, end, new in reversed(spans):
        eol = _ending(raw[start]) or "\n"
        last = _ending(raw[end - 1])  # "" when the replaced lines end the file without a line break
        raw[start:end] = [line + (eol if i < len(new) - 1 else last) for i, line in enumerate(new)]
    return "".join(raw)


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")):]
