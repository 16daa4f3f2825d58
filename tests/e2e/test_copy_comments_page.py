""""Copy comments" in a real Chromium against a real ``backloop server``: the open threads copied as Markdown, the
same text as comments.md, through the clipboard, or shown selected in a dialog where there is no clipboard."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import StartServer
from tests.e2e.test_live_view import open_view
from tests.e2e.test_suggestions_page import change_line, comment
from tests.support import GitRepo

try:
    from playwright.sync_api import Page, expect
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(f"the browser tests need Playwright for Python (pip install playwright): {exc}") from exc

pytestmark = pytest.mark.browser


def test_copy_comments_puts_the_open_threads_on_the_clipboard(
        repo: GitRepo, start_server: StartServer, page: Page) -> None:
    change_line(repo, "app.py", 14, "    return 55")
    server = start_server()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.origin)
    open_view(page, server.url)
    comment(page, "app.py", 14, "Why 55?")
    page.get_by_role("button", name="Copy comments").click()
    expect(page.get_by_role("status").filter(has_text="Copied")).to_have_text("Copied 1 open thread as Markdown.")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    served = page.request.get(f"{server.origin}/review/{server.review_id}/comments.md").text()
    assert copied == served
    assert "## app.py:14" in copied and "   14 |     return 55" in copied and "> Why 55?" in copied


def test_without_a_clipboard_the_comments_show_selected_in_a_dialog(
        repo: GitRepo, start_server: StartServer, page: Page) -> None:
    change_line(repo, "app.py", 14, "    return 55")
    server = start_server()
    page.add_init_script("Object.defineProperty(navigator, 'clipboard', { value: undefined })")
    open_view(page, server.url)
    comment(page, "app.py", 14, "Why 55?")
    copy = page.get_by_role("button", name="Copy comments")
    copy.click()
    dialog = page.get_by_role("dialog", name="Copy the open threads")
    expect(dialog).to_be_visible()
    text = dialog.get_by_role("textbox")
    expect(text).to_be_focused()
    served = page.request.get(f"{server.origin}/review/{server.review_id}/comments.md").text()
    assert text.input_value() == served
    assert text.evaluate("(t) => [t.readOnly, t.selectionStart, t.selectionEnd]") == [True, 0, len(served)]
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(copy).to_be_focused()
