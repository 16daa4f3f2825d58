"""A review's open threads as one Markdown document (file:line, the quoted code, the thread), for a person to paste
into an agent that is not connected over MCP, or for a script to read."""

from __future__ import annotations

import re

from backloop.review.model import Comment
from backloop.review.session import Review


def open_threads_markdown(review: Review) -> str:
    threads = [c for c in review.comments.values() if c.state == "open"]
    lines = [f"# Review: {review.title}", "",
             f"{len(threads)} open thread{'' if len(threads) == 1 else 's'} on `{review.repo.root}` "
             f"({review.view.describe()}). Address each one; the quoted code is as it was when the comment was made.",
             ""]
    for thread in threads:
        lines += [f"## {_where(thread)}", ""]
        if thread.quoted:
            first = thread.line or 1
            code = [f"{first + i:>5} | {text}" for i, text in enumerate(thread.quoted)]
            fence = _fence(code)
            lines += [fence, *code, fence, ""]
        lines += _said(thread.author, thread.body, thread.id in thread.applied)
        for reply in thread.replies:
            lines += _said(reply.author, reply.body, reply.id in thread.applied)
    return "\n".join(lines).rstrip("\n") + "\n"


def _where(thread: Comment) -> str:
    if thread.path is None:
        return "The whole review" + (" (changes requested)" if thread.kind == "request_changes" else "")
    if thread.line is None:
        return f"{thread.path} (whole file)"
    span = f"{thread.line}" if thread.end_line is None else f"{thread.line}-{thread.end_line}"
    notes = [note for note, applies in (("old side: the code before the change", thread.side == "old"),
                                        ("outdated: these lines have changed since", thread.outdated)) if applies]
    return f"{thread.path}:{span}" + "".join(f" ({note})" for note in notes)


def _said(author: str, body: str, applied: bool) -> list[str]:
    """A message of the thread as a block quote, so that its own Markdown cannot break the document's structure; one
    whose suggested change is in the file already says so (it is not to be made again)."""
    quoted = [f"> {line}" if line else ">" for line in body.splitlines() or [""]]
    return [f"**{author}** (its suggestion is applied already):" if applied else f"**{author}:**", "", *quoted, ""]


def _fence(code: list[str]) -> str:
    """A backtick fence longer than any run of backticks in ``code``."""
    longest = max((len(run) for line in code for run in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)
