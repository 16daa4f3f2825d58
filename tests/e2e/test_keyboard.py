"""Keyboard shortcuts in a real Chromium against a real ``backloop server``: each shortcut, focus that stays
visible, no shortcut while typing, and the help dialog (role, label, Escape, focus given back)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import StartServer, numbered
from tests.e2e.test_comments_page import add_comment
from tests.e2e.test_live_view import open_view, section, with_line
from tests.support import GitRepo

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(f"the browser tests need Playwright for Python (pip install playwright): {exc}") from exc

pytestmark = pytest.mark.browser

FILES = {"a.txt": (10, 60), "b.txt": (30,), "c.txt": (5, 80)}
"""Each file (100 lines) and the lines changed in it: one hunk per changed line."""

FOCUS_JS = """() => {
  const active = document.activeElement;
  return {
    path: active?.closest("section.file")?.dataset.path ?? null,
    label: active?.getAttribute("aria-label") ?? active?.tagName ?? null,
    comment: active?.closest("[data-comment-id]")?.dataset.commentId ?? null,
    visible: active?.matches(":focus-visible") ?? false,
  };
}"""


def changed_files(repo: GitRepo) -> None:
    for name in FILES:
        repo.write(name, numbered(100, name))
    repo.commit("three files")
    for name, lines in FILES.items():
        text = numbered(100, name)
        for n in lines:
            text = with_line(text, n, f"{name} changed {n}")
        repo.write(name, text)


def focus(page: Page) -> dict[str, object]:
    result: dict[str, object] = page.evaluate(FOCUS_JS)
    return result


def expect_focus(page: Page, path: str | None, label: str, *, visible: bool = True) -> None:
    """Focus on the element named ``label`` (or of that tag) in the file ``path``; ``visible``: marked as focus
    (so it is after a key; not after a click)."""
    page.wait_for_function(
        "([path, label]) => { const a = document.activeElement;"
        " return (a?.closest('section.file')?.dataset.path ?? null) === path"
        " && (a?.getAttribute('aria-label') ?? a?.tagName) === label; }",
        arg=[path, label],
    )
    if visible:
        assert focus(page)["visible"], f"the focus on {label} in {path} is not visible"


def status(page: Page) -> Locator:
    return page.locator(".keys-status")


def comment_here(page: Page, text: str) -> None:
    """``c`` on the focused line, then the comment sent with Ctrl+Enter."""
    page.keyboard.press("c")
    box = page.get_by_role("textbox", name="Comment")
    expect(box).to_be_focused()
    page.keyboard.type(text)  # (its letters are typing, not shortcuts)
    expect(box).to_have_value(text)
    page.keyboard.press("Control+Enter")
    expect(page.get_by_role("textbox", name="Comment")).to_have_count(0)


def test_files_hunks_comments_threads_and_replies(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    changed_files(repo)
    server = start_server()
    open_view(page, server.url)
    expect(page.locator("section.file")).to_have_count(3)

    # j / k: files, their headers focused
    page.keyboard.press("j")
    expect_focus(page, "b.txt", "H2")  # (a.txt is the file at the top: the next one is b.txt)
    page.keyboard.press("k")
    expect_focus(page, "a.txt", "H2")
    page.keyboard.press("k")
    expect(status(page)).to_have_text("This is the first file.")
    expect_focus(page, "a.txt", "H2")

    # ] / [: hunks across files, their first added line's "+" focused
    page.keyboard.press("]")
    expect_focus(page, "a.txt", "Comment on line 10")
    page.keyboard.press("]")
    expect_focus(page, "a.txt", "Comment on line 60")
    page.keyboard.press("]")
    expect_focus(page, "b.txt", "Comment on line 30")
    page.keyboard.press("[")
    expect_focus(page, "a.txt", "Comment on line 60")
    page.keyboard.press("[")
    expect_focus(page, "a.txt", "Comment on line 10")

    # c: a comment on the focused line (typing j, k, n… in it moves nothing)
    comment_here(page, "just keep it")
    for _ in range(2):
        page.keyboard.press("]")
    expect_focus(page, "b.txt", "Comment on line 30")
    comment_here(page, "resolve me")
    section(page, "b.txt").get_by_role("button", name="Resolve conversation").click()
    expect(section(page, "b.txt").locator(".thread[data-state=resolved]")).to_have_count(1)
    for _ in range(2):
        page.keyboard.press("]")
    expect_focus(page, "c.txt", "Comment on line 80")
    comment_here(page, "and this")
    page.keyboard.press("]")
    expect(status(page)).to_have_text("No more hunks below.")

    # n / p: unresolved threads across files (the resolved one skipped), each focused
    page.locator("#sidebar a[data-file='a.txt']").click()
    expect_focus(page, "a.txt", "H2", visible=False)
    page.keyboard.press("n")
    expect(page.locator(":focus")).to_contain_text("just keep it")
    page.keyboard.press("n")
    expect(page.locator(":focus")).to_contain_text("and this")
    assert focus(page)["path"] == "c.txt"
    assert focus(page)["visible"]
    page.keyboard.press("n")
    expect(status(page)).to_have_text("No more unresolved threads below.")
    page.keyboard.press("p")
    expect(page.locator(":focus")).to_contain_text("just keep it")

    # r: reply in the focused thread
    page.keyboard.press("r")
    reply = section(page, "a.txt").get_by_role("textbox", name="Reply")
    expect(reply).to_be_focused()
    page.keyboard.type("noted")
    page.keyboard.press("Control+Enter")
    expect(section(page, "a.txt").locator(".thread")).to_contain_text("noted")


def test_a_collapsed_file_opens_for_its_thread(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    changed_files(repo)
    server = start_server()
    open_view(page, server.url)
    section(page, "c.txt").get_by_role("button", name="Comment on line 5", exact=True).click()
    add_comment(page, "in a file about to be collapsed")
    section(page, "c.txt").get_by_role("button", name="Collapse c.txt").click()
    expect(section(page, "c.txt").locator(".file-body")).to_be_hidden()
    page.locator("#sidebar a[data-file='a.txt']").click()
    page.keyboard.press("n")
    expect(page.locator(":focus")).to_contain_text("in a file about to be collapsed")
    expect(section(page, "c.txt").locator(".file-body")).to_be_visible()


def test_filter_edit_and_viewed(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    changed_files(repo)
    server = start_server()
    open_view(page, server.url)
    expect(page.locator("section.file")).to_have_count(3)

    # t: the filter, focused; what is typed there filters, and j / k then walk the files it shows
    page.keyboard.press("t")
    box = page.get_by_role("searchbox", name="Filter changed files")
    expect(box).to_be_focused()
    page.keyboard.type("!b.txt")
    expect(page.locator(".tree-filter-count")).to_have_text("2 of 3")
    page.keyboard.press("Tab")  # (out of the box)
    page.locator("#sidebar a[data-file='a.txt']").click()
    page.keyboard.press("j")
    expect_focus(page, "c.txt", "H2")

    # e: the editor of the focused file (a live view)
    page.keyboard.press("e")
    expect(section(page, "c.txt").get_by_role("textbox", name="Edit c.txt")).to_be_focused()
    page.keyboard.type("j")  # typing in the editor moves nothing
    assert focus(page)["path"] == "c.txt"

    # v: the file's Viewed box (input[data-action=viewed] in its header; one is put there where the page has none)
    section(page, "a.txt").locator(".file-header").evaluate(
        "header => { if (header.querySelector('input[data-action=viewed]')) return;"
        " const box = document.createElement('input'); box.type = 'checkbox'; box.dataset.action = 'viewed';"
        " header.append(box); }")
    viewed = section(page, "a.txt").locator("input[data-action=viewed]")
    page.locator("#sidebar a[data-file='a.txt']").click()
    page.keyboard.press("v")
    expect(viewed).to_be_checked()
    page.keyboard.press("v")
    expect(viewed).not_to_be_checked()


def test_edit_is_for_live_views(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    changed_files(repo)
    repo.commit("the changes")
    server = start_server()
    open_view(page, server.url.split("?")[0] + "?commit=HEAD")
    page.locator("#sidebar a[data-file='a.txt']").click()
    page.keyboard.press("e")
    expect(status(page)).to_have_text("Files can be edited in live views only.")
    expect(page.get_by_role("textbox", name="Edit a.txt")).to_have_count(0)


def test_help_dialog(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    changed_files(repo)
    server = start_server()
    open_view(page, server.url)
    page.locator("#sidebar a[data-file='b.txt']").click()
    expect_focus(page, "b.txt", "H2", visible=False)

    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("aria-modal", "true")
    assert page.evaluate("document.activeElement.closest('dialog') !== null"), "focus is not in the dialog"
    for key in ("j", "k", "n", "p", "]", "[", "v", "c", "r", "e", "t", "?"):
        expect(dialog.locator("kbd", has_text=key).first).to_be_visible()
    page.keyboard.press("j")  # (no shortcut while it is open)
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect_focus(page, "b.txt", "H2", visible=False)  # given back

    # the header's button opens it too; its actions are buttons; ? closes it again
    page.get_by_role("button", name="Keyboard shortcuts").click()
    expect(dialog).to_be_visible()
    page.keyboard.press("?")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Keyboard shortcuts")).to_be_focused()
    page.get_by_role("button", name="Keyboard shortcuts").click()
    dialog.get_by_role("button", name="Next hunk").click()  # (from b.txt, the file in view)
    expect(dialog).to_be_hidden()
    expect(page.locator(":focus")).to_have_attribute("aria-label", "Comment on line 30")
    page.keyboard.press("?")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(":focus")).to_have_attribute("aria-label", "Comment on line 30")


def test_hunks_in_the_split_layout(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    changed_files(repo)
    server = start_server()
    open_view(page, server.url + "&view=split")
    expect(section(page, "a.txt").locator("table.diff-split").first).to_be_visible()
    page.keyboard.press("]")
    expect_focus(page, "a.txt", "Comment on line 10")
    page.keyboard.press("]")
    expect_focus(page, "a.txt", "Comment on line 60")
    page.keyboard.press("c")
    expect(section(page, "a.txt").locator("form.comment-form .thread-where")).to_have_text("Comment on line 60")
