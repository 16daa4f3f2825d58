"""What a long-running server keeps grows with what is reused, not with how many saves it saw: the highlighting
cache keeps segments lexed once (each save of a file is a new blob) only in its small probation part."""

from __future__ import annotations

from backloop.diff import highlight


def test_segments_lexed_once_stay_in_probation() -> None:
    cache = highlight._SegmentCache(max_lines=1_000, probation_lines=100)
    lexer = highlight.lexer_for("a.py")
    for save in range(500):  # 500 saves of a 10-line file: every segment new
        lines = [f"value_{k} = {save * 31 + k}" for k in range(10)]
        key = ("PythonLexer", f"{save:040x}", "1", "10")
        assert cache.get(key) is None
        cache.put(key, highlight.tokenize(lexer, lines))
    assert cache._probation_lines <= 100 and cache._lines == 0
    # A segment asked for again (the old side, the same blob in another view) is kept in the main part.
    kept = ("PythonLexer", f"{499:040x}", "1", "10")
    assert cache.get(kept) is not None
    for save in range(500, 1_000):
        cache.put(("PythonLexer", f"{save:040x}", "1", "10"), [[("", "x")]] * 10)
    assert cache.get(kept) is not None and cache._lines == 10
