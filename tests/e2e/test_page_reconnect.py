"""The review page when its socket drops and it connects again, in a real Chromium against a real
``backloop server``: the new snapshot is applied where the person left off (scroll position, collapsed files,
expanded context), and a too-large file the person loaded is asked for again."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import StartServer, Watched, numbered
from tests.e2e.test_live_view import _every_eighth_changed, _top, open_view, row, section, with_line
from tests.e2e.test_page_resilience import Relay
from tests.e2e.test_review_page import row_js
from tests.real_server import RealServer
from tests.support import GitRepo

try:
    from playwright.sync_api import Page, expect
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(f"the browser tests need Playwright for Python (pip install playwright): {exc}") from exc

pytestmark = pytest.mark.browser


def reconnect(page: Page, relay: Relay) -> None:
    """Drop the page's socket and wait until the new snapshot and the files streamed after it are in."""
    relay.drop("snapshot passed")
    expect(page.locator(".banner-warning")).to_contain_text("snapshot passed")
    assert relay.connections == 2
    expect(page.locator("[data-connection]")).to_have_attribute("data-connection", "open")


def test_a_reconnect_keeps_scroll_collapsed_files_and_expanded_context(repo: GitRepo, start_server: StartServer,
                                                                      page: Page) -> None:
    originals = {f"f{i:02}.txt": numbered(80, f"f{i} line") for i in range(8)}
    for name, text in originals.items():
        repo.write(name, text)
    repo.commit("more files")
    for name, text in originals.items():
        repo.write(name, _every_eighth_changed(text))
    repo.write("app.py", (repo.root / "app.py").read_text().replace("return 5\n", "return 5 * 2\n"))
    repo.write("notes.txt", with_line(numbered(100), 50, "changed 50"))
    server = start_server()
    relay = Relay(page)
    open_view(page, server.url)

    # Context expanded in a file the snapshot carries with its lines (app.py, the first) and in one it streams
    # after it (notes.txt, the last: the snapshot carries about 300 lines).
    section(page, "app.py").get_by_role("button", name="Expand all 10 hidden lines").click()
    expect(row(page, "app.py", "n1")).to_contain_text("def f1():")
    notes = section(page, "notes.txt")
    notes.scroll_into_view_if_needed()
    notes.get_by_role("button", name="Expand 20 lines down").click()
    expect(row(page, "notes.txt", "n70")).to_contain_text("line 70")
    for path in ("f01.txt", "f06.txt"):
        section(page, path).get_by_role("button", name=f"Collapse {path}").click()
        expect(section(page, path).locator(".file-body")).to_be_hidden()
    section(page, "f05.txt").scroll_into_view_if_needed()
    target = section(page, "f05.txt").locator('tr[data-old="40"]')
    expect(target).to_contain_text("f5 line 40")
    target.scroll_into_view_if_needed()
    page.evaluate("y => window.scrollBy(0, y)", _top(target) - 400)
    before = _top(target)

    reconnect(page, relay)
    assert abs(_top(target) - before) <= 1
    assert page.evaluate("window.scrollY") > 0
    for path in ("f01.txt", "f06.txt"):
        expect(section(page, path).locator(".file-body")).to_be_hidden()
        expect(section(page, path).get_by_role("button", name=f"Expand {path}")).to_have_attribute(
            "aria-expanded", "false")
    expect(section(page, "f02.txt").locator(".file-body")).to_be_visible()
    # (rows are built near the viewport only)
    section(page, "app.py").scroll_into_view_if_needed()
    expect(row(page, "app.py", "n1")).to_contain_text("def f1():")
    section(page, "notes.txt").scroll_into_view_if_needed()
    expect(row(page, "notes.txt", "n70")).to_contain_text("line 70")

    # Where the diff changed meanwhile, its expanded context goes: it was of the old version's hunks.
    repo.write("notes.txt", with_line(with_line(numbered(100), 50, "changed 50"), 90, "changed 90"))
    expect(row(page, "notes.txt", "n90")).to_contain_text("changed 90")
    expect(row(page, "notes.txt", "n70")).to_have_count(0)
    section(page, "app.py").scroll_into_view_if_needed()
    expect(row(page, "app.py", "n1")).to_contain_text("def f1():")


def test_a_loaded_too_large_file_is_asked_for_again(repo: GitRepo, start_server: StartServer, watched: Watched,
                                                   tmp_path: Path) -> None:
    watched.allow_console.append(re.compile(r"WebSocket"))
    page = watched.page
    repo.write("big.txt", numbered(20_100, "row"))
    server = start_server()
    open_view(page, server.url)
    big = section(page, "big.txt")
    big.get_by_role("button", name="Load diff of big.txt").click()
    page.wait_for_function(row_js("big.txt", "n20100"), polling=100, timeout=30_000)

    # A new version, too large again: the page asks for it by itself, as the person wanted to see this file.
    repo.write("big.txt", numbered(20_100, "row") + "one more\n")
    page.wait_for_function(row_js("big.txt", "n20101"), polling=100, timeout=30_000)
    expect(row(page, "big.txt", "n20101")).to_contain_text("one more")

    # The server restarts: the new connection's snapshot has the file too large again (what a page loaded is of
    # one connection), and the page asks for it again, although it asked for this version before. (Waited for with
    # plain queries polled in the page, as above: expect() polls by animation frame, and with 20,000 rows each
    # frame costs the page long enough to hold up its reconnect.)
    port = urlsplit(server.url).port
    assert port is not None
    server.kill()
    page.wait_for_function("() => document.querySelector('[data-connection]').dataset.connection === 'reconnecting'",
                           polling=100)
    repo.write("README.md", "# Demo, edited while the server was away\n")
    restarted = RealServer.launch(repo.root, tmp_path / "state", port=port)
    try:
        page.wait_for_function("() => document.querySelector('section.file[data-path=\"README.md\"]')?.textContent"
                               ".includes('edited while the server was away')", polling=100, timeout=30_000)
        page.wait_for_function(row_js("big.txt", "n20101"), polling=100, timeout=30_000)
        assert big.locator("button[data-action=load]").count() == 0
        assert "not rendered by default" not in (big.text_content() or "")
    finally:
        restarted.stop()
