"""The reviews kept in a state directory, with the address each was last served at: what ``backloop list`` prints.

The web server lists no reviews (whoever can reach 127.0.0.1 could ask it); the state directory is the owner's
alone (0700), so reading it is how the person finds the addresses of reviews their browser has not opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import msgspec

from backloop.config import Settings
from backloop.review.store import Store
from backloop.viewspec import ViewSpec

DATABASE = "backloop.db"


@dataclass(frozen=True)
class StoredReview:
    id: str
    title: str
    repo: str
    state: str
    view: str
    """What the review's view shows, in words."""
    path: str
    """Path and query of the review's view."""
    url: str | None
    """The address it was last served at; None if no web server has served it yet."""
    created: float


async def stored_reviews(state_dir: Path, repo: Path | None = None) -> list[StoredReview]:
    """The reviews in ``state_dir`` (only those of ``repo``, when given), oldest first. Nothing is created when
    there is no state yet."""
    if not (state_dir / DATABASE).is_file():
        return []
    store = Store(state_dir / DATABASE)
    try:
        rows = await store.reviews(str(repo) if repo is not None else None)
    finally:
        store.close()
    found = []
    for row in rows:
        spec = msgspec.json.decode(row.view.encode(), type=ViewSpec)
        path = f"/review/{row.id}/view?{spec.query()}"
        url = f"{Settings().base_url(row.port)}{path}" if row.port else None
        found.append(StoredReview(row.id, row.title, row.repo, row.state, spec.describe(), path, url, row.created))
    return found
