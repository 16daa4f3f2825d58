"""Comments follow their code: when a file of a review's own view changes, its open new-side comments move to where
their quoted lines are now, or are marked outdated when the lines are gone."""

from __future__ import annotations

import asyncio
import logging

from backloop.diff.sides import ViewUnavailable, read_side
from backloop.diff.view import DiffView, FilesChanged, ViewEvent
from backloop.review.anchor import reanchor
from backloop.review.model import Comment
from backloop.review.session import Review, Reviews
from backloop.review.store import StoreError

log = logging.getLogger(__name__)


class Follow:
    def __init__(self, reviews: Reviews) -> None:
        self.reviews = reviews
        self._tasks: set[asyncio.Task[None]] = set()

    def view_started(self, owner: str, view: DiffView) -> None:
        """Follow ``view`` if it is the view its review was started with (other views of it are only looks)."""
        review = self.reviews.get(owner)
        if review is not None and view.spec == review.view.diff_key():
            view.listen(lambda event: self._changed(review, view, event))

    def _changed(self, review: Review, view: DiffView, event: ViewEvent) -> None:
        if not isinstance(event, FilesChanged):
            return
        changed = set(event.paths)
        targets = [c for c in review.comments.values()
                   if c.path in changed and c.line is not None and c.side == "new" and c.state == "open"]
        if targets:
            task = asyncio.create_task(self._move(review, view, targets))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _move(self, review: Review, view: DiffView, comments: list[Comment]) -> None:
        contents: dict[str, list[str] | None] = {}
        for comment in comments:
            assert comment.path is not None and comment.line is not None
            if comment.path not in contents:
                try:
                    data = await read_side(view, comment.path, "new")
                    contents[comment.path] = data.decode("utf-8", "replace").splitlines()
                except ViewUnavailable:
                    contents[comment.path] = None
            lines = contents[comment.path]
            line = None if lines is None else reanchor(comment.quoted, comment.line, lines)
            try:
                await self.reviews.set_comment_anchor(review, comment.id, line, outdated=line is None)
            except StoreError as exc:  # (a full disk): the comment keeps its old place; the next change retries
                log.warning("could not move comment %s: %s", comment.id, exc)
