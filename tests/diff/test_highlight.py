"""Server-side highlighting: lexer from the name only, escaped html that reads back as the raw line, word marks."""

from __future__ import annotations

import html
import re

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backloop.diff.highlight import (
    MAX_WORD_DIFF_LINE,
    highlight_file,
    highlight_text,
    lexer_for,
    render,
    tokenize,
    warm_lexers,
    word_marks,
)
from backloop.diff.model import FileDiff, Line
from backloop.diff.parse import parse_hunks
from tests.conftest import MakeRepo
from tests.support import compute

_SPAN = re.compile(r'<span class="[a-z0-9 ]+">|</span>')


def plain(markup: str) -> str:
    """The text a browser shows for ``markup``; fails if it holds any tag other than our spans."""
    bare = _SPAN.sub("", markup)
    assert "<" not in bare and ">" not in bare, markup
    return html.unescape(bare)


def marked(markup: str) -> list[str]:
    """Texts inside changed-word marks (class ``x``)."""
    return [html.unescape(m) for m in re.findall(r'<span class="(?:[a-z0-9]+ )?x">([^<]*)</span>', markup)]


def file_diff(path: str, patch: str) -> FileDiff:
    hunks = parse_hunks(patch)
    return FileDiff(path=path, old_path=path, status="modified", binary=False, additions=0, deletions=0,
                    hunks=hunks, highlighted=False)


def all_lines(fd: FileDiff) -> list[Line]:
    return [ln for h in fd.hunks for ln in h.lines]


def test_lexer_from_the_name_only() -> None:
    assert type(lexer_for("src/a.py")).__name__ == "PythonLexer"
    assert type(lexer_for("Makefile")).__name__ == "MakefileLexer"
    assert type(lexer_for("dir.js/notes.md")).__name__ == "MarkdownLexer"
    assert lexer_for("script") is None  # no extension: content is never guessed, even with a shebang
    assert lexer_for("data.unknownextension") is None


def test_html_is_escaped_and_reads_back_as_the_text() -> None:
    fd = file_diff("x.html",
                   "@@ -1,2 +1,2 @@\n <p>&amp;</p>\n-<script>alert('x')</script>\n+<script>alert(\"y\")</script>\n")
    out = highlight_file(fd)
    assert out.highlighted
    for ln in all_lines(out):
        assert plain(ln.html) == ln.text
    assert "<script>" not in "".join(ln.html for ln in all_lines(out))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"])),
                min_size=1, max_size=6),
       st.sampled_from(["a.py", "a.js", "a.html", "a.c", "a.txt", "noext"]))
def test_any_text_round_trips(lines: list[str], path: str) -> None:
    assert [plain(h) for h in highlight_text(path, lines)] == lines


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="ab <>&\"'x=(){}", max_size=30), st.text(alphabet="ab <>&\"'y=(){}", max_size=30))
def test_changed_pairs_round_trip(old: str, new: str) -> None:
    fd = file_diff("a.js", f"@@ -1 +1 @@\n-{old}\n+{new}\n")
    out = highlight_file(fd)
    assert [plain(ln.html) for ln in all_lines(out)] == [old, new]


@pytest.mark.parametrize("path", ["a.py", "a.txt", "a.json", "noext"])
def test_byte_order_mark_is_kept(path: str) -> None:
    lines = ["\ufeffimport os", "\ufeff"]
    assert [plain(h) for h in highlight_text(path, lines)] == lines
    fd = file_diff(path, "@@ -1 +1 @@\n-import os\n+\ufeffimport os\n")
    out = highlight_file(fd)
    assert [plain(ln.html) for ln in all_lines(out)] == ["import os", "\ufeffimport os"]
    assert marked(all_lines(out)[1].html) == ["\ufeff"]


def test_one_sided_hunks() -> None:
    added = highlight_file(file_diff("a.py", "@@ -0,0 +1,2 @@\n+import os\n+x = 1\n"))
    assert [plain(ln.html) for ln in all_lines(added)] == ["import os", "x = 1"]
    removed = highlight_file(file_diff("a.py", "@@ -1,2 +0,0 @@\n-import os\n-x = 1\n"))
    assert [plain(ln.html) for ln in all_lines(removed)] == ["import os", "x = 1"]
    assert tokenize(lexer_for("a.py"), []) == []


def test_crlf_lines() -> None:
    fd = file_diff("a.py", "@@ -1,2 +1,2 @@\n x = 1\r\n-y = 2\r\n+y = 3\r\n")
    out = highlight_file(fd)
    assert [ln.text for ln in all_lines(out)] == ["x = 1\r", "y = 2\r", "y = 3\r"]
    assert [plain(ln.html) for ln in all_lines(out)] == ["x = 1", "y = 2", "y = 3"]
    assert "\r" not in highlight_text("a.py", ["a\rb"])[0]


def test_word_level_marks() -> None:
    fd = file_diff("a.py", "@@ -1,2 +1,2 @@\n-total = compute(alpha, beta)\n-same\n+total = compute(alpha, gamma)\n"
                           "+other words entirely\n")
    out = highlight_file(fd)
    lines = all_lines(out)
    assert marked(lines[0].html) == ["beta"]
    assert marked(lines[2].html) == ["gamma"]
    assert marked(lines[1].html) == [] and marked(lines[3].html) == []  # too unlike to pair words


def test_word_marks() -> None:
    assert word_marks("a b c", "a x c") == ([(2, 3)], [(2, 3)])
    assert word_marks("abc", "xyz") is None
    assert word_marks("x" * (MAX_WORD_DIFF_LINE + 1), "y") is None
    assert word_marks("same\r", "same") == ([], [])


def test_render_splits_tokens_at_marks() -> None:
    tokens = [("n", "alpha"), ("", " "), ("s", "<b>")]
    assert render(tokens) == '<span class="n">alpha</span> <span class="s">&lt;b&gt;</span>'
    assert render(tokens, [(2, 7)]) == ('<span class="n">al</span><span class="n x">pha</span><span class="x"> </span>'
                                        '<span class="s x">&lt;</span><span class="s">b&gt;</span>')


def test_multi_line_tokens_within_a_hunk() -> None:
    fd = file_diff("a.py", '@@ -1,3 +1,3 @@\n x = """\n-inside a string\n+still inside\n """\n')
    out = highlight_file(fd)
    for ln in all_lines(out)[1:3]:
        assert re.fullmatch(r'(<span class="s2( x)?">[^<]*</span>)+', ln.html), ln.html


def test_context_lines_use_the_new_side() -> None:
    lines = tokenize(lexer_for("a.py"), ["def f():", "    return 1"])
    assert lines[0][0] == ("k", "def")


def test_token_other_does_not_collide_with_the_change_mark() -> None:
    # A lexer emitting Token.Other (e.g. for template text) must not produce class "x".
    for line in highlight_text("a.erb", ["plain <%= 1 %> text"]):
        assert not re.search(r'class="x"', line)


def test_unhighlighted_files_pass_through() -> None:
    fd = msgspec.structs.replace(file_diff("a.py", "@@ -1 +1 @@\n-a\n+b\n"), hunks=[])
    assert highlight_file(fd).highlighted


def test_cache_gives_the_same_result() -> None:
    fd = file_diff("a.py", "@@ -1,2 +1,2 @@\n import os\n-x = 1\n+x = 2\n")
    first = highlight_file(fd, "a" * 40, "b" * 40)
    second = highlight_file(fd, "a" * 40, "b" * 40)
    assert first == second
    assert first == highlight_file(fd)


def test_unchanged_hunks_are_taken_from_the_previous_version() -> None:
    one = "@@ -1,2 +1,2 @@ def f():\n x = '''\n-a = 1\n+a = 2\n"
    two = "@@ -20,2 +20,2 @@ def g():\n y = 0\n-b = 1\n+b = 2\n"
    before = highlight_file(file_diff("a.py", one + two))
    after = file_diff("a.py", one + two.replace("b = 2", "b = 3"))
    again = highlight_file(after, previous=before)
    assert again == highlight_file(after)
    assert again.hunks[0] is before.hunks[0] and again.hunks[1] is not before.hunks[1]
    # Not from another file (another lexer), nor from a version that was not highlighted, nor for other lines:
    assert highlight_file(after, previous=highlight_file(file_diff("a.txt", one + two))).hunks[0] is not \
        before.hunks[0]
    plain_before = file_diff("a.py", one + two)
    assert highlight_file(after, previous=plain_before).hunks[0].lines[0].html != plain_before.hunks[0].lines[0].html
    changed = file_diff("a.py", one.replace("a = 2", "a  =  2") + two)
    assert highlight_file(changed, previous=before) == highlight_file(changed)


@pytest.mark.anyio
async def test_highlighting_real_diffs(make_repo: MakeRepo) -> None:
    repo = make_repo({"a.py": "import os\n\n\ndef f(x):\n    return x + 1\n",
                      "b.txt": "l\u00e4tin\n".encode("latin-1")})
    repo.write("a.py", "import sys\n\n\ndef f(x):\n    return x + 2  # <b>\n")
    repo.write("b.txt", "l\u00e4tin!\n".encode("latin-1"))
    for fd in (await compute(repo.root, {"since": "HEAD", "live": "true"})).values():
        out = highlight_file(fd)
        for ln in all_lines(out):
            assert plain(ln.html) == ln.text.rstrip("\r")


def test_warm_lexers_looks_up_one_file_per_suffix() -> None:
    lexer_for.cache_clear()
    warm_lexers(["a/x.py", "b/y.py", "z.go", "Makefile", "c/Makefile", "notes"])
    assert lexer_for.cache_info().currsize == 4  # x.py, z.go, Makefile, notes
    assert lexer_for("a/x.py") is not None and lexer_for.cache_info().hits == 1
