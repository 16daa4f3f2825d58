"""The reviews kept in a state directory, with the address each was last served at: what ``backloop list`` prints.

The web server lists no reviews (whoever can reach 127.0.0.1 could ask it); the state directory is the owner's
alone (0700), so reading it is how the person finds the addresses of reviews their browser has not opened.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import msgspec

from backloop.config import DATABASE, MAX_IDS_PER_REQUEST, Settings
from backloop.review.store import Store
from backloop.viewspec import ViewSpec

PROBE_TIMEOUT_S = 1.0
"""How long an address may take to answer before its reviews count as not served."""


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


async def review_of_comment(state_dir: Path, comment_id: str) -> str | None:
    """The id of the review a comment of ``state_dir`` belongs to; None if there is no such comment."""
    if not (state_dir / DATABASE).is_file():
        return None
    store = Store(state_dir / DATABASE)
    try:
        return await store.review_of_entry(comment_id)
    finally:
        store.close()


async def served(reviews: list[StoredReview]) -> dict[str, bool]:
    """Which of ``reviews`` (by id) a backloop server answers for at its last address right now: one request per
    address to the ids-only ``/api/reviews``, all at once. A review never served is not in the result."""
    by_base: dict[str, list[str]] = defaultdict(list)
    for review in reviews:
        if review.url is not None:
            parts = urlsplit(review.url)
            by_base[f"{parts.scheme}://{parts.netloc}"].append(review.id)
    probes = [(base, ids[i:i + MAX_IDS_PER_REQUEST]) for base, ids in by_base.items()
              for i in range(0, len(ids), MAX_IDS_PER_REQUEST)]
    answers = await asyncio.gather(*(asyncio.to_thread(_answered, base, ids) for base, ids in probes))
    result: dict[str, bool] = {}
    for (_, ids), found in zip(probes, answers, strict=True):
        result.update((i, i in found) for i in ids)
    return result


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""(A loopback address must not go through the proxy of ``http_proxy``.)"""


def _answered(base: str, ids: list[str]) -> set[str]:
    """The ids among ``ids`` that the server at ``base`` describes (none if nothing there answers as backloop)."""
    try:
        url = f"{base}/api/reviews?{urlencode([('id', i) for i in ids])}"
        with _NO_PROXY.open(url, timeout=PROBE_TIMEOUT_S) as reply:
            described = json.loads(reply.read())
    except (OSError, ValueError):
        return set()
    if not isinstance(described, list):
        return set()
    return {r["id"] for r in described if isinstance(r, dict) and isinstance(r.get("id"), str)}
