"""``served``: which stored reviews a backloop server answers for now (``backloop list`` marks the others)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from backloop.config import MAX_IDS_PER_REQUEST
from backloop.review.listing import StoredReview, served


def stored(review_id: str, url: str | None) -> StoredReview:
    return StoredReview(id=review_id, title="t", repo="/r", state="open", view="v", path="/p", url=url, created=0.0)


@contextlib.contextmanager
def http_server(answer: str, content_type: str = "application/json",
                known: frozenset[str] | None = None) -> Iterator[tuple[str, list[list[str]]]]:
    """An HTTP server on loopback answering every GET with ``answer`` (or, with ``known``, like backloop's
    ``/api/reviews``: the asked ids among ``known``); yields its base URL and the ids of each request."""
    asked: list[list[str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            ids = parse_qs(urlsplit(self.path).query).get("id", [])
            asked.append(ids)
            body = json.dumps([{"id": i} for i in ids if i in known]) if known is not None else answer
            data = body.encode()
            self.send_response(200)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", asked
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_server_that_describes_the_id_serves_it() -> None:
    with http_server("", known=frozenset({"aaa", "bbb"})) as (base, asked):
        reviews = [stored("aaa", f"{base}/review/aaa/view?since=HEAD"), stored("ccc", f"{base}/review/ccc/view"),
                   stored("bbb", f"{base}/review/bbb/view?commit=HEAD"), stored("new", None)]
        assert asyncio.run(served(reviews)) == {"aaa": True, "ccc": False, "bbb": True}
    assert asked == [["aaa", "ccc", "bbb"]]  # one request per address, never served reviews not asked about


def test_many_reviews_at_one_address_are_asked_about_in_batches_the_server_accepts() -> None:
    ids = [f"id{n:04}" for n in range(MAX_IDS_PER_REQUEST + 5)]
    with http_server("", known=frozenset(ids[::2])) as (base, asked):
        result = asyncio.run(served([stored(i, f"{base}/review/{i}/view") for i in ids]))
    assert result == {i: n % 2 == 0 for n, i in enumerate(ids)}
    assert sorted(len(batch) for batch in asked) == [5, MAX_IDS_PER_REQUEST]


def test_something_else_at_the_address_serves_nothing() -> None:
    for answer, content_type in (("<html>another program</html>", "text/html"), ('{"id": "aaa"}', "application/json"),
                                 ('[{"id": "bbb"}, "aaa", {"id": 7}]', "application/json")):
        with http_server(answer, content_type) as (base, _):
            assert asyncio.run(served([stored("aaa", f"{base}/review/aaa/view")])) == {"aaa": False}, answer


def test_an_address_where_nothing_listens_or_nothing_answers_serves_nothing() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{closed.getsockname()[1]}"  # bound, not listening: connection refused
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        mute = f"http://127.0.0.1:{silent.getsockname()[1]}"  # accepts (backlog), never answers
        start = time.monotonic()
        result = asyncio.run(served([stored("a", f"{refused}/review/a/view"), stored("b", f"{mute}/review/b/view")]))
        elapsed = time.monotonic() - start
    assert result == {"a": False, "b": False}
    assert elapsed < 5, elapsed  # bounded by the probe's timeout, not by the silent server
