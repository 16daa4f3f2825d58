"""An app served through Starlette's TestClient, with real reviews of real temp repositories."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient, WebSocketTestSession

from backloop.config import DATABASE
from backloop.git.repo import Repo
from backloop.hub import Hub
from backloop.review.session import Review, Reviews
from backloop.review.store import Store
from backloop.viewspec import parse_view
from backloop.web.app import create_app

PORT = 47123
"""The port the app believes it is served on (TestClient opens no socket)."""
BASE_URL = f"http://127.0.0.1:{PORT}"


@dataclass
class Served:
    client: TestClient
    reviews: Reviews

    def review(self, root: Path, view: Mapping[str, str] | None = None, title: str | None = None) -> Review:
        spec = parse_view(view or {"since": "HEAD", "live": "true"})

        async def create() -> Review:
            return await self.reviews.create(await Repo.open(root), spec, title)

        return self.client.portal.call(create)  # type: ignore[union-attr]

    @contextlib.contextmanager
    def ws(self, review_id: str, view: Mapping[str, str] | str | None = None,
           headers: Mapping[str, str] | None = None) -> Iterator[WebSocketTestSession]:
        query = view if isinstance(view, str) else urlencode(view or {"since": "HEAD", "live": "true"})
        url = f"ws://127.0.0.1:{PORT}/review/{review_id}/ws?{query}"  # a relative url would get Host: testserver
        with self.client.websocket_connect(url, headers=dict(headers or {})) as ws:
            yield ws

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    store = Store(tmp_path / "state" / DATABASE)
    reviews = Reviews(store)
    hub = Hub(reviews)
    app = create_app(reviews, hub, "127.0.0.1", PORT)
    try:
        with TestClient(app, base_url=BASE_URL) as client:
            yield Served(client, reviews)
    finally:
        store.close()
