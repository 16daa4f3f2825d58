"""A git operation that stopped halfway (a rebase or merge at a conflict), said in words for the person."""

from __future__ import annotations

from backloop.git.repo import Repo

_OPERATIONS = (
    ("rebase-merge", "A rebase is in progress: HEAD is the commit it stopped at, not the tip of your branch"),
    ("rebase-apply/applying", "A git am is in progress"),
    ("rebase-apply", "A rebase is in progress: HEAD is the commit it stopped at, not the tip of your branch"),
    ("MERGE_HEAD", "A merge is in progress"),
    ("CHERRY_PICK_HEAD", "A cherry-pick is in progress"),
    ("REVERT_HEAD", "A revert is in progress"),
)
"""Files in the git dir that mean an operation stopped halfway, and what to tell the person."""


async def operation_in_progress(repo: Repo) -> str | None:
    """What operation is left in progress, with its conflicted files; None when there is none."""
    label = next((text for name, text in _OPERATIONS if (repo.git_dir / name).exists()), None)
    if label is None:
        return None
    out = await repo.run("ls-files", "-u", "-z")
    conflicted = sorted({item.split("\t", 1)[1] for item in out.decode("utf-8", "replace").split("\0")
                         if "\t" in item})
    if not conflicted:
        return f"{label}."
    names = ", ".join(conflicted[:5]) + (", …" if len(conflicted) > 5 else "")
    return f"{label}; {len(conflicted)} file{'s' if len(conflicted) > 1 else ''} with conflicts: {names}."
