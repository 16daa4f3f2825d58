"""Review rounds in a real Chromium: the header says the round and how many files changed since the person's last
review, a selector switches to the changes since a round (kept in the URL: shareable, survives a reload), files
unchanged since then come folded and labelled after the changed ones, and the threads of that round sit beside
their lines."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import StartServer
from tests.e2e.test_live_view import open_view, section, with_line
from tests.support import GitRepo

try:
    from playwright.sync_api import Page, expect
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(f"the browser tests need Playwright for Python (pip install playwright): {exc}") from exc

pytestmark = pytest.mark.browser


def request_changes(page: Page, summary: str) -> None:
    page.get_by_role("button", name="Request changes").click()
    page.get_by_role("textbox", name="Summary of the changes to make").fill(summary)
    page.get_by_role("button", name="Send request").click()


def comment_on_line(page: Page, path: str, line: int, body: str) -> None:
    section(page, path).get_by_role("button", name=f"Comment on line {line}", exact=True).click()
    page.get_by_role("textbox", name="Comment").fill(body)
    page.get_by_role("button", name="Add single comment").click()
    expect(page.locator("[data-comment-id]").filter(has_text=body)).to_be_visible()


def test_a_second_look_shows_only_what_changed_since_the_last_review(repo: GitRepo, start_server: StartServer,
                                                                     page: Page) -> None:
    app = (repo.root / "app.py").read_text()
    notes = (repo.root / "notes.txt").read_text()
    repo.write("app.py", with_line(app, 2, "    return 100"))
    repo.write("notes.txt", with_line(notes, 7, "line seven"))
    server = start_server()
    open_view(page, server.url)
    heading = page.locator(".review-heading")
    expect(heading.locator(".review-round")).to_have_text("Round 1")
    chooser = page.get_by_role("combobox", name="Changes to show")
    expect(chooser).to_be_hidden()  # (no round has ended yet)

    comment_on_line(page, "app.py", 2, "Return 101 instead.")
    request_changes(page, "One thing to fix.")
    expect(heading.locator(".review-round")).to_have_text("Round 2")
    expect(heading.locator(".review-since")).to_have_text("0 files changed since your last review")

    # The agent fixes app.py; the header counts it at once.
    repo.write("app.py", with_line(app, 2, "    return 101"))
    expect(heading.locator(".review-since")).to_have_text("1 file changed since your last review")

    expect(chooser).to_be_visible()
    page.evaluate("window.__samePage = true")
    chooser.select_option(label="Since my last review (round 1)")
    expect(page).to_have_url(re.compile(r"[?&]round=1(&|$)"))
    expect(chooser).to_have_value("1")
    # Changed since round 1: app.py, with what changed since then and the thread of round 1 beside its line.
    fixed = section(page, "app.py")
    expect(fixed.locator("tr").filter(has_text="return 101").first).to_be_visible()
    expect(fixed).to_contain_text("return 100")
    expect(fixed.locator("[data-comment-id]").filter(has_text="Return 101 instead.")).to_be_visible()
    # Untouched since round 1: notes.txt comes after it, folded and labelled.
    untouched = section(page, "notes.txt")
    expect(untouched.locator(".badge-unchanged")).to_have_text("Unchanged since round 1")
    expect(untouched.locator(".file-body")).to_be_hidden()
    order = page.locator("#files section.file").evaluate_all("els => els.map(e => e.dataset.path)")
    assert order.index("app.py") < order.index("notes.txt"), order
    assert page.evaluate("window.__samePage") is True  # (switched without loading the page again)

    # Live: notes.txt changes now, so it comes back unfolded, with its change since round 1.
    repo.write("notes.txt", with_line(notes, 7, "line 7 again"))
    expect(untouched.locator(".badge-unchanged")).to_have_count(0)
    expect(untouched.locator("tr").filter(has_text="line 7 again").first).to_be_visible()

    # The choice survives a reload (it is the URL), and "All changes" goes back to the whole diff.
    page.reload()
    expect(page.get_by_role("combobox", name="Changes to show")).to_have_value("1")
    expect(section(page, "app.py")).to_contain_text("return 100")
    page.get_by_role("combobox", name="Changes to show").select_option(label="All changes")
    expect(page).not_to_have_url(re.compile(r"round="))
    expect(section(page, "app.py").locator("tr").filter(has_text="return 2").first).to_be_visible()
    expect(section(page, "notes.txt").locator(".badge-unchanged")).to_have_count(0)
    # Back: the browser's history goes back to the changes since round 1.
    page.go_back()
    expect(page).to_have_url(re.compile(r"[?&]round=1(&|$)"))
    expect(section(page, "app.py")).to_contain_text("return 100")
    expect(page.get_by_role("combobox", name="Changes to show")).to_have_value("1")


def test_threads_of_earlier_rounds_stay_out_of_a_later_rounds_view(repo: GitRepo, start_server: StartServer,
                                                                   page: Page) -> None:
    notes = (repo.root / "notes.txt").read_text()
    repo.write("notes.txt", with_line(notes, 7, "line seven"))
    server = start_server()
    open_view(page, server.url)
    comment_on_line(page, "notes.txt", 7, "First look.")
    request_changes(page, "Round one.")
    expect(page.locator(".review-round")).to_have_text("Round 2")
    comment_on_line(page, "notes.txt", 7, "Second look.")
    request_changes(page, "Round two.")
    expect(page.locator(".review-round")).to_have_text("Round 3")
    repo.write("notes.txt", with_line(with_line(notes, 7, "line seven"), 8, "line eight"))
    page.goto(server.url + "&round=2")
    expect(page.locator("[data-connection]")).to_have_attribute("data-connection", "open")
    threads = section(page, "notes.txt").locator("[data-comment-id]")
    expect(threads.filter(has_text="Second look.")).to_be_visible()
    expect(threads.filter(has_text="First look.")).to_have_count(0)
    options = page.get_by_role("combobox", name="Changes to show").locator("option")
    expect(options).to_have_text(["All changes", "Since my last review (round 2)",
                                  "Changes since round 1 (requested changes)"])
