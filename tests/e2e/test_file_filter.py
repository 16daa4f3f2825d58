"""The file filter above the tree, in a real Chromium: what its terms match (frontend/file-filter.js), and on a
diff of a few hundred files its globs, exclusions, count, and the URL that keeps it across a reload."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import StartServer
from tests.e2e.test_live_view import open_view
from tests.support import GitRepo

try:
    from playwright.sync_api import Page, expect
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(f"the browser tests need Playwright for Python (pip install playwright): {exc}") from exc

pytestmark = pytest.mark.browser

PATHS = [
    "README.md", "setup.py", "yarn.lock", "web/yarn.lock", "web/app.js", "web/app.ts", "src/a.py", "src/pkg/b.py",
    "src/pkg/deep/c.py", "src/pkg/c.txt", "lib/src/d.py", "vendor/x/y.js", "docs/Guide.MD", "tests/test_a.py",
]

CASES: dict[str, list[str]] = {
    "": PATHS,
    "src": ["src/a.py", "src/pkg/b.py", "src/pkg/deep/c.py", "src/pkg/c.txt", "lib/src/d.py"],
    "SRC/PKG": ["src/pkg/b.py", "src/pkg/deep/c.py", "src/pkg/c.txt"],
    "src/**/*.py": ["src/a.py", "src/pkg/b.py", "src/pkg/deep/c.py"],
    "src/*.py": ["src/a.py"],
    "/src/**": ["src/a.py", "src/pkg/b.py", "src/pkg/deep/c.py", "src/pkg/c.txt"],
    "**/src/*.py": ["src/a.py", "lib/src/d.py"],
    "*.lock": ["yarn.lock", "web/yarn.lock"],
    "!*.lock": [p for p in PATHS if not p.endswith(".lock")],
    "*.py !src/pkg/**": ["setup.py", "src/a.py", "lib/src/d.py", "tests/test_a.py"],
    "web !*.lock": ["web/app.js", "web/app.ts"],
    "*.lock README": ["README.md", "yarn.lock", "web/yarn.lock"],
    "web/app.{js,ts}": ["web/app.js", "web/app.ts"],
    "*.md": ["README.md", "docs/Guide.MD"],
    "test_?.py": ["tests/test_a.py"],
    "[rs]*.py": ["setup.py"],
    "vendor*": ["vendor/x/y.js"],
    "src/pkg/*/": ["src/pkg/deep/c.py"],
    "!src !docs !tests !web !vendor !lib": ["README.md", "setup.py", "yarn.lock"],
    "! nothing[": [],
}

FILTER_JS = """
async ({ paths, queries }) => {
  const { FileFilter } = await import("/static/file-filter.js");
  const out = {};
  for (const query of queries) {
    const filter = new FileFilter(query);
    out[query] = { shown: paths.filter((path) => filter.matches(path)), active: filter.active };
  }
  return out;
}
"""


def test_filter_terms_match_as_documented(start_server: StartServer, page: Page) -> None:
    server = start_server()
    page.goto(server.url.split("/review/")[0] + "/")
    got = page.evaluate(FILTER_JS, {"paths": PATHS, "queries": list(CASES)})
    wrong = {query: (got[query]["shown"], want) for query, want in CASES.items() if got[query]["shown"] != want}
    assert not wrong, "\n".join(f"{query!r}:\n  got  {g}\n  want {w}" for query, (g, w) in wrong.items())
    assert not got[""]["active"]
    assert got["!*.lock"]["active"]


def many_files(repo: GitRepo) -> list[str]:
    """300 files (200 Python under src/, 60 JavaScript under web/, 40 lock files), committed, then each changed."""
    paths = ([f"src/pkg{i % 10}/mod{i}.py" for i in range(200)] + [f"web/part{i}.js" for i in range(60)]
             + [f"deps/dep{i}/poetry.lock" for i in range(40)])
    for path in paths:
        repo.write(path, f"first version of {path}\n")
    repo.commit("many files")
    for path in paths:
        repo.write(path, f"second version of {path}\n")
    return paths


def test_filter_globs_exclusions_count_and_url(repo: GitRepo, start_server: StartServer, page: Page) -> None:
    many_files(repo)
    server = start_server()
    open_view(page, server.url)
    entries = page.locator("#sidebar li[data-file]")
    shown = page.locator("#sidebar li[data-file]:not([hidden])")
    expect(entries).to_have_count(300)
    count = page.locator(".tree-filter-count")
    expect(count).to_be_hidden()
    box = page.get_by_role("searchbox", name="Filter changed files")

    box.fill("src/**/*.py")
    expect(count).to_have_text("200 of 300")
    expect(count).to_have_attribute("role", "status")
    expect(shown).to_have_count(200)
    expect(page).to_have_url(re.compile(r"[?&]" + re.escape("filter=src%2F**%2F*.py") + "(&|$)"))

    box.fill("!*.lock")
    expect(count).to_have_text("260 of 300")
    expect(shown).to_have_count(260)
    expect(page.locator('#sidebar li[data-file="deps/dep3/poetry.lock"]')).to_be_hidden()

    box.fill("pkg3/ web/part1*.js !*.lock")
    # mod3, mod13 … mod193 (20) and part1, part10-19 (11)
    expect(count).to_have_text("31 of 300")
    expect(shown).to_have_count(31)
    expect(page.locator('#sidebar li[data-file="src/pkg3/mod13.py"]')).to_be_visible()
    expect(page.locator('#sidebar li[data-file="web/part2.js"]')).to_be_hidden()

    # kept in the URL (once typing pauses): a reload, or a shared link, shows the same files
    expect(page).to_have_url(re.compile(r"[?&]filter=pkg3%2F\+web%2Fpart1\*\.js\+%21\*\.lock(&|$)"))
    page.reload()
    expect(page.locator("[data-connection]")).to_have_attribute("data-connection", "open")
    expect(box).to_have_value("pkg3/ web/part1*.js !*.lock")
    expect(count).to_have_text("31 of 300")
    expect(shown).to_have_count(31)

    box.fill("no such file")
    expect(count).to_have_text("0 of 300")
    expect(shown).to_have_count(0)
    box.fill("")
    expect(count).to_be_hidden()
    expect(shown).to_have_count(300)
    expect(page).not_to_have_url(re.compile(r"[?&]filter="))
    expect(page).to_have_url(re.compile(r"[?&]since=HEAD\b"))
