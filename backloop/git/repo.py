"""A repository and the questions backloop asks git about it: the only place that builds git command lines.

Every ref reaching a command line is validated and resolved to a full object id first, every path goes after
``--`` with ``--literal-pathspecs``, and the flags that decide the output format are pinned so that a user's own
git config (``diff.noprefix``, ``color.ui=always``, ``diff.external``, ``core.quotePath``…) cannot change what we
parse. ``--no-optional-locks`` keeps our calls from touching the index, so they cause no watcher events.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from backloop.git.index import (
    Index,
    IndexEntry,
    IndexFormatError,
    read_index,
    scratch_entries,
    stamp_of,
    support_entries,
    write_index,
)
from backloop.git.process import (
    ENV,
    BadRevision,
    GitError,
    NotARepository,
    fit_paths,
    path_batches,
    run_git,
)
from backloop.viewspec import ViewError, validate_rev

# Pinned diff flags: format, prefixes, no external tools or conversions.
DIFF_FLAGS = (
    "--raw",
    "-z",
    "-p",
    "--full-index",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--no-relative",
    "--submodule=short",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--inter-hunk-context=0",
    "-O/dev/null",
    "-M",
    "--no-abbrev",
)

_HEX = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


@dataclass(frozen=True)
class Target:
    """The new side of a diff: the work tree, the index, or a commit (full object id)."""

    kind: str  # "worktree" | "index" | "commit"
    commit: str | None = None


WORKTREE = Target("worktree")
INDEX = Target("index")


class Repo:
    """A git work tree. Create with :meth:`open`."""

    def __init__(self, root: Path, git_dir: Path) -> None:
        self.root = root
        self.git_dir = git_dir
        self._empty_tree: str | None = None

    @classmethod
    async def open(cls, path: str | Path) -> Repo:
        start = Path(path).expanduser()
        if not start.is_dir():
            raise NotARepository(f"{start} is not a directory")
        try:
            out = await run_git(start, ("rev-parse", "--show-toplevel", "--absolute-git-dir"))
        except GitError as exc:
            raise NotARepository(f"{start} is not inside a git work tree ({exc.message})") from None
        lines = out.decode("utf-8", "surrogateescape").splitlines()
        if len(lines) != 2 or not lines[0]:
            raise NotARepository(f"{start} is not inside a git work tree (bare repository?)")
        return cls(Path(lines[0]), Path(lines[1]))

    async def run(self, *args: str, ok_codes: Sequence[int] = (0,), stdin: bytes | None = None) -> bytes:
        return await run_git(self.root, args, ok_codes=ok_codes, stdin=stdin)

    # ---- revisions -----------------------------------------------------------------------------------------

    async def resolve(self, rev: str, what: str = "revision") -> str:
        """Full commit id of ``rev``; BadRevision names the revision when it does not exist."""
        try:
            validate_rev(rev, what)
        except ViewError as exc:
            raise BadRevision(str(exc)) from None
        out = await self.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}",
                             ok_codes=(0, 1, 128))
        oid = out.decode().strip()
        if not _HEX.match(oid):
            if rev == "HEAD" and not await self.has_commits():
                raise BadRevision("the repository has no commits yet (HEAD does not exist)")
            raise BadRevision(f"unknown {what} {rev!r}: no such commit in {self.root}")
        return oid

    async def has_commits(self) -> bool:
        out = await self.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}", ok_codes=(0, 1, 128))
        return bool(out.strip())

    async def empty_tree(self) -> str:
        if self._empty_tree is None:
            out = await self.run("hash-object", "-t", "tree", "--stdin", stdin=b"")
            self._empty_tree = out.decode().strip()
        return self._empty_tree

    async def first_parent(self, commit: str) -> str:
        """The first parent of ``commit``, or the empty tree for a root commit."""
        out = await self.run("rev-parse", "--verify", "--quiet", f"{commit}^1", ok_codes=(0, 1, 128))
        parent = out.decode().strip()
        return parent if _HEX.match(parent) else await self.empty_tree()

    async def merge_base(self, a: str, b: str) -> str:
        out = await self.run("merge-base", a, b, ok_codes=(0, 1))
        base = out.decode().strip()
        if not _HEX.match(base):
            raise BadRevision(f"{a[:12]} and {b[:12]} have no common ancestor")
        return base

    async def subject(self, commit: str) -> str:
        out = await self.run("log", "-1", "--format=%s", commit)
        return out.decode("utf-8", "replace").strip()

    # ---- diffs ---------------------------------------------------------------------------------------------

    async def diff(self, base: str, target: Target, *, context: int = 3, ignore_ws: bool = False,
                   paths: Iterable[str] | None = None) -> bytes:
        """``--raw -z -p`` output of ``base`` (an object id) against ``target``, optionally limited to paths
        (too many paths for one command line: the whole diff, of which the caller takes what it asked for)."""
        return await self.run(*_diff_args(base, target, context, ignore_ws, fit_paths(paths)))

    async def diff_unindexed(self, base: str, paths: Iterable[str], *, context: int = 3, ignore_ws: bool = False,
                             index: Index | None = None) -> list[bytes]:
        """``base`` against the work tree for paths that are in ``base`` but not in the index (``git rm
        --cached``): outputs in the format of :meth:`diff`, one per batch of paths that fits a command line.

        ``git diff <base>`` sees the work tree only through index entries, so it shows such a path as deleted
        even when the file is still there. Here the comparison runs against a scratch index that holds
        ``base``'s entries for just these paths, without stat data: git then reads each work-tree file as
        ``git add`` would (filters, end-of-line conversion, executable bit) and compares it with ``base``. Given
        ``index`` (the parsed real index), the scratch one also holds the entries git reads attributes from when
        their work-tree files are missing, as ``git add`` would.
        """
        hash_size = len(await self.empty_tree()) // 2
        outputs = []
        for batch in path_batches(paths):
            listing = await self.run("ls-tree", "-z", "--full-tree", base, "--", *batch)
            entries: dict[bytes, IndexEntry] = {}
            for item in listing.split(b"\0"):
                if item:
                    meta, name = item.split(b"\t", 1)
                    mode, _kind, oid = meta.split(b" ")
                    entries[name] = (int(mode, 8), bytes.fromhex(oid.decode()))
            support = support_entries(index, entries) if index is not None and self.index_is(index) else None
            with _scratch_index({**dict(support or ()), **entries}.items(), hash_size) as env:
                outputs.append(await run_git(self.root, _diff_args(base, WORKTREE, context, ignore_ws, batch), env=env))
        return outputs

    async def diff_files(self, *, context: int = 3, ignore_ws: bool = False, paths: Iterable[str],
                         index: Index | None = None) -> bytes:
        """``git diff-files``: the index against the work tree for ``paths``, in the same format as :meth:`diff`.

        For a path whose index entry equals the base's, this is exactly the base-against-work-tree diff, and much
        cheaper: ``git diff <base> -- path`` compares the whole index with the base tree first (hundreds of ms in
        a large repository). Given ``index`` (from :meth:`read_index`) while the index file is still the one it
        was read from, plain entries are compared through a scratch index of just them (backloop/git/index.py),
        which spares git loading the whole index."""
        listed = list(paths)
        fitted = fit_paths(listed)
        args = ["diff-files", *DIFF_FLAGS, f"-U{context}"]
        if ignore_ws:
            args.append("--ignore-all-space")
        args.append("--")
        if fitted is not None:
            args.extend(fitted)
        if index is not None and self.index_is(index):
            entries = scratch_entries(index, listed)
            if entries is not None:
                with _scratch_index(entries, index.hash_size) as env:
                    return await run_git(self.root, args, env=env)
        return await self.run(*args)

    async def diff_untracked(self, paths: Iterable[str], *, context: int = 3, ignore_ws: bool = False) -> list[bytes]:
        """Untracked files as git will show them once they are added, in the format of :meth:`diff` (one output
        per batch of paths that fits a command line): each batch goes into an empty scratch index as
        intent-to-add entries (``git add -N``), which ``git diff-files`` then compares with the work tree. git
        reads each file as ``git add`` would, so attributes and settings apply (``text``/``eol`` and
        ``core.autocrlf`` line endings, clean filters, ``binary``/``-diff``). The real index is not touched; git
        makes sure the empty blob (what an intent-to-add entry points at) is in the object store, as any ``git add
        -N`` does. GitError when a path cannot be added (say, it is gone)."""
        args = ["diff-files", *DIFF_FLAGS, f"-U{context}", *(["--ignore-all-space"] if ignore_ws else [])]
        outputs = []
        for batch in path_batches(paths):
            with tempfile.TemporaryDirectory(prefix="backloop-index-") as scratch:
                env = {**ENV, "GIT_INDEX_FILE": str(Path(scratch, "index"))}
                await run_git(self.root, ["add", "--intent-to-add", "--", *batch], env=env)
                outputs.append(await run_git(self.root, args, env=env))
        return outputs

    async def converts_on_add(self) -> bool:
        """Whether settings outside the work tree may make ``git add`` change a file's bytes or call it binary:
        ``core.autocrlf``, or an attributes file of the repository (``info/attributes``) or of the user
        (``core.attributesFile``, by default ``$XDG_CONFIG_HOME/git/attributes``). (``.gitattributes`` files in
        the work tree are the caller's to look for.)"""
        config = await self.run("config", "-z", "--type=path", "--get-regexp", r"^core\.(autocrlf|attributesfile)$",
                                ok_codes=(0, 1))
        settings = dict(item.split(b"\n", 1) for item in config.split(b"\0") if b"\n" in item)
        if settings.get(b"core.autocrlf", b"false").lower() not in (b"false", b"no", b"off", b"0", b""):
            return True
        user = settings.get(b"core.attributesfile")
        if user is not None:
            user_file = Path(os.fsdecode(user))
        else:
            xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
            user_file = Path(xdg, "git", "attributes")
        return (common_dir(self.git_dir) / "info" / "attributes").is_file() or user_file.is_file()

    def index_is(self, index: Index) -> bool:
        """Whether the index file is still the one ``index`` was read from."""
        return stamp_of(self.git_dir / "index") == index.stamp

    async def read_index(self) -> Index | None:
        """The parsed index file, or None when there is none or it is of a kind not read here (split index)."""
        hash_size = len(await self.empty_tree()) // 2
        try:
            return await asyncio.to_thread(read_index, self.git_dir / "index", hash_size)
        except (OSError, IndexFormatError):
            return None

    async def staged(self, base: str) -> set[str]:
        """Paths whose index entry differs from ``base`` (old and new names alike)."""
        out = await self.run("diff-index", "--cached", "--raw", "-z", "--no-renames", "--no-abbrev", base, "--")
        return set(_split_z(out)[1::2])  # pairs of ":modes ids status" and path (no renames: one path each)

    async def index_paths(self) -> set[str]:
        return set(_split_z(await self.run("ls-files", "-z")))

    async def tree_paths(self, commit: str) -> set[str]:
        return set(_split_z(await self.run("ls-tree", "-r", "-z", "--name-only", commit)))

    async def untracked(self, paths: Iterable[str] | None = None) -> list[str]:
        """Untracked, not ignored files (whole nested repositories excluded), optionally only those at or under
        ``paths``."""
        wanted = None if paths is None else list(paths)
        fitted = fit_paths(wanted)
        args = ["ls-files", "-z", "--others", "--exclude-standard", "--"]
        if fitted is not None:
            args.extend(fitted)
        out = await self.run(*args)
        found = [p for p in _split_z(out) if not p.endswith("/")]
        if wanted is not None and fitted is None:
            chosen = set(wanted)
            found = [p for p in found if p in chosen or any(a in chosen for a in _ancestors(p))]
        return found

    async def ignored(self, paths: Iterable[str]) -> set[str]:
        """Those of ``paths`` that are files in the work tree that .gitignore (or another exclude file) matches."""
        wanted = set(paths)
        if not wanted:
            return set()
        fitted = fit_paths(wanted)
        out = await self.run("ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--", *(fitted or ()))
        return wanted.intersection(_split_z(out))

    async def blob_size(self, blob: str) -> int | None:
        """Size in bytes of the object ``blob`` (a full id), or None when it is not there."""
        if not _HEX.fullmatch(blob):
            return None
        try:
            return int(await self.run("cat-file", "-s", blob))
        except (GitError, ValueError):
            return None

    async def read_blob(self, spec: str) -> bytes | None:
        """Bytes of ``<commit>:<path>`` or ``:<path>`` (index), or None when absent."""
        try:
            return await self.run("cat-file", "blob", spec)
        except GitError:
            return None


def common_dir(git_dir: Path) -> Path:
    """The directory with the refs shared by all worktrees: for a linked worktree's git dir
    (``.git/worktrees/NAME``, which has a ``commondir`` file) the main ``.git``; otherwise ``git_dir`` itself."""
    try:
        rel = (git_dir / "commondir").read_text().strip()
    except OSError:
        return git_dir
    return (git_dir / rel).resolve() if rel else git_dir


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


@contextlib.contextmanager
def _scratch_index(entries: Iterable[tuple[bytes, IndexEntry]], hash_size: int) -> Iterator[dict[str, str]]:
    """The environment for a git command that reads a temporary index of ``entries`` instead of the real one."""
    fd, name = tempfile.mkstemp(prefix="backloop-index-")
    try:
        os.close(fd)
        write_index(Path(name), entries, hash_size)
        yield {**ENV, "GIT_INDEX_FILE": name}
    finally:
        os.unlink(name)


def _diff_args(base: str, target: Target, context: int, ignore_ws: bool, paths: list[str] | None) -> list[str]:
    args = ["diff", *DIFF_FLAGS, f"-U{context}"]
    if ignore_ws:
        args.append("--ignore-all-space")
    if target.kind == "index":
        args += ["--cached", base]
    elif target.kind == "commit":
        assert target.commit is not None
        args += [base, target.commit]
    else:
        args.append(base)
    args.append("--")
    if paths is not None:
        args.extend(paths)
    return args


def _split_z(out: bytes) -> list[str]:
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]
