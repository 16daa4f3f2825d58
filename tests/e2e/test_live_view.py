"""The review page in a real Chromium against a real ``backloop server``: live updates, layout, context, safety."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import StartServer, Watched, numbered
from tests.support import GitRepo

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(f"the browser tests need Playwright for Python (pip install playwright): {exc}") from exc

pytestmark = pytest.mark.browser


def css_string(value: str) -> str:
    """A CSS string literal for an attribute selector."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def section(page: Page, path: str) -> Locator:
    return page.locator(f"section.file[data-path={css_string(path)}]")


def row(page: Page, path: str, key: str) -> Locator:
    return section(page, path).locator(f'tr[data-key="{key}"]')


def open_view(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("[data-connection]")).to_have_attribute("data-connection", "open")


def with_line(text: str, number: int, replacement: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[number - 1] = replacement + "\n"
    return "".join(lines)


def test_live_view_lists_changed_files(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    repo.write("app.py", (repo.root / "app.py").read_text().replace("return 5\n", "return 5 * 2\n"))
    repo.write("notes.txt", with_line(numbered(100), 50, "line fifty"))
    server = start_server()
    open_view(page, server.url)

    expect(section(page, "app.py")).to_be_visible()
    expect(section(page, "notes.txt")).to_be_visible()
    expect(page.locator("section.file")).to_have_count(2)
    expect(section(page, "notes.txt").get_by_role("heading", name="notes.txt")).to_be_visible()
    expect(row(page, "notes.txt", "n50")).to_contain_text("line fifty")
    expect(row(page, "notes.txt", "o50")).to_contain_text("line 50")
    expect(row(page, "app.py", "n14")).to_have_class(re.compile(r"\bline-add\b"))
    expect(page.locator(".totals")).to_contain_text("2 files changed")
    expect(page.locator("#sidebar a[data-file]")).to_have_count(2)
    expect(page.locator(".review-compare")).to_contain_text("work tree")


def test_disk_edit_shows_without_reload(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    repo.write("notes.txt", with_line(numbered(100), 10, "first edit"))
    server = start_server()
    open_view(page, server.url)
    expect(row(page, "notes.txt", "n10")).to_contain_text("first edit")
    page.evaluate("window.__backloopMarker = 'same page'")

    repo.write("notes.txt", with_line(with_line(numbered(100), 10, "first edit"), 80, "second edit, live"))

    expect(row(page, "notes.txt", "n80")).to_contain_text("second edit, live")
    expect(row(page, "notes.txt", "n10")).to_contain_text("first edit")
    assert page.evaluate("window.__backloopMarker") == "same page"
    expect(section(page, "notes.txt").locator(".counts")).to_contain_text("+2")


def test_untracked_file_appears_and_disappears(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    repo.write("README.md", "# Demo, edited\n")
    server = start_server()
    open_view(page, server.url)
    expect(section(page, "README.md")).to_be_visible()

    repo.write("docs/new_page.md", "# A new page\n\nWritten after the page was opened.\n")
    new = section(page, "docs/new_page.md")
    expect(new).to_be_visible()
    expect(new).to_contain_text("Written after the page was opened.")
    expect(new.locator(".badge-untracked")).to_be_visible()
    expect(page.locator('#sidebar a[data-file="docs/new_page.md"]')).to_be_visible()
    expect(page.locator(".totals")).to_contain_text("2 files changed")

    (repo.root / "docs/new_page.md").unlink()
    expect(new).to_have_count(0)
    expect(page.locator('#sidebar a[data-file="docs/new_page.md"]')).to_have_count(0)
    expect(page.locator(".totals")).to_contain_text("1 file changed")


def test_layout_toggle_changes_table_and_url(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    repo.write("notes.txt", with_line(numbered(100), 30, "changed thirty"))
    server = start_server()
    open_view(page, server.url)
    notes = section(page, "notes.txt")
    expect(notes.locator("table.diff-unified")).to_be_visible()
    page.evaluate("window.__backloopMarker = 'same page'")

    page.get_by_role("button", name="Split").click()
    expect(notes.locator("table.diff-split")).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]view=split\b"))
    changed = notes.locator('tr[data-key="n30"]')
    expect(changed.locator("td.code-old")).to_contain_text("line 30")
    expect(changed.locator("td.code-new")).to_contain_text("changed thirty")
    expect(page.get_by_role("button", name="Split")).to_have_attribute("aria-pressed", "true")

    page.get_by_role("button", name="Unified").click()
    expect(notes.locator("table.diff-unified")).to_be_visible()
    expect(notes.locator("table.diff-split")).to_have_count(0)
    expect(page).not_to_have_url(re.compile(r"view=split"))
    assert page.evaluate("window.__backloopMarker") == "same page"

    page.goto(server.url + "&view=split")
    expect(section(page, "notes.txt").locator("table.diff-split")).to_be_visible()


def test_expand_context(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    text = with_line(with_line(numbered(100), 50, "changed 50"), 62, "changed 62")
    repo.write("notes.txt", text)
    server = start_server()
    open_view(page, server.url)
    notes = section(page, "notes.txt")
    expect(row(page, "notes.txt", "n47")).to_be_visible()
    expect(row(page, "notes.txt", "n40")).to_have_count(0)

    # Above the first hunk (lines 1-46 hidden): reveal the 20 lines above it.
    notes.get_by_role("button", name="Expand 20 lines up").click()
    expect(row(page, "notes.txt", "n27")).to_contain_text("line 27")
    expect(row(page, "notes.txt", "n27").locator("td.num-old")).to_have_text("27")
    expect(row(page, "notes.txt", "n26")).to_have_count(0)

    # Between the hunks (lines 54-58): small enough to show at once.
    notes.get_by_role("button", name="Expand all 5 hidden lines").click()
    expect(row(page, "notes.txt", "n56")).to_contain_text("line 56")

    # Below the last hunk (which ends at 65): 66-85, then 86-105, past the end of the file at 100.
    down = notes.get_by_role("button", name="Expand 20 lines down")
    down.click()
    expect(row(page, "notes.txt", "n85")).to_contain_text("line 85")
    expect(row(page, "notes.txt", "n86")).to_have_count(0)
    down.click()
    expect(row(page, "notes.txt", "n100")).to_contain_text("line 100")
    expect(row(page, "notes.txt", "n100").locator("td.num-old")).to_have_text("100")
    expect(notes.get_by_role("button", name=re.compile(r"lines down"))).to_have_count(0)


def test_collapsed_file_stays_collapsed_across_update(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    repo.write("notes.txt", with_line(numbered(100), 20, "before"))
    repo.write("README.md", "# Demo, edited\n")
    server = start_server()
    open_view(page, server.url)
    notes = section(page, "notes.txt")
    toggle = notes.get_by_role("button", name="Collapse notes.txt")
    toggle.click()
    expect(notes.locator(".file-body")).to_be_hidden()
    expect(notes.get_by_role("button", name="Expand notes.txt")).to_have_attribute("aria-expanded", "false")

    repo.write("notes.txt", with_line(with_line(numbered(100), 20, "before"), 90, "after"))
    expect(notes.locator(".counts")).to_contain_text("+2")
    expect(notes.locator(".file-body")).to_be_hidden()
    expect(notes.get_by_role("button", name="Expand notes.txt")).to_have_attribute("aria-expanded", "false")

    notes.get_by_role("button", name="Expand notes.txt").click()
    expect(row(page, "notes.txt", "n90")).to_contain_text("after")


def test_hostile_name_and_content_render_as_text(repo: GitRepo, start_server: StartServer, watched: Watched) -> None:
    page = watched.page
    name = "<img src=x onerror=alert(1)>.txt"
    repo.write(name, "<script>alert(1)</script>\n<img src=x onerror=alert(2)>\n")
    server = start_server()
    open_view(page, server.url)
    hostile = section(page, name)
    expect(hostile).to_be_visible()
    expect(hostile.get_by_role("heading")).to_have_text(name)
    expect(hostile.locator('tr[data-key="n1"] td.code')).to_contain_text("<script>alert(1)</script>")
    expect(hostile.locator('tr[data-key="n2"] td.code')).to_contain_text("<img src=x onerror=alert(2)>")
    expect(page.locator("#sidebar").get_by_text(name)).to_be_visible()
    assert page.locator("main img, nav img, header img").count() == 0
    assert page.locator("main script").count() == 0
    # a live update of the same file goes through the same path
    repo.write(name, "<script>alert(3)</script>\n<b onmouseover=alert(4)>bold</b>\n")
    expect(hostile.locator('tr[data-key="n2"] td.code')).to_contain_text("<b onmouseover=alert(4)>bold</b>")
    assert page.locator("main b").count() == 0
    assert not watched.dialogs


def test_connection_indicator_shows_reconnecting(repo: GitRepo, start_server: StartServer, watched: Watched) -> None:
    watched.allow_console.append(re.compile(r"WebSocket|ERR_CONNECTION_REFUSED"))
    page = watched.page
    repo.write("README.md", "# Demo, edited\n")
    server = start_server()
    open_view(page, server.url)
    expect(page.locator(".connection")).to_have_text("Live")
    # The page loads its comment and editor modules after the first paint; let them arrive before the server
    # goes away (this test is about the connection indicator, not about loading modules during an outage).
    # (A function, not an expression: Playwright polls an expression with eval, which the page's CSP refuses.)
    page.wait_for_function("() => performance.getEntriesByType('resource')"
                           ".some(e => e.name.endsWith('/markdown-inline.js') && e.responseEnd > 0)")
    server.kill()
    expect(page.locator("[data-connection]")).to_have_attribute("data-connection", "reconnecting")
    expect(page.locator(".connection")).to_contain_text("Reconnecting")
    expect(section(page, "README.md")).to_be_visible()


def _every_eighth_changed(text: str) -> str:
    lines = text.splitlines(keepends=True)
    for k in range(0, len(lines), 8):
        lines[k] = f"changed {k}\n"
    return "".join(lines)


def _top(locator: Locator) -> float:
    box = locator.bounding_box()
    assert box is not None, "the row is not rendered"
    return box["y"]


def test_scroll_stays_put_across_live_updates(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    originals = {f"f{i:02}.txt": numbered(80, f"f{i} line") for i in range(8)}
    for name, text in originals.items():
        repo.write(name, text)
    repo.commit("more files")
    for name, text in originals.items():
        repo.write(name, _every_eighth_changed(text))
    server = start_server()
    open_view(page, server.url)
    section(page, "f05.txt").scroll_into_view_if_needed()  # rows are built only near the viewport
    target = section(page, "f05.txt").locator('tr[data-old="40"]')
    expect(target).to_contain_text("f5 line 40")
    target.scroll_into_view_if_needed()
    page.evaluate("y => window.scrollBy(0, y)", _top(target) - 500)
    expect(target).to_be_in_viewport()
    before = _top(target)

    # A file above the one in view grows by 30 lines.
    grown = _every_eighth_changed(originals["f01.txt"]).replace("f1 line 3\n", "f1 line 3\n" + "new\n" * 30)
    repo.write("f01.txt", grown)
    expect(section(page, "f01.txt").locator(".count-add")).to_have_text("+40")
    assert abs(_top(target) - before) <= 1

    # The file in view grows above the line in view.
    grown = _every_eighth_changed(originals["f05.txt"]).replace("f5 line 2\n", "f5 line 2\n" + "more\n" * 12)
    repo.write("f05.txt", grown)
    expect(section(page, "f05.txt").locator(".count-add")).to_have_text("+22")
    assert abs(_top(target) - before) <= 1
    assert page.evaluate("window.scrollY") > 0
