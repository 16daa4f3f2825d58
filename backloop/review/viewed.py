"""Viewed files: the person marks a file of a review viewed, and the mark holds for the file's diff as it was then.
When that diff changes in the review's own view, the file comes back unviewed and "changed since you viewed it".

Marks are by path, with the FileDiff digest of the review's own view (the diff the review is about, whatever view
the person marked it in). Kept in the store; a change the view reports is followed in memory at once and written
in the background, like comments that follow their code (review/follow.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from backloop.diff.view import DiffView, FilesChanged, ViewEvent
from backloop.review.model import ViewedFile
from backloop.review.store import Store, StoreError
from backloop.viewspec import ViewSpec

log = logging.getLogger(__name__)

Listener = Callable[[str, list[str]], None]
"""(review id, paths whose mark changed)."""


@dataclass(frozen=True)
class Mark:
    digest: str
    """The digest of the file's diff in the review's own view when it was marked viewed."""
    viewed: bool
    changed: bool

    def file(self, path: str) -> ViewedFile:
        return ViewedFile(path=path, viewed=self.viewed, changed=self.changed)


class Viewed:
    """The marks of every review this process serves, by review id and path."""

    def __init__(self, store: Store, own_view: Callable[[str], ViewSpec | None]) -> None:
        """``own_view``: the diff key of a review's own view (None: no such review)."""
        self.store = store
        self._own_view = own_view
        self._marks: dict[str, dict[str, Mark]] = {}
        self._listeners: list[Listener] = []
        self._writes: set[asyncio.Task[None]] = set()

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def files(self, review_id: str, paths: list[str] | None = None) -> list[ViewedFile]:
        """The files of the review marked viewed or changed (of ``paths``: each, marked or not)."""
        marks = self._marks.get(review_id, {})
        if paths is None:
            return [mark.file(path) for path, mark in sorted(marks.items())]
        return [marks[p].file(p) if p in marks else ViewedFile(path=p, viewed=False, changed=False) for p in paths]

    async def load(self, review_id: str) -> None:
        """Read a restored review's marks."""
        self._marks[review_id] = {path: Mark(digest, viewed, changed)
                                  for path, digest, viewed, changed in await self.store.viewed(review_id)}

    async def set(self, review_id: str, path: str, viewed: bool, *, seen: str, current: str) -> None:
        """The person marks ``path`` viewed (or not) having seen its diff with digest ``seen``; ``current`` is its
        digest in the review's own view now (a diff changed since it was seen is not viewed: changed)."""
        marks = self._marks.setdefault(review_id, {})
        before = marks.get(path)
        mark = Mark(seen, viewed and seen == current, viewed and seen != current)
        # In memory first: a change the view reports while this is written applies to this mark.
        _put(marks, path, mark if mark.viewed or mark.changed else None)
        try:
            await self.store.set_viewed(review_id, [(path, mark.digest, mark.viewed, mark.changed)])
        except StoreError:
            if marks.get(path) is (mark if mark.viewed or mark.changed else None):
                _put(marks, path, before)
            raise
        self._announce(review_id, [path])

    # ---- following the review's own view ----------------------------------------------------------------------

    def view_started(self, owner: str, view: DiffView) -> None:
        """Follow ``view`` if it is its review's own view (its first diff too: files may have changed while no
        view of it ran)."""
        if view.spec == self._own_view(owner):
            view.listen(lambda event: self._view_changed(owner, view, event))

    def _view_changed(self, review_id: str, view: DiffView, event: ViewEvent) -> None:
        marks = self._marks.get(review_id)
        if not marks or not isinstance(event, FilesChanged):
            return
        changed: list[str] = []
        for path in event.paths:
            mark, fd = marks.get(path), view.files.get(path)
            # (a file gone from the diff keeps its mark: back with the same diff, it is still viewed)
            if mark is not None and mark.viewed and fd is not None and fd.digest != mark.digest:
                marks[path] = Mark(fd.digest, viewed=False, changed=True)
                changed.append(path)
        if changed:
            self._write(review_id, [(p, marks[p].digest, False, True) for p in changed])
            self._announce(review_id, changed)

    def _write(self, review_id: str, rows: list[tuple[str, str, bool, bool]]) -> None:
        task = asyncio.get_running_loop().create_task(self._persist(review_id, rows))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _persist(self, review_id: str, rows: list[tuple[str, str, bool, bool]]) -> None:
        try:
            await self.store.set_viewed(review_id, rows)
        except StoreError as exc:  # (a full disk): shown as changed now; after a restart the view finds it again
            log.warning("could not record that viewed files changed: %s", exc)

    async def flush(self) -> None:
        """Until the changes followed so far are written."""
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)

    def _announce(self, review_id: str, paths: list[str]) -> None:
        for listener in list(self._listeners):
            listener(review_id, paths)


def _put(marks: dict[str, Mark], path: str, mark: Mark | None) -> None:
    if mark is None:
        marks.pop(path, None)
    else:
        marks[path] = mark
