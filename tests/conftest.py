"""Shared fixtures: real temp git repositories, isolated from the user's own git configuration."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import backloop.git.process as git_process
from tests.support import GitRepo, init_repo

if TYPE_CHECKING:
    from playwright.sync_api import Browser

# Repositories made by the tests and every git call backloop makes see no user or system config, unless a test
# installs one on purpose (tests/diff/test_parse.py::test_hostile_user_config_changes_nothing).
os.environ["GIT_CONFIG_GLOBAL"] = os.devnull
os.environ["GIT_CONFIG_NOSYSTEM"] = "1"

MakeRepo = Callable[..., GitRepo]


@pytest.fixture(autouse=True)
def _isolated_git_config(monkeypatch: pytest.MonkeyPatch) -> None:
    for env in (os.environ, git_process.ENV):
        monkeypatch.setitem(env, "GIT_CONFIG_GLOBAL", os.devnull)
        monkeypatch.setitem(env, "GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def make_repo(tmp_path: Path) -> Iterator[MakeRepo]:
    """``make_repo(files={path: content}, name="repo")``: a new git repository (branch ``main``); when ``files``
    is given they are written and committed as its first commit."""
    counter = iter(range(1000))

    def make(files: Mapping[str, str | bytes] | None = None, *, name: str | None = None) -> GitRepo:
        return init_repo(tmp_path / (name or f"repo{next(counter)}"), files)

    yield make


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless system Chromium for the session (see tests/e2e/conftest.py), for tests/e2e and tests/security."""
    from tests.e2e.conftest import launch_chromium

    yield from launch_chromium()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in the main thread for the rest of
    the session (its browser is session-scoped), and tests that call asyncio.run() cannot run after that."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
