"""Running ``git``: the pinned config and environment every call gets, the errors, and the limits of a command line.

Only backloop/git/ runs git, through :func:`run_git`.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# Config that would change the format of what we parse, pinned for every call.
_PINNED_CONFIG = (
    "core.quotePath=false",
    "color.ui=never",
    "color.diff=never",
    "diff.noprefix=false",
    "diff.mnemonicPrefix=false",
    "diff.external=",
    "diff.suppressBlankEmpty=false",
    "diff.relative=false",
    "diff.submodule=short",
    "diff.ignoreSubmodules=untracked",  # git diff's own default; "all" would hide submodule changes
    "core.pager=cat",
    # `git diff` against the work tree rewrites the index to refresh stale stat data even with
    # --no-optional-locks (git < 2.50): that takes index.lock under the user's feet and wakes our watcher.
    # Without the refresh, stat-only changes come out as empty entries, which diff/parse.py drops.
    "diff.autoRefreshIndex=false",
)

_ENV_DROP = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_EXTERNAL_DIFF", "GIT_DIFF_OPTS", "GIT_PAGER",
             "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_PREFIX", "GIT_NAMESPACE", "GIT_OBJECT_DIRECTORY")


class GitError(Exception):
    """A git command failed; ``message`` is fit to show to a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotARepository(GitError):
    pass


class BadRevision(GitError):
    pass


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _ENV_DROP}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0", LC_ALL="C", LANG="C")
    return env


ENV = _git_env()


MAX_PATHSPEC_BYTES = 256_000
"""Paths beyond this many bytes are not put on a command line (the kernel refuses an argument list of more than
about 2 MB with E2BIG); the command then runs over the whole tree."""


def fit_paths(paths: Iterable[str] | None) -> list[str] | None:
    """``paths`` as a list, or None (everything) when they would not fit on a command line."""
    if paths is None:
        return None
    listed = list(paths)
    size = 0
    for p in listed:
        size += len(p) + 1
        if size > MAX_PATHSPEC_BYTES:
            return None
    return listed


def path_batches(paths: Iterable[str]) -> list[list[str]]:
    """``paths`` in lists that each fit on a command line."""
    batches: list[list[str]] = [[]]
    size = 0
    for p in paths:
        size += len(p) + 1
        if size > MAX_PATHSPEC_BYTES and batches[-1]:
            batches.append([])
            size = len(p) + 1
        batches[-1].append(p)
    return [b for b in batches if b]


_GIT_THREADS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="backloop-git")


async def run_git(cwd: Path, args: Sequence[str], ok_codes: Sequence[int] = (0,), stdin: bytes | None = None,
               env: Mapping[str, str] = ENV) -> bytes:
    cmd = ["git", "--no-optional-locks", "--literal-pathspecs"]
    for item in _PINNED_CONFIG:
        cmd += ["-c", item]
    cmd += args
    # Started and read in a thread, not with asyncio's subprocesses: the fork/exec and the thread asyncio's child
    # watcher starts for each child hold the event loop for 5-170 ms a call on a busy machine (soak.py --stalls).
    try:
        proc = await asyncio.get_running_loop().run_in_executor(_GIT_THREADS, _spawn, cmd, cwd, env, stdin)
    except FileNotFoundError:
        raise GitError("git is not installed (no `git` on PATH)") from None
    if proc.returncode not in ok_codes:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {detail[-1] if detail else f'exit {proc.returncode}'}")
    return proc.stdout


def _spawn(cmd: list[str], cwd: Path, env: Mapping[str, str], stdin: bytes | None,
           ) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(cmd, cwd=cwd, env=env, input=stdin, capture_output=True,
                          stdin=subprocess.DEVNULL if stdin is None else None, check=False)
