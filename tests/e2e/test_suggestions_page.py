"""Suggested changes in a real Chromium against a real ``backloop server``: a suggestion shown as a diff and applied
(the file changes, the thread says Applied, the agent is told), refused after the agent changed those lines, applied
as a batch, and the agent's own suggestion applied by the person."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backloop.review.suggest import suggested_lines
from tests.e2e.conftest import StartServer, numbered
from tests.e2e.test_live_view import open_view, row, section, with_line
from tests.support import GitRepo
from tests.test_review_cli import review

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(f"the browser tests need Playwright for Python (pip install playwright): {exc}") from exc

pytestmark = pytest.mark.browser


def change_line(repo: GitRepo, path: str, number: int, text: str) -> None:
    repo.write(path, with_line((repo.root / path).read_text(), number, text))


def comment(page: Page, path: str, line: int, body: str) -> Locator:
    """Comment on a line of the new side; returns the thread."""
    section(page, path).get_by_role("button", name=f"Comment on line {line}", exact=True).click()
    page.get_by_role("textbox", name="Comment").fill(body)
    page.get_by_role("button", name="Add single comment").click()
    expect(page.get_by_role("textbox", name="Comment")).to_have_count(0)
    thread = section(page, path).locator(".thread").filter(has_text=body.splitlines()[0])
    expect(thread).to_have_count(1)
    return thread


def suggestion(thread: Locator) -> Locator:
    return thread.get_by_role("group", name=re.compile("^Suggested change"))


def test_a_suggestion_shows_as_a_diff_and_applies_through_the_edit_path(
        repo: GitRepo, start_server: StartServer, page: Page, tmp_path: Path) -> None:
    change_line(repo, "app.py", 14, "    return 55")
    server = start_server()
    open_view(page, server.url)

    # "Suggest a change" fills in the line as it is now, selected, to be typed over.
    section(page, "app.py").get_by_role("button", name="Comment on line 14", exact=True).click()
    page.get_by_role("button", name="Suggest a change").click()
    box = page.get_by_role("textbox", name="Comment")
    expect(box).to_have_value("```suggestion\n    return 55\n```\n")
    assert box.evaluate("(t) => t.value.slice(t.selectionStart, t.selectionEnd)") == "    return 55"
    page.keyboard.type("    return 5  # as before")
    page.get_by_role("button", name="Add single comment").click()

    thread = section(page, "app.py").locator(".thread")
    change = suggestion(thread)
    expect(change).to_be_visible()
    expect(change.locator("del")).to_have_text(["    return 55"])
    expect(change.locator("ins")).to_have_text(["    return 5  # as before"])
    expect(thread.locator("pre")).to_have_count(0)  # the block is shown as the change, not as code

    change.get_by_role("button", name="Apply suggestion").click()
    expect(thread).to_contain_text("Applied")
    expect(row(page, "app.py", "n14")).to_contain_text("return 5  # as before")
    assert (repo.root / "app.py").read_text().splitlines()[13] == "    return 5  # as before"
    expect(thread.get_by_role("button", name="Apply suggestion")).to_have_count(0)

    # The agent hears of it as of any edit of the person's.
    told = review(tmp_path, repo, "await", "--timeout", "30")
    assert told.returncode == 0, told.stderr
    assert "[edit]" in told.stdout and "+    return 5  # as before" in told.stdout, told.stdout


def test_a_suggestion_whose_lines_the_agent_changed_is_refused(
        repo: GitRepo, start_server: StartServer, page: Page) -> None:
    change_line(repo, "app.py", 14, "    return 55")
    server = start_server()
    open_view(page, server.url)
    thread = comment(page, "app.py", 14, "Back to 5:\n```suggestion\n    return 5\n```")
    suggestion(thread).get_by_role("button", name="Add to batch").click()
    batch = page.get_by_role("button", name="Apply 1 suggestion")
    expect(batch).to_be_visible()

    change_line(repo, "app.py", 14, "    return 56  # the agent's fix")  # meanwhile, the agent
    expect(row(page, "app.py", "n14")).to_contain_text("the agent's fix")
    expect(thread).to_contain_text("cannot be applied")  # its lines are gone: no "Apply suggestion" on it
    expect(thread.get_by_role("button", name="Apply suggestion")).to_have_count(0)

    batch.click()  # (the batch was made before)
    expect(thread.get_by_role("alert")).to_contain_text("Not applied: the lines of app.py this suggestion replaces "
                                                        "have changed since it was made")
    expect(page.locator(".suggestion-batch")).to_contain_text("Not applied")
    assert (repo.root / "app.py").read_text().splitlines()[13] == "    return 56  # the agent's fix"
    expect(thread).not_to_contain_text("Applied")


def test_a_batch_of_two_suggestions_is_applied_in_one_go(
        repo: GitRepo, start_server: StartServer, page: Page) -> None:
    change_line(repo, "app.py", 14, "    return 55")
    repo.write("notes.txt", with_line(numbered(100), 50, "line fifty"))
    server = start_server()
    open_view(page, server.url)
    first = comment(page, "app.py", 14, "Five.\n```suggestion\n    return 5  # five\n```")
    second = comment(page, "notes.txt", 50, "Digits, please.\n```suggestion\nline 50 (in digits)\n```")
    suggestion(first).get_by_role("button", name="Add to batch").focus()
    page.keyboard.press("Enter")
    expect(suggestion(first).get_by_role("button", name="Remove from batch")).to_be_focused()  # the focus stays
    suggestion(second).get_by_role("button", name="Add to batch").click()
    page.get_by_role("button", name="Apply 2 suggestions").click()

    expect(page.locator(".suggestion-batch")).to_contain_text("2 suggestions applied.")
    for thread in (first, second):
        expect(thread).to_contain_text("Applied")
    assert (repo.root / "app.py").read_text().splitlines()[13] == "    return 5  # five"
    assert (repo.root / "notes.txt").read_text() == with_line(numbered(100), 50, "line 50 (in digits)")
    expect(page.get_by_role("button", name=re.compile(r"^Apply \d+ suggestions?$"))).to_have_count(0)


def test_the_agents_suggestion_is_applied_by_the_person(
        repo: GitRepo, start_server: StartServer, page: Page, tmp_path: Path) -> None:
    change_line(repo, "app.py", 14, "    return 55")
    server = start_server()
    open_view(page, server.url)
    thread = comment(page, "app.py", 14, "55 is too much.")
    comment_id = thread.get_attribute("data-comment-id")
    assert comment_id

    replied = review(tmp_path, repo, "reply", comment_id, "How about this?\n```suggestion\n    return 50\n```")
    assert replied.returncode == 0, replied.stderr
    change = thread.locator(".comment-agent").get_by_role("group", name="Suggested change of line 14")
    expect(change.locator("ins")).to_have_text(["    return 50"])
    change.get_by_role("button", name="Apply suggestion").click()
    expect(thread.locator(".comment-agent")).to_contain_text("Applied")
    assert (repo.root / "app.py").read_text().splitlines()[13] == "    return 50"


BODIES = [
    "```suggestion\nb = LIMIT\n```",
    "text first\n```suggestion\none\ntwo\n```\nand after",
    "```suggestion\n```",
    "```suggestion  \n\n```",
    "~~~suggestion\nx = 1\n~~~",
    "````suggestion\n```\ninner\n```\n````",
    "```suggestion\nnot closed",
    "```suggestion\nx\n````\n```",
    "  ```suggestion\nindented fence\n```",
    "```suggestion extra\nx\n```",
    "```python\nx\n```\n```suggestion\ny\n```",
    "```suggestion\r\nwindows\r\n```",
    "```suggestion\nclose with blanks\n```  \nrest",
    "```suggestion\nfirst\n```\n```suggestion\nsecond\n```",
    "```suggestion\na\u2028b\n```",
    "no suggestion at all",
]


def test_the_page_finds_suggestions_as_the_server_does(start_server: StartServer, page: Page) -> None:
    server = start_server()
    page.goto(server.url.split("/review/")[0] + "/")
    found = page.evaluate("""async (bodies) => {
        const { suggestedLines, suggestionBlock } = await import("/static/suggestions.js");
        return bodies.map((body) => [suggestedLines(body), suggestedLines(suggestionBlock(body.split("\\n")))]);
    }""", BODIES)
    for body, (lines, round_trip) in zip(BODIES, found, strict=True):
        assert lines == suggested_lines(body), body
        if not re.search("[\r\u2028]", body):  # (line breaks of other kinds would split a line in two)
            assert round_trip == body.split("\n"), body  # a block the form writes holds any lines, fences too


def test_only_live_views_offer_to_apply(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    change_line(repo, "app.py", 14, "    return 55")
    repo.git("add", "app.py")
    server = start_server()
    open_view(page, server.url)
    comment(page, "app.py", 14, "Five.\n```suggestion\n    return 5\n```")
    open_view(page, server.url.replace("&live=true", ""))  # the staged changes: not the work tree
    thread = section(page, "app.py").locator(".thread")
    expect(suggestion(thread).locator("ins")).to_have_text(["    return 5"])
    expect(thread).to_contain_text("Can be applied in a live view")
    expect(thread.get_by_role("button", name="Apply suggestion")).to_have_count(0)
