"""Pending reviews in a real Chromium: "Start a review" holds comments (marked Pending, editable, deletable, kept
across a reload) until "Submit review", whose dialog (summary and verdict, operable from the keyboard) hands all
of them to the agent's waiting ``await_comments`` (a real ``backloop-mcp``) as one result."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.conftest import StartServer, Watched, numbered
from tests.e2e.test_agent_loop import CALL_TIMEOUT_S, URL, agent_session, text
from tests.e2e.test_live_view import open_view, section, with_line
from tests.support import GitRepo

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(f"the browser tests need Playwright for Python (pip install playwright): {exc}") from exc

pytestmark = pytest.mark.browser


def changed_notes(repo: GitRepo) -> None:
    text = numbered(100)
    for n in (10, 20, 30):
        text = with_line(text, n, f"changed {n}")
    repo.write("notes.txt", text)


def review_comment(page: Page, line: int, body: str, button: str) -> Locator:
    """Comment on a line of notes.txt with ``button`` ("Start a review", "Add review comment", "Add single
    comment"); the thread it makes."""
    notes = section(page, "notes.txt")
    notes.get_by_role("button", name=f"Comment on line {line}", exact=True).click()
    page.get_by_role("textbox", name="Comment").fill(body)
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.get_by_role("textbox", name="Comment")).to_have_count(0)
    thread = notes.locator("[data-comment-id]", has_text=body)
    expect(thread).to_have_count(1)
    return page.locator(f'[data-comment-id="{thread.get_attribute("data-comment-id")}"]')


def submit_button(page: Page) -> Locator:
    return page.locator("#topbar button.submit-review")


def test_a_started_review_reaches_the_agent_as_one_result(repo: GitRepo, watched: Watched, tmp_path: Path) -> None:
    page = watched.page
    changed_notes(repo)
    with agent_session(repo, tmp_path / "state") as agent:
        started = agent.call("startreview", {"since": "HEAD"})
        match = URL.search(text(started))
        assert match, text(started)
        open_view(page, match[0])
        waiting = agent.call_soon("await_comments", {"review_id": match[2], "timeout_seconds": 50})
        expect(page.locator("[data-agent]")).to_have_attribute("data-agent", "waiting")

        first = review_comment(page, 10, "Why ten?", "Start a review")
        expect(first.locator(".badge-pending")).to_have_text("Pending")
        # Once a review is started, the form offers to add to it; the quick verdicts give way to "Submit review".
        review_comment(page, 20, "And twenty?", "Add review comment")
        review_comment(page, 30, "Thirty too.", "Add review comment")
        expect(page.locator(".badge-pending")).to_have_count(3)
        expect(submit_button(page)).to_have_accessible_name("Submit review, 3 pending comments")
        expect(page.get_by_role("button", name="Approve", exact=True)).to_be_hidden()
        expect(page.locator("[data-agent]")).to_have_attribute("data-agent", "waiting")
        assert not waiting.done(), "a pending comment reached the agent"

        submit_button(page).click()
        dialog = page.get_by_role("dialog", name="Submit review")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("3 pending comments will be sent")
        dialog.get_by_role("textbox", name="Summary").fill("Three questions about the numbers.")
        dialog.get_by_role("radio", name="Request changes").check()
        dialog.get_by_role("button", name="Submit review").click()
        expect(dialog).to_be_hidden()

        result = waiting.result(timeout=CALL_TIMEOUT_S)
        items = result.structured_content["items"]
        assert [(i["type"], i["body"]) for i in items] == [
            ("comment", "Why ten?"), ("comment", "And twenty?"), ("comment", "Thirty too."),
            ("request_changes", "Three questions about the numbers.")]
        assert [i["line"] for i in items[:3]] == [10, 20, 30]
        expect(page.locator(".badge-pending")).to_have_count(0)
        expect(page.locator("[data-review-state]")).to_have_attribute("data-review-state", "changes_requested")
        expect(page.locator("#conversation")).to_contain_text("Three questions about the numbers.")
        expect(page.get_by_role("button", name="Approve", exact=True)).to_be_visible()
        expect(submit_button(page)).to_have_accessible_name("Submit review")
        page.goto("about:blank")  # (before the agent's server goes: no reconnects to report)


def test_pending_comments_are_edited_deleted_and_survive_a_reload(repo: GitRepo, start_server: StartServer,
                                                                  page: Page) -> None:
    changed_notes(repo)
    server = start_server()
    open_view(page, server.url)
    keep = review_comment(page, 10, "First thought.", "Start a review")
    drop = review_comment(page, 20, "Second thought.", "Add review comment")
    expect(keep.get_by_role("button", name="Reply")).to_be_hidden()
    expect(keep.get_by_role("button", name="Resolve conversation")).to_have_count(0)

    keep.get_by_role("button", name="Edit pending comment").click()
    editor = keep.get_by_role("textbox", name="Edit pending comment")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("First thought.")
    editor.fill("Not this.")
    editor.press("Escape")  # leaves the edit, changing nothing
    expect(editor).to_have_count(0)
    expect(keep.locator(".comment-body")).to_have_text("First thought.")
    keep.get_by_role("button", name="Edit pending comment").click()
    expect(editor).to_have_value("First thought.")
    editor.fill("First thought, better put.")
    editor.press("Control+Enter")
    expect(keep.locator(".comment-body")).to_have_text("First thought, better put.")
    expect(keep.get_by_role("button", name="Edit pending comment")).to_be_focused()
    drop.get_by_role("button", name="Delete pending comment").click()
    expect(drop).to_have_count(0)
    expect(submit_button(page)).to_have_accessible_name("Submit review, 1 pending comment")

    page.reload()
    expect(page.locator("[data-connection]")).to_have_attribute("data-connection", "open")
    threads = section(page, "notes.txt").locator("[data-comment-id]")
    expect(threads).to_have_count(1)
    expect(threads.locator(".comment-body")).to_have_text("First thought, better put.")
    expect(threads.locator(".badge-pending")).to_have_text("Pending")
    expect(submit_button(page)).to_have_accessible_name("Submit review, 1 pending comment")
    # A new form knows the review is started.
    section(page, "notes.txt").get_by_role("button", name="Comment on line 30", exact=True).click()
    expect(page.get_by_role("button", name="Add review comment", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Add single comment", exact=True)).to_be_visible()


def test_the_submit_dialog_works_from_the_keyboard(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    changed_notes(repo)
    server = start_server()
    open_view(page, server.url)
    review_comment(page, 10, "Looks fine to me.", "Start a review")

    opener = submit_button(page)
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Submit review")
    expect(dialog).to_be_visible()
    summary = dialog.get_by_role("textbox", name="Summary")
    expect(summary).to_be_focused()
    page.keyboard.press("Escape")  # closes, and the focus is back where it was
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"  # focus is visible

    page.keyboard.press("Enter")
    expect(summary).to_be_focused()
    page.keyboard.type("Ship it.")
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("radio", name="Comment")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(dialog.get_by_role("radio", name="Approve")).to_be_checked()
    focused_in_dialog = page.evaluate("document.activeElement.closest('dialog') !== null")
    assert focused_in_dialog
    dialog.get_by_role("button", name="Submit review").focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator("[data-review-state]")).to_have_attribute("data-review-state", "approved")
    expect(page.locator(".badge-pending")).to_have_count(0)
    expect(page.locator("#conversation")).to_contain_text("Ship it.")
    expect(page.get_by_role("button", name=re.compile("^Approved$"))).to_be_disabled()
