"""How live updates change the page in a real Chromium: the rows a change leaves alone stay the same elements
(a text selection in them survives), rows below an added line get their new numbers, a file that enters the
diff next to the one in view comes with its rows, and rows are built near the viewport and dropped far away."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import StartServer, numbered
from tests.e2e.test_live_view import open_view, row, section, with_line
from tests.support import GitRepo

try:
    from playwright.sync_api import Page, expect
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(f"the browser tests need Playwright for Python (pip install playwright): {exc}") from exc

pytestmark = pytest.mark.browser

TWO_HUNKS = with_line(with_line(numbered(100), 10, "changed 10"), 80, "changed 80")


def test_rows_a_change_leaves_alone_stay_and_keep_the_selection(repo: GitRepo, start_server: StartServer,
                                                                page: Page) -> None:
    repo.write("notes.txt", TWO_HUNKS)
    server = start_server()
    open_view(page, server.url)
    far = row(page, "notes.txt", "n80")
    expect(far).to_contain_text("changed 80")
    far.evaluate("tr => { tr.__before = true; getSelection().selectAllChildren(tr.querySelector('.content')); }")
    assert page.evaluate("String(getSelection())") == "changed 80"

    repo.write("notes.txt", with_line(TWO_HUNKS, 12, "changed 12 meanwhile"))
    expect(row(page, "notes.txt", "n12")).to_contain_text("changed 12 meanwhile")
    assert far.evaluate("tr => tr.__before === true"), "the row of the other hunk was built again"
    assert page.evaluate("String(getSelection())") == "changed 80"
    # the rows of the changed hunk are new, and the table has each line once
    expect(row(page, "notes.txt", "n10")).to_contain_text("changed 10")
    expect(section(page, "notes.txt").locator('tr[data-key="n12"]')).to_have_count(1)
    expect(section(page, "notes.txt").locator('tr[data-key="o12"]')).to_have_count(1)


@pytest.mark.parametrize("layout", ["unified", "split"])
def test_rows_below_added_lines_get_their_new_numbers(repo: GitRepo, start_server: StartServer, page: Page,
                                                      layout: str) -> None:
    repo.write("notes.txt", TWO_HUNKS)
    server = start_server()
    open_view(page, server.url + ("&view=split" if layout == "split" else ""))
    moved = section(page, "notes.txt").locator('tr[data-old="81"]')
    expect(moved).to_contain_text("line 81")
    expect(moved).to_have_attribute("data-key", "n81")
    moved.evaluate("tr => { tr.__before = true; }")

    grown = TWO_HUNKS.replace("changed 10\n", "changed 10\nadded 1\nadded 2\n")
    repo.write("notes.txt", grown)
    expect(row(page, "notes.txt", "n12")).to_contain_text("added 2")
    expect(moved).to_have_attribute("data-key", "n83")
    assert moved.evaluate("tr => tr.__before === true"), "a row that only moved was built again"
    numbers = moved.locator("td.num")
    expect(numbers).to_have_text(["81", "83"])
    expect(moved.get_by_role("button", name="Comment on line 83", exact=True)).to_have_count(1)
    expect(section(page, "notes.txt").get_by_role("button", name="Comment on line 81", exact=True)).to_have_count(1)
    # the "+" of the moved row comments on its new number
    moved.get_by_role("button", name="Comment on line 83", exact=True).click()
    expect(page.get_by_role("textbox", name="Comment")).to_be_visible()
    expect(section(page, "notes.txt").locator('tr[data-key="n83"] + tr.comment-form-row')).to_have_count(1)


def test_a_file_entering_the_diff_next_to_the_one_in_view_comes_with_its_rows(repo: GitRepo,
                                                                             start_server: StartServer,
                                                                             page: Page) -> None:
    for name in ("a.txt", "b.txt", "c.txt"):
        repo.write(name, numbered(30, name))
    repo.commit("three files")
    repo.write("a.txt", with_line(numbered(30, "a.txt"), 5, "a changed"))
    repo.write("c.txt", with_line(numbered(30, "c.txt"), 5, "c changed"))
    server = start_server()
    open_view(page, server.url)
    expect(row(page, "c.txt", "n5")).to_contain_text("c changed")
    # Whether b.txt's section had its rows at the moment it was put in the page.
    page.evaluate("""() => {
      window.__arrived = null;
      const files = document.getElementById("files");
      new MutationObserver((records, observer) => {
        const added = records.flatMap((r) => [...r.addedNodes]);
        const section = added.find((n) => n instanceof HTMLElement && n.dataset.path === "b.txt");
        if (!section) return;
        window.__arrived = section.querySelectorAll("tr.line").length;
        observer.disconnect();
      }).observe(files, { childList: true });
    }""")

    repo.write("b.txt", with_line(numbered(30, "b.txt"), 5, "b changed"))
    page.wait_for_function("() => window.__arrived !== null")
    assert page.evaluate("window.__arrived") > 0
    expect(row(page, "b.txt", "n5")).to_contain_text("b changed")


def test_rows_are_built_near_the_viewport_and_dropped_far_away(repo: GitRepo, start_server: StartServer,
                                                                page: Page) -> None:
    names = [f"f{i:02}.txt" for i in range(24)]
    for name in names:
        repo.write(name, numbered(200, name))
    repo.commit("many files")
    for name in names:
        repo.write(name, "".join(f"{name} new {n}\n" for n in range(1, 201)))  # 400 changed lines each
    server = start_server()
    open_view(page, server.url)
    first, last = section(page, names[0]), section(page, names[-1])
    expect(row(page, names[0], "n1")).to_contain_text("new 1")
    expect(last.locator("tr.line")).to_have_count(0)
    expect(last.locator(".diff-placeholder")).to_have_count(1)

    last.scroll_into_view_if_needed()
    expect(row(page, names[-1], "n1")).to_contain_text("new 1")
    expect(first.locator("tr.line")).to_have_count(0)  # 24 files of 400 rows: the first is far above
    expect(first.locator(".diff-placeholder")).to_have_count(1)

    page.evaluate("window.scrollTo(0, 0)")
    expect(row(page, names[0], "n1")).to_contain_text("new 1")
