"""Comments in the page, in a real Chromium against a real ``backloop server``: ranges of lines (shift-click and
drag), Markdown bodies rendered safely, threads that follow their code and outdated threads."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.e2e.conftest import StartServer, Watched, numbered
from tests.e2e.test_live_view import open_view, row, section, with_line
from tests.support import GitRepo

try:
    from playwright.sync_api import Locator, Page, WebSocket, expect
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(f"the browser tests need Playwright for Python (pip install playwright): {exc}") from exc

pytestmark = pytest.mark.browser


def snapshot_comments(page: Page, url: str) -> list[dict[str, Any]]:
    """Load ``url`` again and return the comments of the snapshot the server sends to the page."""
    frames: list[str] = []

    def on_socket(socket: WebSocket) -> None:
        socket.on("framereceived", lambda payload: frames.append(payload if isinstance(payload, str) else ""))

    page.on("websocket", on_socket)
    open_view(page, url)
    page.wait_for_function("() => document.querySelector('#files section.file') !== null")
    page.remove_listener("websocket", on_socket)
    snapshots = [json.loads(frame) for frame in frames if frame.startswith('{"type":"snapshot"')]
    assert snapshots, "the page got no snapshot"
    comments: list[dict[str, Any]] = snapshots[0].get("comments", [])
    return comments


def add_comment(page: Page, body: str) -> None:
    page.get_by_role("textbox", name="Comment").fill(body)
    page.get_by_role("button", name="Add single comment").click()
    expect(page.get_by_role("textbox", name="Comment")).to_have_count(0)


def gutter(page: Page, path: str, key: str, side: str = "new") -> Locator:
    return row(page, path, key).locator(f"td.num-{side}")


def drag(page: Page, start: Locator, end: Locator, via: Locator | None = None) -> None:
    """Press the mouse on ``start``, move over ``via`` and ``end``, release it there."""
    page.mouse.move(*center(start))
    page.mouse.down()
    for target in ([via] if via is not None else []) + [end]:
        page.mouse.move(*center(target), steps=4)
    page.mouse.up()


def center(locator: Locator) -> tuple[float, float]:
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_shift_click_comments_on_a_range(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    text = numbered(100)
    for n in (5, 6, 7):
        text = with_line(text, n, f"changed {n}")
    repo.write("notes.txt", text)
    server = start_server()
    open_view(page, server.url)
    notes = section(page, "notes.txt")

    notes.get_by_role("button", name="Comment on line 5", exact=True).click()
    expect(notes.locator("form.comment-form .thread-where")).to_have_text("Comment on line 5")
    notes.get_by_role("button", name="Comment on line 7", exact=True).click(modifiers=["Shift"])
    # one form, now for the range, under its last line; the range's rows are highlighted
    expect(notes.locator("form.comment-form")).to_have_count(1)
    expect(notes.locator("form.comment-form .thread-where")).to_have_text("Comment on lines 5\u20137")
    expect(notes.locator('tr[data-key="n7"] + tr.comment-form-row')).to_have_count(1)
    expect(notes.locator("tr.selected")).to_have_count(3)
    for key in ("n5", "n6", "n7"):
        expect(row(page, "notes.txt", key)).to_have_class(re.compile(r"\bselected\b"))
    expect(row(page, "notes.txt", "n8")).not_to_have_class(re.compile(r"\bselected\b"))

    add_comment(page, "These three lines belong together.")
    thread = notes.locator("[data-comment-id]")
    expect(thread).to_contain_text("These three lines belong together.")
    expect(thread.locator(".thread-where")).to_have_text("Lines 5\u20137")
    expect(notes.locator('tr[data-key="n7"] + tr.thread-row [data-comment-id]')).to_have_count(1)
    expect(notes.locator("tr.selected")).to_have_count(0)

    comments = snapshot_comments(page, server.url)
    where = [(c["path"], c.get("side", "new"), c["line"], c["end_line"]) for c in comments]
    assert where == [("notes.txt", "new", 5, 7)]
    assert comments[0]["quoted"] == ["changed 5", "changed 6", "changed 7"]
    expect(section(page, "notes.txt").locator("[data-comment-id] .thread-where")).to_have_text("Lines 5\u20137")


def test_drag_across_line_numbers_comments_on_a_range(repo: GitRepo, start_server: StartServer,
                                                       page: Page) -> None:
    text = numbered(100)
    for n in range(20, 26):
        text = with_line(text, n, f"changed {n}")
    repo.write("notes.txt", text)
    server = start_server()
    open_view(page, server.url)
    notes = section(page, "notes.txt")

    drag(page, gutter(page, "notes.txt", "n21"), gutter(page, "notes.txt", "n24"), via=gutter(page, "notes.txt", "n22"))
    expect(notes.locator("form.comment-form .thread-where")).to_have_text("Comment on lines 21\u201324")
    expect(notes.locator("tr.selected")).to_have_count(4)
    expect(notes.locator('tr[data-key="n24"] + tr.comment-form-row')).to_have_count(1)
    expect(page.get_by_role("textbox", name="Comment")).to_be_focused()
    add_comment(page, "Dragged over four lines.")
    expect(notes.locator("[data-comment-id] .thread-where")).to_have_text("Lines 21\u201324")

    # upwards works too, and a single click on a line number only selects it (no form)
    gutter(page, "notes.txt", "n25").click()
    expect(notes.locator("tr.selected")).to_have_count(1)
    expect(notes.locator("form.comment-form")).to_have_count(0)
    drag(page, gutter(page, "notes.txt", "n25"), gutter(page, "notes.txt", "n23"))
    expect(notes.locator("form.comment-form .thread-where")).to_have_text("Comment on lines 23\u201325")
    add_comment(page, "And upwards.")

    comments = snapshot_comments(page, server.url)
    assert sorted((c["line"], c["end_line"]) for c in comments) == [(21, 24), (23, 25)]


def test_split_layout_drag_on_the_old_side(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    text = numbered(100)
    for n in (40, 41, 42):
        text = with_line(text, n, f"rewritten {n}")
    repo.write("notes.txt", text)
    server = start_server()
    open_view(page, server.url + "&view=split")
    notes = section(page, "notes.txt")
    expect(notes.locator("table.diff-split").first).to_be_visible()

    drag(page, gutter(page, "notes.txt", "n40", "old"), gutter(page, "notes.txt", "n42", "old"))
    expect(notes.locator("form.comment-form .thread-where")).to_have_text("Comment on old lines 40\u201342")
    expect(notes.locator('tr.selected[data-selected="old"]')).to_have_count(3)
    add_comment(page, "The old version was clearer.")
    expect(notes.locator("[data-comment-id] .thread-where")).to_have_text("Old lines 40\u201342")

    comments = snapshot_comments(page, server.url + "&view=split")
    assert [(c["side"], c["line"], c["end_line"], c["quoted"]) for c in comments] == [
        ("old", 40, 42, ["line 40", "line 41", "line 42"])
    ]


MARKDOWN = """Please **rename** this, *soon*, and keep `snake_case_names` as they are:

```python
def answer() -> int:
    return 42 < 43
```

- first point
- second point with [the docs](https://example.com/docs?a=1&b=2)

> quoted advice

<img src=x onerror=window.__pwned=1>
[x](javascript:window.__pwned=1)
<script>window.__pwned=1</script>"""


def test_markdown_in_comments_is_rendered_safely(repo: GitRepo, start_server: StartServer,
                                                 watched: Watched) -> None:
    page = watched.page
    repo.write("notes.txt", with_line(numbered(100), 10, "changed 10"))
    server = start_server()
    open_view(page, server.url)
    notes = section(page, "notes.txt")
    notes.get_by_role("button", name="Comment on line 10", exact=True).click()
    add_comment(page, MARKDOWN)

    body = notes.locator("[data-comment-id] .comment-body").first
    expect(body.locator("strong")).to_have_text("rename")
    expect(body.locator("em")).to_have_text("soon")
    expect(body.locator("p code")).to_have_text("snake_case_names")
    code = body.locator("pre > code")
    expect(code).to_have_text("def answer() -> int:\n    return 42 < 43")
    expect(code).to_have_class("language-python")
    expect(body.locator("ul > li")).to_have_count(2)
    link = body.get_by_role("link", name="the docs")
    expect(link).to_have_attribute("href", "https://example.com/docs?a=1&b=2")
    expect(body.locator("blockquote")).to_have_text("quoted advice")
    # raw HTML and the javascript: link are shown as the text they are
    expect(body).to_contain_text("<img src=x onerror=window.__pwned=1>")
    expect(body).to_contain_text("[x](javascript:window.__pwned=1)")
    expect(body).to_contain_text("<script>window.__pwned=1</script>")
    assert body.locator("img, script").count() == 0
    hrefs = body.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs == ["https://example.com/docs?a=1&b=2"]
    assert page.evaluate("typeof window.__pwned") == "undefined"

    # replies and the request-changes summary are Markdown too
    thread = notes.locator("[data-comment-id]")
    thread.get_by_role("textbox", name="Reply").fill("Done, see `answer()` and **the test**.")
    thread.get_by_role("button", name="Reply", exact=True).click()
    reply = thread.locator("[data-reply-id] .comment-body")
    expect(reply.locator("code")).to_have_text("answer()")
    expect(reply.locator("strong")).to_have_text("the test")
    page.get_by_role("button", name="Request changes").click()
    page.get_by_role("textbox", name="Summary of the changes to make").fill(
        "1. fix *this*\n2. then [that](mailto:dev@example.com)\n\n[y](data:text/html,x)")
    page.get_by_role("button", name="Send request").click()
    summary = page.locator("#conversation [data-comment-id] .comment-body")
    expect(summary.locator("ol > li")).to_have_count(2)
    expect(summary.locator("em")).to_have_text("this")
    expect(summary.get_by_role("link", name="that")).to_have_attribute("href", "mailto:dev@example.com")
    expect(summary).to_contain_text("[y](data:text/html,x)")
    assert summary.locator("a").count() == 1
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert not watched.dialogs


def test_threads_follow_their_code_and_outdated_ones_stay_readable(repo: GitRepo, start_server: StartServer,
                                                                   page: Page) -> None:
    base = with_line(numbered(100), 50, "changed 50")
    repo.write("notes.txt", base)
    server = start_server()
    open_view(page, server.url)
    notes = section(page, "notes.txt")
    notes.get_by_role("button", name="Comment on line 50", exact=True).click()
    add_comment(page, "Why **50**?")
    thread = notes.locator("[data-comment-id]")
    expect(notes.locator('tr[data-key="n50"] + tr.thread-row [data-comment-id]')).to_have_count(1)
    page.evaluate("window.__noReload = true")

    # Five lines appear above it: the server re-anchors the comment, the thread moves down with its line.
    lines = base.splitlines(keepends=True)
    moved = "".join(lines[:10] + [f"inserted {n}\n" for n in range(5)] + lines[10:])
    repo.write("notes.txt", moved)
    expect(notes.locator('tr[data-key="n55"] + tr.thread-row [data-comment-id]')).to_have_count(1)
    expect(row(page, "notes.txt", "n55")).to_contain_text("changed 50")
    expect(notes.locator(".file-threads-outdated")).to_have_count(0)

    # The line goes away: the thread is outdated, folded on top of the file with the code it was about.
    repo.write("notes.txt", moved.replace("changed 50\n", ""))
    outdated = notes.locator(".file-threads-outdated")
    expect(outdated).to_be_visible()
    fold = outdated.locator("details.thread-fold")
    expect(fold.locator("summary")).to_contain_text("Outdated")
    expect(fold.locator("summary")).to_contain_text("Line 55")
    expect(thread).to_be_hidden()  # collapsed
    fold.locator("summary").click()
    expect(thread).to_be_visible()
    expect(thread.locator(".thread-quote")).to_have_text("changed 50")
    expect(thread.locator(".comment-body strong")).to_have_text("50")
    expect(notes.locator("tr.thread-row")).to_have_count(0)
    # the fold stays open across another live update of the file
    repo.write("notes.txt", moved.replace("changed 50\n", "").replace("line 90\n", "line ninety\n"))
    expect(row(page, "notes.txt", "n94")).to_contain_text("line ninety")
    expect(thread).to_be_visible()
    assert page.evaluate("window.__noReload") is True
