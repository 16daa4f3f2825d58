"""Loading the review page in a real Chromium: a reload takes its modules and styles from the browser's cache."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import StartServer, numbered
from tests.e2e.test_live_view import open_view, row, with_line
from tests.support import GitRepo

try:
    from playwright.sync_api import Page, expect
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(f"the browser tests need Playwright for Python (pip install playwright): {exc}") from exc

pytestmark = pytest.mark.browser

STATIC_ENTRIES_JS = """() => performance.getEntriesByType("resource")
  .filter((e) => new URL(e.name).pathname.startsWith("/static/"))
  .map((e) => [new URL(e.name).pathname, e.transferSize])"""
# The page loads its comment and editor modules after the first paint: wait for the last of them.
EXTRAS_IN_JS = """() => performance.getEntriesByType("resource")
  .some((e) => e.name.endsWith("/markdown-inline.js") && e.responseEnd > 0)"""


def test_a_reload_takes_the_static_files_from_the_browser_cache(repo: GitRepo, start_server: StartServer,
                                                                  page: Page) -> None:
    repo.write("notes.txt", with_line(numbered(100), 50, "changed 50"))
    server = start_server()
    open_view(page, server.url)
    expect(row(page, "notes.txt", "n50")).to_contain_text("changed 50")
    page.wait_for_function(EXTRAS_IN_JS)
    first = page.evaluate(STATIC_ENTRIES_JS)
    assert first and all(path.startswith("/static/v/") for path, _ in first), first
    assert any(size > 0 for _, size in first)

    page.reload()
    expect(page.locator("[data-connection]")).to_have_attribute("data-connection", "open")
    expect(row(page, "notes.txt", "n50")).to_contain_text("changed 50")
    page.wait_for_function(EXTRAS_IN_JS)
    again = dict(page.evaluate(STATIC_ENTRIES_JS))
    assert {path for path, _ in first} <= set(again)
    assert all(size == 0 for size in again.values()), again  # nothing went over the network
