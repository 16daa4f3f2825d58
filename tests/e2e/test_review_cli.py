"""The loop of an agent without MCP, end to end: a real ``backloop server``, a real Chromium where the person
comments, and ``backloop review`` run as the agent's shell would run it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.conftest import StartServer
from tests.support import TIMEOUT_S, GitRepo
from tests.test_review_cli import review, review_soon

try:
    from playwright.sync_api import Page, expect
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(f"the browser tests need Playwright for Python (pip install playwright): {exc}") from exc

pytestmark = pytest.mark.browser


def test_a_shell_agent_gets_the_page_comment_and_its_reply_shows_in_the_page(
        repo: GitRepo, start_server: StartServer, page: Page, tmp_path: Path) -> None:
    repo.write("app.py", (repo.root / "app.py").read_text().replace("return 2\n", "return 22\n"))
    srv = start_server()  # (its state is tmp_path / "state", where backloop review looks too)
    page.goto(srv.url)
    app = page.locator('[data-path="app.py"]')
    expect(app).to_contain_text("return 22")

    waiting = review_soon(tmp_path, repo, "await", "--timeout", "60")  # the server's review: the repo's latest
    try:
        expect(page.get_by_text("waiting", exact=False).first).to_be_visible()
        app.get_by_role("button", name="Comment on line 5", exact=True).click()
        page.get_by_role("textbox", name="Comment").fill("Please return 2 again, not 22.")
        page.get_by_role("button", name="Add single comment").click()
        out, err = waiting.communicate(timeout=TIMEOUT_S * 3)
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.wait()
    assert waiting.returncode == 0, err
    match = re.search(r"\[comment ([0-9a-f]{24})\] on app\.py, line 5\n```\n    5 \|     return 22\n```\n"
                      r"Please return 2 again, not 22\.", out)
    assert match, out
    comment_id = match[1]

    resolved = review(tmp_path, repo, "resolve", comment_id, "--reply", "Done: back to 2.")
    assert resolved.returncode == 0, resolved.stderr
    assert resolved.stdout == f"Comment {comment_id} resolved.\n"
    thread = page.locator(f'[data-comment-id="{comment_id}"]')
    expect(thread).to_contain_text("Done: back to 2.")
    expect(thread).to_have_attribute("data-state", "resolved")
