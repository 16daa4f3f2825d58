"""A ViewSpec resolved against a repository: which object ids are the old and new side, and their labels."""

from __future__ import annotations

from dataclasses import dataclass

from backloop.git.process import BadRevision
from backloop.git.repo import INDEX, WORKTREE, Repo, Target
from backloop.viewspec import ViewSpec, split_range


@dataclass(frozen=True)
class Resolved:
    base: str
    """Object id of the old side (a commit, or the empty tree)."""
    target: Target
    base_label: str
    target_label: str
    notice: str | None = None


async def resolve(repo: Repo, spec: ViewSpec) -> Resolved:
    """Resolve ``spec``; BadRevision names the revision that does not exist."""
    if spec.since is not None:
        target = WORKTREE if spec.live else INDEX
        target_label = "work tree" if spec.live else "index (staged)"
        if spec.since in ("HEAD", "@") and not await repo.has_commits():
            return Resolved(await repo.empty_tree(), target, "empty tree", target_label,
                            "This repository has no commits yet: every file is shown as added.")
        base = await repo.resolve(spec.since, "since")
        return Resolved(base, target, f"{spec.since} ({base[:8]})", target_label)
    if spec.commit is not None:
        commit = await repo.resolve(spec.commit, "commit")
        parent = await repo.first_parent(commit)
        subject = await repo.subject(commit)
        parent_label = "empty tree (root commit)" if parent == await repo.empty_tree() else f"{parent[:8]}"
        return Resolved(parent, Target("commit", commit), parent_label, f"{commit[:8]} {subject}")
    assert spec.range is not None
    left, right, merge_base = split_range(spec.range)
    a = await repo.resolve(left, "range start")
    b = await repo.resolve(right, "range end")
    if merge_base:
        base = await repo.merge_base(a, b)
        return Resolved(base, Target("commit", b), f"merge base of {left} and {right} ({base[:8]})",
                        f"{right} ({b[:8]})")
    return Resolved(a, Target("commit", b), f"{left} ({a[:8]})", f"{right} ({b[:8]})")


__all__ = ["BadRevision", "Resolved", "resolve"]
