"""The review page when things are slow or go wrong, in a real Chromium against a real ``backloop server``: a
streamed snapshot (files that arrive later), errors answering one request, and a server that went away."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.e2e.conftest import StartServer, Watched, numbered
from tests.e2e.test_live_view import open_view, row, section, with_line
from tests.real_server import RealServer
from tests.support import GitRepo

try:
    from playwright.sync_api import Page, WebSocketRoute, expect
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(f"the browser tests need Playwright for Python (pip install playwright): {exc}") from exc

pytestmark = pytest.mark.browser
SOCKET = re.compile(r"/review/[^/]+/ws\b")
LINE_HEIGHT = 20


class Relay:
    """Sits between the page and the server's websocket (Playwright's routeWebSocket): it can hold back
    server messages, rewrite client messages, and drop the connection."""

    def __init__(self, page: Page, hold: bool = False, rewrite: dict[str, dict[str, object]] | None = None) -> None:
        self.hold = hold
        self.rewrite = rewrite or {}
        self.stubs: set[str] = set()
        self.held: list[str] = []
        self.route: WebSocketRoute | None = None
        self.connections = 0
        self.mark: str | None = None
        self.streaming: set[str] | None = None
        page.route_web_socket(SOCKET, self.connect)

    def connect(self, route: WebSocketRoute) -> None:
        self.route = route
        self.connections += 1
        server = route.connect_to_server()
        server.on_message(self.from_server)
        route.on_message(lambda message: server.send(self.to_server(message)))

    def drop(self, mark: str) -> None:
        """Close the page's socket (the page connects again). Once the next snapshot and the files streamed after
        it have passed, the page gets a warning notice saying ``mark``, for a test to wait for."""
        assert self.route is not None
        self.mark = mark
        self.route.close()

    def from_server(self, message: str | bytes) -> None:
        assert self.route is not None
        if isinstance(message, str) and self.hold:
            if message.startswith('{"type":"snapshot"'):
                self.stubs.update(f["path"] for f in json.loads(message)["files"] if f.get("loading"))
            elif message.startswith('{"type":"file"') and json.loads(message)["file"]["path"] in self.stubs:
                self.held.append(message)
                return
        self.route.send(message)
        if isinstance(message, str) and self.mark is not None:
            if message.startswith('{"type":"snapshot"'):
                self.streaming = {f["path"] for f in json.loads(message)["files"] if f.get("loading")}
            elif message.startswith('{"type":"file"') and self.streaming is not None:
                self.streaming.discard(json.loads(message)["file"]["path"])
            if self.streaming is not None and not self.streaming:
                self.route.send(json.dumps({"type": "notice", "level": "warning", "message": self.mark}))
                self.mark = self.streaming = None

    def to_server(self, message: str | bytes) -> str | bytes:
        if isinstance(message, str):
            decoded = json.loads(message)
            if decoded.get("type") in self.rewrite:
                return json.dumps({**decoded, **self.rewrite[decoded["type"]]})
        return message

    def release(self) -> None:
        assert self.route is not None
        self.hold = False
        for message in self.held:
            self.route.send(message)
        self.held.clear()


def test_streamed_files_show_placeholders_until_their_diff_arrives(repo: GitRepo, start_server: StartServer,
                                                                   page: Page) -> None:
    # 24 files with 200 changed lines each: more than a snapshot carries with their lines (about 300)
    for i in range(24):
        repo.write(f"big/f{i:02}.txt", numbered(100, f"f{i} old"))
    repo.commit("files")
    for i in range(24):
        repo.write(f"big/f{i:02}.txt", numbered(100, f"f{i} new"))
    server = start_server()
    relay = Relay(page, hold=True)
    open_view(page, server.url)
    expect(row(page, "big/f00.txt", "n1")).to_contain_text("f0 new 1")
    assert relay.stubs, "the server sent every file with its lines: nothing was streamed"
    stub = max(relay.stubs)
    expect(page.locator("section.file")).to_have_count(24)
    placeholder = section(page, stub).locator(".diff-loading")
    expect(placeholder).to_have_count(1)
    expect(section(page, stub).locator(".counts")).to_contain_text("+100")
    height = placeholder.evaluate("e => e.getBoundingClientRect().height")
    assert height == (200 + 2) * LINE_HEIGHT
    for path in relay.stubs:
        expect(section(page, path).locator(".diff-loading")).to_have_count(1)
    expect(page.get_by_text("No changes to show")).to_have_count(0)

    relay.release()
    expect(page.locator(".diff-loading")).to_have_count(0)
    section(page, stub).scroll_into_view_if_needed()
    expect(row(page, stub, "n100")).to_contain_text(f"f{int(stub[5:7])} new 100")
    expect(page.get_by_text("No changes to show")).to_have_count(0)


def test_expand_error_is_shown_at_the_expander(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    repo.write("notes.txt", with_line(numbered(100), 50, "changed 50"))
    server = start_server()
    # the file leaves the diff between the click and the server's answer: here, the request names another path
    Relay(page, rewrite={"expand": {"path": "gone.txt"}})
    open_view(page, server.url)
    notes = section(page, "notes.txt")
    notes.get_by_role("button", name="Expand 20 lines up").click()
    error = notes.locator("tr.gap .gap-error")
    expect(error).to_contain_text("Could not expand")
    expect(error).to_contain_text("gone.txt")
    expect(page.locator(".banner-error").first).to_be_hidden()
    expect(page.locator("#banners [role=alert]:visible")).to_have_count(0)


def test_open_file_error_is_shown_in_the_editor(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    repo.write("notes.txt", with_line(numbered(100), 50, "changed 50"))
    os.symlink("notes.txt", repo.root / "link.txt")
    server = start_server()
    open_view(page, server.url)
    link = section(page, "link.txt")
    link.get_by_role("button", name="Edit", exact=True).click()
    status = link.locator(".editor-status")
    expect(status).to_contain_text("link.txt cannot be edited here")
    expect(status).to_contain_text("symlink")
    expect(link.get_by_role("button", name="Save")).to_be_disabled()
    expect(page.locator("#banners [role=alert]:visible")).to_have_count(0)


def test_server_gone_banner_and_reconnect(repo: GitRepo, start_server: StartServer, watched: Watched,
                                          tmp_path: Path) -> None:
    # (requests in flight when the server dies fail too: the modules loaded after the first paint, say)
    watched.allow_console.append(re.compile(r"WebSocket|Failed to load resource: net::ERR_"))
    page = watched.page
    repo.write("README.md", "# Demo, edited\n")
    server = start_server()
    open_view(page, server.url)
    expect(section(page, "README.md")).to_contain_text("edited")
    banner = page.locator(".banner-offline")
    expect(banner).to_be_hidden()
    port = server.port

    server.kill()  # (maybe before the page asked for the modules it loads after its first paint)
    expect(page.locator("[data-connection]")).to_have_attribute("data-connection", "reconnecting")
    expect(banner).to_be_visible(timeout=30_000)  # after about 10 s of failed reconnects
    expect(banner).to_contain_text(f"The backloop server is not running at 127.0.0.1:{port}.")
    expect(banner).to_contain_text("startreview")
    expect(banner).to_contain_text("backloop server")
    expect(banner.get_by_role("button", name="Retry now")).to_be_visible()
    expect(section(page, "README.md")).to_be_visible()  # the last diff stays readable

    # backloop comes back at the same address: the page finds it by itself
    restarted = RealServer.launch(repo.root, tmp_path / "state", port=port)
    try:
        expect(page.locator("[data-connection]")).to_have_attribute("data-connection", "open", timeout=30_000)
        expect(banner).to_be_hidden()
        # the parts of the page loaded after the first paint are there (loaded again if the server had gone first)
        expect(page.get_by_role("button", name="Approve")).to_be_visible()
        repo.write("README.md", "# Demo, edited again\n")
        expect(section(page, "README.md")).to_contain_text("edited again")
    finally:
        restarted.stop()


def test_parts_loaded_after_first_paint_come_when_they_can(repo: GitRepo, start_server: StartServer,
                                                           watched: Watched) -> None:
    watched.allow_console.append(re.compile(r"ERR_FAILED|extras\.js"))
    page = watched.page
    repo.write("README.md", "# Demo, edited\n")
    server = start_server()
    page.route(re.compile(r"/static/(v/[0-9a-f]+/)?extras\.js$"), lambda route: route.abort())
    open_view(page, server.url)
    expect(section(page, "README.md")).to_contain_text("edited")
    page.wait_for_function("() => performance.getEntriesByType('resource').some(e => e.name.endsWith('/extras.js'))")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)

    # the diff still works; the next update of the page asks for them again
    page.unroute(re.compile(r"/static/(v/[0-9a-f]+/)?extras\.js$"))
    repo.write("README.md", "# Demo, edited twice\n")
    expect(section(page, "README.md")).to_contain_text("edited twice")
    expect(page.get_by_role("button", name="Approve")).to_be_visible()
    expect(page.locator(".banner-error:visible")).to_have_count(0)
