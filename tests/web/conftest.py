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
from backloop.hub import Hub
from backloop.review.session import Review, Reviews
from backloop.review.store import Store
from backloop.runtime import wire_live
from tests.support import LIVE_QUERY, app_client, app_ws_url, new_review


@dataclass
class Served:
    client: TestClient
    reviews: Reviews
    hub: Hub

    def review(self, root: Path, view: Mapping[str, str] | None = None, title: str | None = None) -> Review:
        return new_review(self.client, self.reviews, root, view, title)

    @contextlib.contextmanager
    def ws(self, review_id: str, view: Mapping[str, str] | str | None = None,
           headers: Mapping[str, str] | None = None) -> Iterator[WebSocketTestSession]:
        query = view if isinstance(view, str) else urlencode(view) if view else LIVE_QUERY
        with self.client.websocket_connect(app_ws_url(review_id, query), headers=dict(headers or {})) as ws:
            yield ws

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    store = Store(tmp_path / "state" / DATABASE)
    reviews = Reviews(store)
    try:
        hub = wire_live(reviews)
        with app_client(reviews, hub) as client:
            yield Served(client, reviews, hub)
    finally:
        store.close()
