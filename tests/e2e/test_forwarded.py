"""Reaching a review from elsewhere, in a real Chromium: through a forwarded port (a TCP forwarder on loopback that
stands for ``ssh -L OTHER:127.0.0.1:PORT``) and under a name allowed with ``--allow-host`` (the browser resolves
it to 127.0.0.1 with ``--host-resolver-rules``, so it really sends that name)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from websockets.sync.client import connect

from tests.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.conftest import StartServer, Watched, _open_page, numbered
from tests.e2e.test_comments_page import add_comment
from tests.e2e.test_live_view import open_view, section, with_line
from tests.support import GitRepo

try:
    from playwright.sync_api import Page, expect
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(f"the browser tests need Playwright for Python (pip install playwright): {exc}") from exc

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser

START_TIMEOUT_S = 10.0


class Forwarder:
    """A port on 127.0.0.1 whose connections are piped, byte for byte, to another port of 127.0.0.1: what
    ``ssh -L`` does, without ssh. Runs its own event loop in a thread; counts the connections it carried."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.connections = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="forwarder", daemon=True)

    def __enter__(self) -> Forwarder:
        self._thread.start()
        assert self._ready.wait(START_TIMEOUT_S), "the forwarder did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(START_TIMEOUT_S)

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        server = await asyncio.start_server(self._carry, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
        # asyncio.run cancels the connections still open (the page's websocket) on the way out

    async def _carry(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        try:
            await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))
        finally:
            for end in (writer, upstream_writer):
                end.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()  # a half-close travels on, as through ssh


def stored_comments(server_url: str) -> list[dict[str, Any]]:
    """The comments the server itself holds, from a fresh snapshot on its own port (not through any forward)."""
    parts = urlsplit(server_url)
    review_id = parts.path.split("/")[2]
    with connect(f"ws://{parts.netloc}/review/{review_id}/ws?{parts.query}", proxy=None) as ws:
        for _ in range(20):
            message = json.loads(ws.recv(timeout=10))
            if message["type"] == "snapshot":
                comments: list[dict[str, Any]] = message.get("comments", [])
                return comments
    raise AssertionError("no snapshot")


def review_and_comment(page: Page, url: str, body: str) -> list[str]:
    """Open ``url``, see the diff, comment on its changed line over the page's websocket: the socket URLs used."""
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    open_view(page, url)
    notes = section(page, "notes.txt")
    expect(notes.locator('tr[data-key="n10"]')).to_contain_text("changed through the tunnel")
    notes.get_by_role("button", name="Comment on line 10", exact=True).click()
    add_comment(page, body)
    expect(notes.locator("[data-comment-id] .comment-body")).to_have_text(body)  # stored, acked, sent back
    return sockets


def moved(url: str, netloc: str) -> str:
    return urlsplit(url)._replace(netloc=netloc).geturl()


def test_a_review_through_a_forwarded_port(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    repo.write("notes.txt", with_line(numbered(100), 10, "changed through the tunnel"))
    server = start_server()
    server_port = urlsplit(server.url).port
    assert server_port is not None
    with Forwarder(server_port) as forward:
        assert forward.port != server_port
        url = moved(server.url, f"127.0.0.1:{forward.port}")
        sockets = review_and_comment(page, url, "Seen from the other end of the tunnel.")
        assert page.url == url  # served there, not sent on to the server's own port
        assert sockets and all(s.startswith(f"ws://127.0.0.1:{forward.port}/review/") for s in sockets), sockets
        assert forward.connections >= 2  # the page and its websocket at least
    assert [c["body"] for c in stored_comments(server.url)] == ["Seen from the other end of the tunnel."]


@pytest.fixture
def resolving_browser(browser: Browser) -> Iterator[Browser]:
    """A second Chromium of the session's Playwright that resolves devbox.test and other.test to 127.0.0.1."""
    rules = "--host-resolver-rules=MAP devbox.test 127.0.0.1, MAP other.test 127.0.0.1"
    launched = browser.browser_type.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, rules])
    try:
        yield launched
    finally:
        launched.close()


def test_an_allowed_name_in_a_browser(repo: GitRepo, start_server: StartServer, resolving_browser: Browser) -> None:
    repo.write("notes.txt", with_line(numbered(100), 10, "changed through the tunnel"))
    server = start_server("--allow-host", "devbox.test")
    port = urlsplit(server.url).port
    url = moved(server.url, f"devbox.test:{port}")
    with contextlib.contextmanager(_open_page)(resolving_browser, "light") as watched:
        assert isinstance(watched, Watched)
        sockets = review_and_comment(watched.page, url, "Reviewed from the dev container's address.")
        assert watched.page.url == url
        assert sockets and all(s.startswith(f"ws://devbox.test:{port}/") for s in sockets), sockets
    assert [c["body"] for c in stored_comments(server.url)] == ["Reviewed from the dev container's address."]

    # The control: a name that was not allowed, resolved the same way, gets nothing of the review.
    context = resolving_browser.new_context()
    try:
        refused = context.new_page()
        response = refused.goto(moved(server.url, f"other.test:{port}"))
        assert response is not None and response.status == 403
        assert re.search(r"other\.test.* is not allowed", refused.content())
        assert "changed through the tunnel" not in refused.content()
    finally:
        context.close()
