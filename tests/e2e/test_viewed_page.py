"""Viewed files in a real Chromium against a real ``backloop server``: the "Viewed" checkbox folds a file, the header
counts "N / M viewed", the file list marks it; the mark is the server's (a reload and another window agree), and a
viewed file whose diff changes comes back unfolded, "changed since you viewed it"."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import EXPECT_TIMEOUT_MS, StartServer, numbered
from tests.e2e.test_live_view import open_view, section, with_line
from tests.support import GitRepo

try:
    from playwright.sync_api import Browser, Locator, Page, expect
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(f"the browser tests need Playwright for Python (pip install playwright): {exc}") from exc

pytestmark = pytest.mark.browser
COLLAPSED = re.compile(r"\bfile-collapsed\b")


def viewed_box(page: Page, path: str) -> Locator:
    return section(page, path).get_by_role("checkbox", name="Viewed")


def tree_item(page: Page, path: str) -> Locator:
    return page.locator(f'#sidebar li[data-file="{path}"]')


def test_viewed_files_fold_are_counted_and_come_back_when_changed(repo: GitRepo, start_server: StartServer,
                                                                   page: Page, browser: Browser) -> None:
    repo.write("notes.txt", with_line(numbered(100), 50, "line fifty"))
    repo.write("README.md", "# Demo\n\nChanged.\n")
    server = start_server()
    open_view(page, server.url)
    counter = page.locator(".viewed-count")
    expect(counter).to_have_text("0 / 2 viewed")
    expect(viewed_box(page, "notes.txt")).not_to_be_checked()

    viewed_box(page, "notes.txt").check()
    expect(section(page, "notes.txt")).to_have_class(COLLAPSED)
    expect(counter).to_have_text("1 / 2 viewed")
    expect(tree_item(page, "notes.txt")).to_have_class(re.compile(r"\btree-viewed\b"))
    expect(tree_item(page, "notes.txt").get_by_label("viewed")).to_have_text("\u2713")
    expect(section(page, "README.md")).not_to_have_class(COLLAPSED)

    # From the keyboard: Space on the focused checkbox, which keeps the focus as its header is redrawn.
    readme = viewed_box(page, "README.md")
    readme.focus()
    page.keyboard.press("Space")
    expect(readme).to_be_checked()
    expect(readme).to_be_focused()
    expect(counter).to_have_text("2 / 2 viewed")
    page.keyboard.press("Space")
    expect(readme).not_to_be_checked()
    expect(section(page, "README.md")).not_to_have_class(COLLAPSED)
    expect(counter).to_have_text("1 / 2 viewed")

    # Another window, and a reload, agree: the mark is kept on the server.
    other_context = browser.new_context()
    try:
        other = other_context.new_page()
        other.set_default_timeout(EXPECT_TIMEOUT_MS)
        open_view(other, server.url)
        expect(viewed_box(other, "notes.txt")).to_be_checked()
        expect(section(other, "notes.txt")).to_have_class(COLLAPSED)
        viewed_box(other, "README.md").check()
        expect(viewed_box(page, "README.md")).to_be_checked()
        expect(counter).to_have_text("2 / 2 viewed")
        other.close()
    finally:
        other_context.close()
    page.reload()
    expect(page.locator("[data-connection]")).to_have_attribute("data-connection", "open")
    expect(viewed_box(page, "notes.txt")).to_be_checked()
    expect(section(page, "notes.txt")).to_have_class(COLLAPSED)
    expect(counter).to_have_text("2 / 2 viewed")

    # The agent changes a viewed file: it comes back unviewed and unfolded, and says why.
    repo.write("notes.txt", with_line(with_line(numbered(100), 50, "line fifty"), 60, "line sixty"))
    notes = section(page, "notes.txt")
    expect(notes).not_to_have_class(COLLAPSED)
    expect(notes.locator(".badge-changed")).to_have_text("Changed since you viewed it")
    expect(viewed_box(page, "notes.txt")).not_to_be_checked()
    expect(notes).to_contain_text("line sixty")
    expect(counter).to_have_text("1 / 2 viewed")
    expect(tree_item(page, "notes.txt")).not_to_have_class(re.compile(r"\btree-viewed\b"))
    expect(tree_item(page, "notes.txt").locator(".mark-changed")).to_have_text("changed")
    expect(viewed_box(page, "README.md")).to_be_checked()

    # Viewed again: the note goes.
    viewed_box(page, "notes.txt").check()
    expect(notes.locator(".badge-changed")).to_have_count(0)
    expect(counter).to_have_text("2 / 2 viewed")
