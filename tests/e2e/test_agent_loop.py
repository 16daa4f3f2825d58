"""The whole loop: a real MCP client over stdio spawning the real ``backloop-mcp``, a real browser, a real repo.

The MCP client runs in a background event loop (a blocking portal) so that Playwright's sync API can drive the
page from the test's thread while ``await_comments`` blocks.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp import Client
from mcp.types import CallToolResult, TextContent

from tests.e2e.conftest import EXPECT_TIMEOUT_MS
from tests.real_server import mcp_params
from tests.support import GitRepo

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Dialog, Page

pytestmark = pytest.mark.browser
URL = re.compile(r"http://127\.0\.0\.1:(\d+)/review/([0-9a-f]{24})/view\?since=HEAD&live=true")
CALL_TIMEOUT_S = 60.0


def text(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


class Agent:
    """A real MCP client session with ``backloop-mcp``, used synchronously from the test."""

    def __init__(self, portal: BlockingPortal, client: Client) -> None:
        self.portal = portal
        self.client = client

    def call(self, name: str, args: dict[str, Any]) -> CallToolResult:
        result: CallToolResult = self.portal.call(lambda: self.client.call_tool(name, args))
        return result

    def call_soon(self, name: str, args: dict[str, Any]) -> Any:
        return self.portal.start_task_soon(lambda: self.client.call_tool(name, args))


@contextmanager
def agent_session(repo: GitRepo, state_dir: Path) -> Iterator[Agent]:
    with start_blocking_portal() as portal, portal.wrap_async_context_manager(
        Client(mcp_params(repo.root, state_dir), mode="legacy", read_timeout_seconds=CALL_TIMEOUT_S)
    ) as client:
        yield Agent(portal, client)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(EXPECT_TIMEOUT_MS)
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    yield page
    context.close()
    assert not dialogs, f"a dialog opened: {dialogs}"


def file_section(page: Page, path: str) -> Any:
    return page.locator(f'[data-path="{path}"]')


def test_review_loop_end_to_end(repo: GitRepo, page: Page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    repo.write("app.py", (repo.root / "app.py").read_text().replace("return 2\n", "return 22\n"))
    with agent_session(repo, tmp_path / "state") as agent:
        started = agent.call("startreview", {"since": "HEAD"})
        assert not started.is_error, text(started)
        match = URL.search(text(started))
        assert match, text(started)
        review_id = match[2]

        page.goto(match[0])
        app = file_section(page, "app.py")
        expect(app).to_contain_text("return 22")

        # The person comments on a line; the waiting agent gets it at once.
        waiting = agent.call_soon("await_comments", {"review_id": review_id, "timeout_seconds": 50})
        expect(page.get_by_text("waiting", exact=False).first).to_be_visible()
        app.get_by_role("button", name="Comment on line 5", exact=True).click()
        page.get_by_role("textbox", name="Comment").fill("Please return 2 again, not 22.")
        page.get_by_role("button", name="Add single comment").click()
        result = waiting.result(timeout=CALL_TIMEOUT_S)
        assert "Please return 2 again" in text(result)
        item = result.structured_content["items"][0]
        assert (item["path"], item["line"], item["side"]) == ("app.py", 5, "new")
        assert item["quoted"] == ["    return 22"]
        comment_id = item["comment_id"]

        # The agent fixes the code: the page shows the new diff without a reload.
        page.evaluate("window.__noReload = true")
        repo.write("app.py", (repo.root / "app.py").read_text().replace("return 22\n", "return 2  # fixed\n"))
        expect(app).to_contain_text("return 2  # fixed")
        assert page.evaluate("window.__noReload") is True

        resolved = agent.call("resolve_comment", {"comment_id": comment_id, "reply": "Done: back to 2."})
        assert not resolved.is_error, text(resolved)
        thread = page.locator(f'[data-comment-id="{comment_id}"]')
        expect(thread).to_contain_text("Done: back to 2.")
        expect(thread).to_have_attribute("data-state", "resolved")

        # The person edits a line directly; the next await_comments reports the edit.
        app.get_by_role("button", name="Edit", exact=True).click()
        editor = page.get_by_role("textbox", name=re.compile("Edit app.py"))
        editor.fill(editor.input_value().replace("# end", "# the end"))
        page.get_by_role("button", name="Save").click()
        expect(app).to_contain_text("# the end")
        assert "# the end\n" in (repo.root / "app.py").read_text()
        edited = agent.call("await_comments", {"review_id": review_id, "timeout_seconds": 30})
        assert "[edit]" in text(edited) and "+# the end" in text(edited)

        # Approve: the agent is done.
        page.get_by_role("button", name="Approve").click()
        approved = agent.call("await_comments", {"review_id": review_id, "timeout_seconds": 30})
        assert text(approved) == "REVIEW APPROVED"
        expect(page.locator("[data-review-state]")).to_have_attribute("data-review-state", "approved")


def test_conflicting_edit_is_refused_in_the_page(repo: GitRepo, page: Page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    repo.write("app.py", (repo.root / "app.py").read_text().replace("return 3\n", "return 33\n"))
    with agent_session(repo, tmp_path / "state") as agent:
        match = URL.search(text(agent.call("startreview", {"since": "HEAD"})))
        assert match
        page.goto(match[0])
        app = file_section(page, "app.py")
        app.get_by_role("button", name="Edit", exact=True).click()
        editor = page.get_by_role("textbox", name=re.compile("Edit app.py"))
        editor.fill(editor.input_value().replace("# end", "# person"))
        # Meanwhile the agent rewrites the file.
        repo.write("app.py", (repo.root / "app.py").read_text().replace("# end", "# agent"))
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("changed since you opened it")).to_be_visible()
        assert "# agent\n" in (repo.root / "app.py").read_text()
        assert "# person" not in (repo.root / "app.py").read_text()


def test_restart_keeps_the_review_and_undelivered_comments(repo: GitRepo, page: Page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    repo.write("notes.txt", (repo.root / "notes.txt").read_text().replace("line 7\n", "line seven\n"))
    state = tmp_path / "state"
    with agent_session(repo, state) as agent:
        match = URL.search(text(agent.call("startreview", {"since": "HEAD"})))
        assert match
        url, review_id = match[0], match[2]
        page.goto(url)
        notes = file_section(page, "notes.txt")
        notes.get_by_role("button", name="Comment on line 7", exact=True).click()
        page.get_by_role("textbox", name="Comment").fill("Spell it as a digit.")
        page.get_by_role("button", name="Add single comment").click()
        expect(page.locator("[data-comment-id]")).to_contain_text("Spell it as a digit.")
    # The agent's side closed: the process and its port are gone. A new one brings the review back.
    started = time.monotonic()
    with agent_session(repo, state) as agent:
        result = agent.call("await_comments", {"review_id": review_id, "timeout_seconds": 30})
        assert "Spell it as a digit." in text(result), text(result)
        page.goto(url)  # same URL: the port was free again
        expect(page.locator("[data-comment-id]")).to_contain_text("Spell it as a digit.")
    assert time.monotonic() - started < CALL_TIMEOUT_S


def test_process_exits_when_stdio_closes(repo: GitRepo, tmp_path: Path) -> None:
    params = mcp_params(repo.root, tmp_path / "state")
    process = subprocess.Popen([params.command], cwd=params.cwd, env=params.env, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None
    init = (b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",'
            b'"capabilities":{},"clientInfo":{"name":"t","version":"1"}}}\n')
    process.stdin.write(init)
    process.stdin.flush()
    assert b'"id":1' in process.stdout.readline()
    process.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    process.stdin.write(b'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"startreview",'
                        b'"arguments":{"since":"HEAD"}}}\n')
    process.stdin.flush()
    reply = process.stdout.readline()
    port = re.search(rb"127\.0\.0\.1:(\d+)", reply)
    assert port, reply
    process.stdin.close()
    closed = time.monotonic()
    process.wait(timeout=10)
    assert time.monotonic() - closed < 2.0
    import socket

    with socket.socket() as probe:  # nothing keeps the port
        assert probe.connect_ex(("127.0.0.1", int(port[1]))) != 0
