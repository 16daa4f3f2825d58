"""More of the review page in a real Chromium: binary and image files, large files, markers, kept forms."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import pytest

from backloop.diff.sides import MAX_LOAD_LINES
from tests.e2e.conftest import StartServer, numbered
from tests.e2e.test_live_view import open_view, row, section, with_line
from tests.support import GitRepo

try:
    from playwright.sync_api import Page, expect
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(f"the browser tests need Playwright for Python (pip install playwright): {exc}") from exc

pytestmark = pytest.mark.browser


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def test_image_before_and_after(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    repo.write("img/logo.png", png(24, 12, (200, 30, 30)))
    repo.write("blob.bin", bytes(range(256)))
    repo.commit("binary files")
    repo.write("img/logo.png", png(24, 12, (30, 30, 200)))
    repo.write("blob.bin", bytes(range(255, -1, -1)))
    server = start_server()
    open_view(page, server.url)

    logo = section(page, "img/logo.png")
    expect(logo.get_by_role("img", name="Before: img/logo.png")).to_be_visible()
    expect(logo.get_by_role("img", name="After: img/logo.png")).to_be_visible()
    src = logo.locator(".image-new img").get_attribute("src") or ""
    assert re.search(r"/raw\?side=new&path=img%2Flogo\.png&since=HEAD&live=true$", src), src
    page.wait_for_function(
        "() => [...document.querySelectorAll('.image-diff img')].every(img => img.complete && img.naturalWidth === 24)"
    )
    expect(logo.locator(".image-size").first).to_have_text("24 \u00d7 12 px")
    expect(section(page, "blob.bin")).to_contain_text("Binary file not shown")
    expect(section(page, "blob.bin").locator(".badge-binary")).to_be_visible()


def row_js(path: str, key: str) -> str:
    """A page function: whether the row ``key`` of ``path`` is built."""
    return f"""() => document.querySelector('section.file[data-path="{path}"] tr[data-key="{key}"]') !== null"""


def test_too_large_file_loads_on_request(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    repo.write("big.txt", numbered(20_100, "row"))
    server = start_server()
    open_view(page, server.url)
    big = section(page, "big.txt")
    expect(big).to_contain_text("not rendered by default")
    expect(big.locator("tr")).to_have_count(0)
    big.get_by_role("button", name="Load diff of big.txt").click()
    # 20,100 lines come over the socket and are built into rows (about a second on a busy machine). Waited for
    # with a plain query polled in the page: Playwright's expect() polling while the page builds the rows
    # stalled it for a minute at times (1 in 12-24 runs on a loaded machine; polled so, none in 30).
    page.wait_for_function(row_js("big.txt", "n20100"), polling=100, timeout=30_000)
    expect(row(page, "big.txt", "n20100")).to_contain_text("row 20100")
    expect(big.locator("button[data-action=load]")).to_have_count(0)


def test_a_diff_too_large_for_the_page_offers_the_file_instead(repo: GitRepo, start_server: StartServer,
                                                               page: Page) -> None:
    repo.write("huge.txt", numbered(MAX_LOAD_LINES + 1, "row"))
    server = start_server()
    open_view(page, server.url)
    huge = section(page, "huge.txt")
    huge.get_by_role("button", name="Load diff of huge.txt").click()
    expect(huge).to_contain_text(f"{MAX_LOAD_LINES + 1:,} changed lines, more than a page can show")
    download = huge.get_by_role("link", name="Download the new version")
    expect(download).to_have_attribute("download", "")
    expect(huge.get_by_role("link", name="Download the old version")).to_have_count(0)  # (an added file)
    expect(huge.locator("button[data-action=load]")).to_have_count(0)
    expect(huge.locator("tr")).to_have_count(0)
    expect(page.locator('[data-code="too_large_to_load"]')).to_have_count(0)  # (said in the file, not in a banner)
    with page.expect_download() as fetched:
        download.click()
    assert Path(fetched.value.path()).read_text() == numbered(MAX_LOAD_LINES + 1, "row")
    repo.write("huge.txt", numbered(25_000, "row"))  # a later version: too large by default, not for a page
    huge.get_by_role("button", name="Load diff of huge.txt").click()
    expect(huge).not_to_contain_text("more than a page can show")
    page.wait_for_function(row_js("huge.txt", "n25000"), polling=100, timeout=30_000)

def test_line_ending_markers(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    repo.write("dos.txt", "one\r\ntwo\r\nthree\r\n")
    repo.write("tail.txt", "a\nb\n")
    repo.commit("line endings")
    repo.write("dos.txt", "one\r\ntwo, edited\r\nthree\r\n")
    repo.write("tail.txt", "a\nb\nc")
    server = start_server()
    open_view(page, server.url)
    expect(row(page, "dos.txt", "n2").locator(".crlf")).to_be_visible()
    expect(row(page, "dos.txt", "n2")).to_contain_text("two, edited")
    expect(row(page, "tail.txt", "n3").get_by_role("img", name="No newline at end of file")).to_be_visible()
    expect(row(page, "tail.txt", "n3").locator(".crlf")).to_have_count(0)


def test_open_comment_form_survives_a_live_update(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    repo.write("notes.txt", with_line(numbered(100), 50, "changed 50"))
    server = start_server()
    open_view(page, server.url)
    notes = section(page, "notes.txt")
    notes.get_by_role("button", name="Comment on line 50", exact=True).click()
    draft = page.get_by_role("textbox", name="Comment")
    draft.fill("half-written thought")
    expect(draft).to_be_focused()

    repo.write("notes.txt", with_line(with_line(numbered(100), 50, "changed 50"), 52, "changed 52 meanwhile"))
    expect(row(page, "notes.txt", "n52")).to_contain_text("changed 52 meanwhile")
    expect(draft).to_have_value("half-written thought")
    expect(draft).to_be_focused()
    # still right under its line
    expect(notes.locator('tr[data-key="n50"] + tr.comment-form-row')).to_have_count(1)


def test_whitespace_and_context_are_in_the_url(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    repo.write("notes.txt", with_line(numbered(100), 50, "changed 50"))
    server = start_server()
    open_view(page, server.url)
    expect(row(page, "notes.txt", "n47")).to_be_visible()
    page.get_by_role("combobox", name="Context lines").select_option("10")
    expect(page).to_have_url(re.compile(r"[?&]context=10\b"))
    expect(row(page, "notes.txt", "n40")).to_be_visible()
    page.get_by_role("button", name="Hide whitespace").click()
    expect(page).to_have_url(re.compile(r"[?&]ws=1\b"))
    expect(page.get_by_role("button", name="Hide whitespace")).to_have_attribute("aria-pressed", "true")
    expect(page).to_have_url(re.compile(r"[?&]context=10\b"))


def test_the_sidebar_marks_the_file_in_view_and_file_headers_stick_below_the_page_header(
        repo: GitRepo, start_server: StartServer, page: Page) -> None:
    for i in range(6):
        repo.write(f"f{i}.txt", numbered(60, f"f{i} line"))
    repo.commit("files")
    for i in range(6):
        repo.write(f"f{i}.txt", numbered(60, f"f{i} changed"))
    server = start_server()
    open_view(page, server.url)
    current = page.locator("#sidebar a[aria-current]")
    section(page, "f4.txt").scroll_into_view_if_needed()
    row(page, "f4.txt", "n30").scroll_into_view_if_needed()
    expect(current).to_have_attribute("data-file", "f4.txt")
    # the page header's height, measured, is where the file header in view sticks
    height = page.locator("#topbar").evaluate("e => Math.ceil(e.getBoundingClientRect().height)")
    sticky = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--topbar-height')")
    assert sticky == f"{height}px"
    header = section(page, "f4.txt").locator(".file-header")
    assert header.evaluate("e => e.getBoundingClientRect().top") == height
    section(page, "f1.txt").scroll_into_view_if_needed()
    row(page, "f1.txt", "n30").scroll_into_view_if_needed()
    expect(current).to_have_attribute("data-file", "f1.txt")
