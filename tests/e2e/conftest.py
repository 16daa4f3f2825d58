"""End-to-end fixtures: a real temp git repository, a real ``backloop server`` process, a real headless Chromium.

Chromium is the system one (``/usr/bin/chromium``, or ``$BACKLOOP_CHROMIUM``); Playwright never downloads a
browser here. When Playwright or Chromium is missing the browser tests fail with a message saying so: a green
run must mean the page was really driven.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("BACKLOOP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
GIT_IDENTITY = ("-c", "user.name=t", "-c", "user.email=t@t")
URL_RE = re.compile(r"http://127\.0\.0\.1:\d+/review/[^/\s]+/view\?\S+")
SERVER_START_TIMEOUT_S = 30.0
EXPECT_TIMEOUT_MS = 10_000


class E2ERepo:
    """A git repository in a temp directory, changed the way a coding agent would: files on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def git(self, *args: str) -> str:
        proc = subprocess.run(["git", *GIT_IDENTITY, *args], cwd=self.root, capture_output=True, text=True,
                              check=False)
        assert proc.returncode == 0, f"git {' '.join(args)} failed: {proc.stderr}"
        return proc.stdout

    def write(self, rel: str, data: str | bytes) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    def delete(self, rel: str) -> None:
        (self.root / rel).unlink()

    def commit(self, message: str = "change") -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)


def numbered(count: int, prefix: str = "line") -> str:
    """``count`` distinct lines ``prefix 1`` … ``prefix N``, each ending with a newline."""
    return "".join(f"{prefix} {n}\n" for n in range(1, count + 1))


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> E2ERepo:
    """A repository with one commit: ``app.py`` (40 lines), ``notes.txt`` (100 lines), ``README.md``."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    made = E2ERepo(root.resolve())
    made.write("app.py", "".join(f"def f{n}():\n    return {n}\n\n" for n in range(1, 14)) + "# end\n")
    made.write("notes.txt", numbered(100))
    made.write("README.md", "# Demo\n\nA small repository for browser tests.\n")
    made.commit("initial")
    return made


@dataclass
class Server:
    """A running ``python -m backloop server`` process and the review URL it printed."""

    url: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def _pump(stream: object, lines: queue.Queue[str | None]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.put(line)
    lines.put(None)


def _start_server(repo: E2ERepo, state_dir: Path, *args: str) -> Server:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", BACKLOOP_STATE_DIR=str(state_dir),
               GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "backloop", "server", "--repo", str(repo.root), "--port", "0", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    output: list[str] = []
    while True:
        try:
            line = lines.get(timeout=SERVER_START_TIMEOUT_S)
        except queue.Empty:
            process.kill()
            pytest.fail(f"backloop server printed no review URL within {SERVER_START_TIMEOUT_S} s:\n"
                        + "".join(output))
        if line is None:
            pytest.fail(f"backloop server exited with {process.wait()} before printing a review URL:\n"
                        + "".join(output))
        output.append(line)
        match = URL_RE.search(line)
        if match:
            return Server(url=match.group(0), process=process, output=output)


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


StartServer = Callable[..., Server]


@pytest.fixture
def start_server(repo: E2ERepo, tmp_path: Path) -> Iterator[StartServer]:
    """Call it to run ``python -m backloop server --repo <repo> --port 0 [args]`` (after preparing the work tree);
    it waits for the review URL printed on stdout. Every server started is stopped at teardown; all share one state
    directory."""
    started: list[Server] = []

    def start(*args: str) -> Server:
        server = _start_server(repo, tmp_path / "state", *args)
        started.append(server)
        return server

    yield start
    for server in started:
        _stop(server.process)


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
