"""End-to-end fixtures: a real temp git repository, a real ``backloop server`` process, a real headless Chromium.

Chromium is the system one (``/usr/bin/chromium``, or ``$BACKLOOP_CHROMIUM``); Playwright never downloads a
browser here. When Playwright or Chromium is missing the browser tests fail with a message saying so: a green
run must mean the page was really driven.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import MakeRepo
from tests.real_server import RealServer, servers
from tests.support import GitRepo

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page

EXPECT_TIMEOUT_MS = 10_000


def numbered(count: int, prefix: str = "line") -> str:
    """``count`` distinct lines ``prefix 1`` … ``prefix N``, each ending with a newline."""
    return "".join(f"{prefix} {n}\n" for n in range(1, count + 1))


@pytest.fixture
def repo(make_repo: MakeRepo) -> GitRepo:
    """A repository with one commit: ``app.py`` (40 lines), ``notes.txt`` (100 lines), ``README.md``."""
    return make_repo({"app.py": "".join(f"def f{n}():\n    return {n}\n\n" for n in range(1, 14)) + "# end\n",
                      "notes.txt": numbered(100),
                      "README.md": "# Demo\n\nA small repository for browser tests.\n"}, name="repo")


StartServer = Callable[..., RealServer]


@pytest.fixture
def start_server(repo: GitRepo, tmp_path: Path) -> Iterator[StartServer]:
    """Call it to run ``python -m backloop server --repo <repo> --port 0 [args]`` (after preparing the work tree);
    it waits for the review URL printed on stdout. Every server started is stopped at teardown; all share one state
    directory."""
    with servers(RealServer, lambda: tmp_path / "state") as start:
        yield functools.partial(start, repo.root)


def launch_chromium() -> Iterator[Browser]:
    """The system Chromium under Playwright, for the session-scoped ``browser`` fixture in tests/conftest.py (one
    per session: Playwright's sync API cannot run twice in one thread, and tests/security drives it too)."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.fail(f"the browser tests need Playwright for Python (pip install playwright; no browser download "
                    f"is needed, the system Chromium is used): {exc}")
    if not CHROMIUM.exists():
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM} (apt-get install chromium, or set "
                    f"BACKLOOP_CHROMIUM to a Chromium binary)")
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            pytest.fail(f"could not start Chromium at {CHROMIUM}: {exc}")
        yield launched
        launched.close()


@dataclass
class Watched:
    """A page whose dialogs, uncaught errors and console errors are recorded; any of them fails the test."""

    page: Page
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    allow_console: list[re.Pattern[str]] = field(default_factory=list)

    def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not any(p.search(message.text) for p in self.allow_console):
            self.errors.append(f"console: {message.text}")


def _open_page(browser: Browser, color_scheme: str) -> Iterator[Watched]:
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        color_scheme="dark" if color_scheme == "dark" else "light",
    )
    page = context.new_page()
    page.set_default_timeout(EXPECT_TIMEOUT_MS)
    watched = Watched(page)
    page.on("dialog", watched.on_dialog)
    page.on("pageerror", lambda error: watched.errors.append(f"page error: {error}"))
    page.on("console", watched.on_console)
    try:
        yield watched
    finally:
        context.close()
    assert not watched.dialogs, f"the page opened dialogs: {watched.dialogs}"
    assert not watched.errors, f"the page reported errors: {watched.errors}"


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    """A fresh light-mode page in its own browser context."""
    yield from _open_page(browser, "light")


@pytest.fixture
def page(watched: Watched) -> Page:
    return watched.page
