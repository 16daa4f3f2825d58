"""Rounds through the whole loop: the real ``backloop-mcp`` over stdio, a real browser, a real repository. The agent
fixes what each round asked for, one file twice; the person looks at the later rounds only through "Since my last
review", with the threads of that round beside their lines, marks files viewed (the one the agent changes again
comes back unviewed), and submits a started review of three comments, which reaches the agent as one result."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_agent_loop import CALL_TIMEOUT_S, URL, agent_session, text
from tests.e2e.test_live_view import section, with_line
from tests.support import TIMEOUT_S, GitRepo

try:
    from playwright.sync_api import Page, expect
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(f"the browser tests need Playwright for Python (pip install playwright): {exc}") from exc

pytestmark = pytest.mark.browser


def comment_and_request_changes(page: Page, path: str, line: int, body: str, summary: str) -> None:
    section(page, path).get_by_role("button", name=f"Comment on line {line}", exact=True).click()
    page.get_by_role("textbox", name="Comment").fill(body)
    page.get_by_role("button", name="Add single comment").click()
    expect(page.locator("[data-comment-id]").filter(has_text=body)).to_be_visible()
    page.get_by_role("button", name="Request changes").click()
    page.get_by_role("textbox", name="Summary of the changes to make").fill(summary)
    page.get_by_role("button", name="Send request").click()


def review_comment(page: Page, path: str, line: int, body: str, button: str) -> None:
    section(page, path).get_by_role("button", name=f"Comment on line {line}", exact=True).click()
    page.get_by_role("textbox", name="Comment").fill(body)
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.locator("[data-comment-id]").filter(has_text=body).locator(".badge-pending")).to_have_text("Pending")


def test_the_agent_fixes_rounds_and_the_person_reads_only_what_changed(repo: GitRepo, page: Page,
                                                                       tmp_path: Path) -> None:
    app = (repo.root / "app.py").read_text()
    notes = (repo.root / "notes.txt").read_text()
    repo.write("app.py", with_line(app, 5, "    return 22"))
    repo.write("notes.txt", with_line(notes, 7, "line seven"))
    received: list[dict[str, Any]] = []  # every frame the page's sockets got (they move with the chosen view)
    page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: received.append(json.loads(frame))))
    with agent_session(repo, tmp_path / "state") as agent:
        match = URL.search(text(agent.call("startreview", {"since": "HEAD"})))
        assert match
        review_id = match[2]
        page.goto(match[0])
        heading = page.locator(".review-heading")
        expect(heading.locator(".review-round")).to_have_text("Round 1")

        # Round 1: the person asks for a fix; the agent gets both items, of round 1.
        comment_and_request_changes(page, "app.py", 5, "Return 2 here.", "Fix the return value.")
        expect(heading.locator(".review-round")).to_have_text("Round 2")
        got = agent.call("await_comments", {"review_id": review_id, "timeout_seconds": 30})
        assert got.structured_content is not None
        assert [(i["type"], i["round"]) for i in got.structured_content["items"]] == [
            ("comment", 1), ("request_changes", 1)]

        # The agent fixes it and waits again: round 2 ends ("fixed"), a second startreview goes on with this review.
        repo.write("app.py", with_line(app, 5, "    return 2  # fixed"))
        again = agent.call("startreview", {"since": "HEAD"})
        assert again.structured_content is not None
        assert (again.structured_content["review_id"], again.structured_content["reused"]) == (review_id, True)
        waiting = agent.call_soon("await_comments", {"review_id": review_id, "timeout_seconds": 50})
        expect(heading.locator(".review-round")).to_have_text("Round 3")
        expect(heading.locator(".review-since")).to_have_text("1 file changed since your last review")

        # The person reads only what changed since their last review.
        page.get_by_role("combobox", name="Changes to show").select_option(label="Since my last review (round 1)")
        expect(page).to_have_url(re.compile(r"[?&]round=1(&|$)"))
        fixed = section(page, "app.py")
        expect(fixed.locator("tr").filter(has_text="return 2  # fixed").first).to_be_visible()
        expect(fixed).to_contain_text("return 22")
        expect(section(page, "notes.txt").locator(".badge-unchanged")).to_have_text("Unchanged since round 1")

        # Round 3: from this view, a comment on the fixed line and another request.
        comment_and_request_changes(page, "app.py", 5, "Drop the comment.", "One more thing.")
        expect(heading.locator(".review-round")).to_have_text("Round 4")
        # (the comment reaches the waiting agent at once, the request a moment later: one call or two; a call made
        # after receiving the comment and before the request would end a round of its own)
        result = waiting.result(timeout=CALL_TIMEOUT_S)
        assert result.structured_content is not None
        items = result.structured_content["items"]
        while not any(i["type"] == "request_changes" for i in items):
            more = agent.call("await_comments", {"review_id": review_id, "timeout_seconds": 30}).structured_content
            assert more is not None and not more["timed_out"]
            items += more["items"]
        assert [(i["type"], i["round"]) for i in items] == [("comment", 3), ("request_changes", 3)]
        assert items[0]["quoted"] == ["    return 2  # fixed"]

        # The person has read both files: viewed (stored once the server acks; the agent's next change brings app.py
        # back).
        for path in ("app.py", "notes.txt"):
            section(page, path).get_by_role("checkbox", name="Viewed").check()
        deadline = time.monotonic() + TIMEOUT_S
        while not {m.get("id") for m in received if m.get("type") == "ack"} >= {"app.py", "notes.txt"}:
            assert time.monotonic() < deadline, "the Viewed marks were not acknowledged"
            page.wait_for_timeout(20)  # (frames arrive through Playwright's own loop: poll the list it fills)

        # The agent changes that file again and waits: round 4 ends; the person reads only that change.
        repo.write("app.py", with_line(app, 5, "    return 2  # final"))  # (still a change: still in the diff)
        waiting = agent.call_soon("await_comments", {"review_id": review_id, "timeout_seconds": 50})
        expect(heading.locator(".review-round")).to_have_text("Round 5")
        expect(heading.locator(".review-since")).to_have_text("1 file changed since your last review")
        page.get_by_role("combobox", name="Changes to show").select_option(label="Since my last review (round 3)")
        expect(page).to_have_url(re.compile(r"[?&]round=3(&|$)"))
        again_fixed = section(page, "app.py")
        expect(again_fixed.locator("tr").filter(has_text="return 2  # fixed").first).to_be_visible()
        expect(again_fixed.locator("[data-comment-id]").filter(has_text="Drop the comment.")).to_be_visible()
        expect(again_fixed.locator("[data-comment-id]").filter(has_text="Return 2 here.")).to_have_count(0)
        expect(section(page, "notes.txt").locator(".badge-unchanged")).to_have_text("Unchanged since round 3")

        expect(again_fixed.locator(".badge-changed")).to_have_text("Changed since you viewed it")
        expect(again_fixed.get_by_role("checkbox", name="Viewed")).not_to_be_checked()

        # Round 5: three comments held in a started review, then submitted: the waiting agent gets them as one result.
        review_comment(page, "app.py", 4, "First remark.", "Start a review")
        review_comment(page, "app.py", 5, "Second remark.", "Add review comment")
        review_comment(page, "app.py", 6, "Third remark.", "Add review comment")
        page.locator("#topbar button.submit-review").click()
        dialog = page.get_by_role("dialog", name="Submit review")
        dialog.get_by_role("radio", name="Comment").check()
        dialog.get_by_role("button", name="Submit review").click()
        batch = waiting.result(timeout=CALL_TIMEOUT_S).structured_content
        assert batch is not None
        assert [(i["type"], i["body"], i["round"]) for i in batch["items"]] == [
            ("comment", "First remark.", 5), ("comment", "Second remark.", 5), ("comment", "Third remark.", 5)]

        waiting = agent.call_soon("await_comments", {"review_id": review_id, "timeout_seconds": 50})
        expect(heading.locator(".review-round")).to_have_text("Round 7")
        page.get_by_role("button", name="Approve").click()
        assert text(waiting.result(timeout=CALL_TIMEOUT_S)) == "REVIEW APPROVED"
        page.goto("about:blank")  # (before the agent's process, and its web server, exit)
