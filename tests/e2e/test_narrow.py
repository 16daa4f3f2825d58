"""The review page in a narrow window (800 px, a review beside a terminal on a laptop), in a real Chromium: the
file tree is a drawer (its button, Escape, a click beside it, picking a file; focus managed, the page behind
inert), and the split layout falls back to unified without changing the URL, so widening the window restores it."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import StartServer
from tests.e2e.test_keyboard import changed_files
from tests.e2e.test_live_view import open_view, section
from tests.support import GitRepo

try:
    from playwright.sync_api import Page, expect
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(f"the browser tests need Playwright for Python (pip install playwright): {exc}") from exc

pytestmark = pytest.mark.browser

MAIN_INERT = "() => document.querySelector('#main').inert && document.querySelector('#topbar').inert"


def test_narrow_window_tree_drawer_and_unified_layout(repo: GitRepo, start_server: StartServer,
                                                     page: Page) -> None:
    changed_files(repo)
    server = start_server()
    page.set_viewport_size({"width": 800, "height": 700})
    open_view(page, server.url + "&view=split")
    tree = page.get_by_role("navigation", name="Changed files")
    toggle = page.get_by_role("button", name="Files", exact=True)
    filter_box = page.get_by_role("searchbox", name="Filter changed files")

    # unified, though the URL still says split; no layout switch offered
    expect(section(page, "a.txt").locator("table.diff-unified").first).to_be_visible()
    expect(page.locator("table.diff-split")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"[?&]view=split\b"))
    expect(page.get_by_role("group", name="Diff layout")).to_be_hidden()

    # the tree is a closed drawer: nothing in it takes focus or space
    expect(tree).to_be_hidden()
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    files_box = page.locator("#files").bounding_box()
    assert files_box is not None and files_box["width"] > 700, files_box

    toggle.click()
    expect(tree).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(filter_box).to_be_focused()
    assert page.evaluate(MAIN_INERT), "the page behind the open drawer should be inert"
    page.keyboard.press("Escape")
    expect(tree).to_be_hidden()
    expect(toggle).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    assert not page.evaluate("() => document.querySelector('#main').inert")

    # picking a file closes it and goes to the file
    toggle.click()
    tree.locator("a[data-file='c.txt']").click()
    expect(tree).to_be_hidden()
    page.wait_for_function("() => document.activeElement?.closest('section.file')?.dataset.path === 'c.txt'")

    # t opens it at the filter (Escape there closes it and keeps the filter); a click beside it closes it
    page.keyboard.press("t")
    expect(tree).to_be_visible()
    expect(filter_box).to_be_focused()
    page.keyboard.type("a.txt")
    page.keyboard.press("Escape")
    expect(tree).to_be_hidden()
    expect(page.locator(".tree-filter")).to_have_value("a.txt")  # (hidden: no role to find it by)
    toggle.click()
    expect(tree).to_be_visible()
    page.mouse.click(780, 400)
    expect(tree).to_be_hidden()

    # a wide window: split again, the tree beside the diff, no drawer button
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(section(page, "a.txt").locator("table.diff-split").first).to_be_visible()
    expect(page.locator("table.diff-unified")).to_have_count(0)
    expect(tree).to_be_visible()
    expect(toggle).to_be_hidden()
    expect(page.get_by_role("button", name="Split")).to_have_attribute("aria-pressed", "true")
    # and narrow again: unified again
    page.set_viewport_size({"width": 800, "height": 700})
    expect(section(page, "a.txt").locator("table.diff-unified").first).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]view=split\b"))
