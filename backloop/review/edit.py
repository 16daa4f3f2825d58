"""Direct edits from the page: read a work-tree file for editing and write it back atomically, confined to the
work tree, refusing to overwrite a version the person did not see."""

from __future__ import annotations

import difflib
import hashlib
import os
import secrets
import stat
import tempfile
from pathlib import Path, PurePosixPath

MAX_EDIT_BYTES = 1_000_000


class EditRefused(Exception):
    """The edit is not allowed or not possible; the message says why."""


class EditConflict(EditRefused):
    """The file changed since the person opened it; nothing was written."""


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def confine(root: Path, rel: str) -> Path:
    """The absolute path of work-tree file ``rel``; EditRefused for anything outside the work tree or in .git."""
    if not rel or "\0" in rel or "\\" in rel:
        raise EditRefused(f"{rel!r} is not a valid path")
    pure = PurePosixPath(rel)
    if pure.is_absolute() or any(part in ("..", ".", "") for part in rel.split("/")):
        raise EditRefused(f"{rel!r} must be a plain path relative to the repository")
    if pure.parts[0] == ".git":
        raise EditRefused("files inside .git cannot be edited")
    full = root / pure
    real = Path(os.path.realpath(full))
    if not real.is_relative_to(root) or real != full:
        raise EditRefused(f"{rel!r} is a symlink or lies behind one; edit the file it points to instead")
    return full


def read_for_edit(root: Path, rel: str) -> tuple[str, str]:
    """Text and content hash of a file to edit."""
    full = confine(root, rel)
    try:
        st = os.lstat(full)
    except FileNotFoundError:
        raise EditRefused(f"{rel} does not exist in the work tree") from None
    if not stat.S_ISREG(st.st_mode):
        raise EditRefused(f"{rel} is not a regular file")
    if st.st_size > MAX_EDIT_BYTES:
        raise EditRefused(f"{rel} is too large to edit in the page ({st.st_size:,} bytes)")
    data = full.read_bytes()
    if b"\0" in data[:8000]:
        raise EditRefused(f"{rel} is a binary file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise EditRefused(f"{rel} is not valid UTF-8; editing it here could change its bytes") from None
    return text, content_hash(data)


def _link_aside(full: Path) -> Path | None:
    """A second name for the file as it is now, so that a write into it that lands after our check is neither lost
    nor missed; None where the file system has no hard links (the check then reads the file itself)."""
    for _ in range(8):
        aside = full.with_name(f".{full.name}.{secrets.token_hex(6)}.backloop")
        try:
            os.link(full, aside)
        except FileExistsError:
            continue
        except OSError:
            return None
        return aside
    return None


def _same_file(full: Path, aside: Path | None) -> bool:
    """Whether ``full`` is still the file linked aside: not replaced by a rename since (an atomic save)."""
    return aside is None or os.path.samefile(full, aside)


def write_edit(root: Path, rel: str, base_hash: str, content: str) -> str:
    """Replace ``rel`` with ``content`` if it still has ``base_hash``; returns the unified diff of the edit."""
    old_text, current = read_for_edit(root, rel)
    if current != base_hash:
        raise EditConflict(f"{rel} changed since you opened it (the agent may have edited it): nothing was "
                           "saved. Reload the file and apply your change again.")
    if "\r\n" in old_text and "\r\n" not in content:
        content = content.replace("\n", "\r\n")  # keep the file's line endings
    new_data = content.encode("utf-8")
    if len(new_data) > MAX_EDIT_BYTES:
        raise EditRefused(f"the new content is too large ({len(new_data):,} bytes)")
    full = confine(root, rel)
    mode = stat.S_IMODE(os.lstat(full).st_mode)
    fd, tmp = tempfile.mkstemp(dir=full.parent, prefix=f".{full.name}.", suffix=".backloop")
    aside: Path | None = None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(new_data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        aside = _link_aside(full)
        if content_hash((aside or full).read_bytes()) != base_hash or not _same_file(full, aside):
            raise EditConflict(f"{rel} changed while saving: nothing was saved. Reload and apply your change again.")
        os.replace(tmp, full)
        if aside is not None and content_hash(aside.read_bytes()) != base_hash:
            # Written in place (truncate and write) between the check and the rename: that write wins, and the
            # writer's open descriptor keeps writing into the file that is back in place.
            os.replace(aside, full)
            aside = None
            raise EditConflict(f"{rel} changed while saving: nothing was saved. Reload and apply your change again.")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        if aside is not None:
            aside.unlink(missing_ok=True)
    return "".join(difflib.unified_diff(old_text.splitlines(keepends=True), content.splitlines(keepends=True),
                                        fromfile=f"a/{rel}", tofile=f"b/{rel}"))
