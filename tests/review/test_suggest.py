"""review/suggest.py: suggestion blocks found in comment bodies and applied to the lines their thread is about."""

from __future__ import annotations

import pytest

from backloop.review.model import Comment, Reply
from backloop.review.suggest import SuggestionRefused, apply_all, find, suggested_lines


def thread(line: int, quoted: list[str], body: str = "```suggestion\nNEW\n```", end_line: int | None = None,
           replies: list[Reply] | None = None, cid: str = "c1") -> Comment:
    return Comment(id=cid, body=body, created_at=0.0, path="a.py", line=line, end_line=end_line, quoted=quoted,
                   replies=replies or [])


def test_blocks_are_found_in_their_forms() -> None:
    assert suggested_lines("Better:\n```suggestion\nx = 1\ny = 2\n```\nthanks") == ["x = 1", "y = 2"]
    assert suggested_lines("~~~~suggestion\na\n~~~~") == ["a"]
    assert suggested_lines("````suggestion\n```\ninner fence\n```\n````") == ["```", "inner fence", "```"]
    assert suggested_lines("```suggestion\n```") == []  # an empty block deletes the lines
    assert suggested_lines("```python\nx\n```") is None
    assert suggested_lines("no block at all") is None


def test_a_suggestion_replaces_its_lines_where_they_are_now() -> None:
    text = "zero\none\ntwo\nthree\n"
    moved = thread(2, ["one", "two"], end_line=3)  # the comment was made when "one" was line 2 ...
    assert apply_all("inserted\n" + text, [find(moved, "c1")]) == "inserted\nzero\nNEW\nthree\n"  # ... now line 3
    assert apply_all(text, [find(moved, "c1")]) == "zero\nNEW\nthree\n"


def test_lines_that_changed_are_never_replaced() -> None:
    gone = thread(2, ["one"])
    with pytest.raises(SuggestionRefused, match="changed since"):
        apply_all("zero\nONE (rewritten by the agent)\ntwo\n", [find(gone, "c1")])


def test_other_lines_keep_their_bytes() -> None:
    text = "a\r\nb\r\nc"  # CRLF endings and no line break at the end
    assert apply_all(text, [find(thread(3, ["c"]), "c1")]) == "a\r\nb\r\nNEW"
    assert apply_all(text, [find(thread(2, ["b"], body="```suggestion\nB1\nB2\n```"), "c1")]) == "a\r\nB1\r\nB2\r\nc"
    assert apply_all(text, [find(thread(1, ["a"], body="```suggestion\n```"), "c1")]) == "b\r\nc"


def test_several_at_once_and_overlaps_refused() -> None:
    text = "1\n2\n3\n4\n"
    first = thread(1, ["1"], cid="c1")
    last = thread(4, ["4"], body="```suggestion\nfour\n```", cid="c2")
    assert apply_all(text, [find(last, "c2"), find(first, "c1")]) == "NEW\n2\n3\nfour\n"
    overlapping = thread(1, ["1", "2"], end_line=2, cid="c3")
    with pytest.raises(SuggestionRefused, match="same lines"):
        apply_all(text, [find(first, "c1"), find(overlapping, "c3")])


def test_which_comments_can_carry_one() -> None:
    agent_reply = Reply(id="r1", author="agent", body="How about\n```suggestion\nfixed\n```", created_at=1.0)
    with_reply = thread(1, ["x"], body="this is wrong", replies=[agent_reply])
    assert find(with_reply, "r1").lines == ["fixed"]
    with pytest.raises(SuggestionRefused, match="no ```suggestion"):
        find(with_reply, "c1")
    whole_file = Comment(id="f", body="```suggestion\nx\n```", created_at=0.0, path="a.py")
    with pytest.raises(SuggestionRefused, match="lines of the new side"):
        find(whole_file, "f")
    applied = Comment(id="c1", body="```suggestion\nx\n```", created_at=0.0, path="a.py", line=1, quoted=["y"],
                      applied=["c1"])
    with pytest.raises(SuggestionRefused, match="applied already"):
        find(applied, "c1")
