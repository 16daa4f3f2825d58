"""Forwarded addresses: loopback names on another port (``ssh -L``), and ``--allow-host`` names, let through the Host
and Origin checks, while every other name and origin stays refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.websockets import WebSocketDisconnect

from backloop.review.session import Reviews
from backloop.review.store import Store
from backloop.runtime import wire_live
from backloop.web.security import split_host
from tests.conftest import MakeRepo
from tests.support import APP_PORT as PORT
from tests.support import app_client
from tests.web.conftest import Served

LIVE = "since=HEAD&live=true"
ALLOWED = "devbox.test"


@pytest.fixture
def allowing(tmp_path: Path) -> Iterator[Served]:
    """The app as ``backloop server --allow-host devbox.test`` serves it."""
    store = Store(tmp_path / "state" / "backloop.db")
    reviews = Reviews(store)
    try:
        hub = wire_live(reviews)
        with app_client(reviews, hub, (ALLOWED,)) as client:
            yield Served(client, reviews, hub)
    finally:
        store.close()


def pages(review_id: str) -> list[str]:
    return ["/", f"/api/reviews?id={review_id}", f"/review/{review_id}/view?{LIVE}", "/static/app.js"]


def hello(served: Served, review_id: str, headers: dict[str, str]) -> str:
    """The first message's type on the review's socket with these headers, or the close code it got instead."""
    try:
        with served.ws(review_id, LIVE, headers=headers) as ws:
            return str(ws.receive_json()["type"])
    except WebSocketDisconnect as closed:
        return str(closed.code)


def test_split_host() -> None:
    assert split_host("127.0.0.1:8000") == ("127.0.0.1", "8000")
    assert split_host("[::1]:8000") == ("[::1]", "8000")
    assert split_host("DevBox.Test") == ("devbox.test", None)
    for bad in ("", ":80", "127.0.0.1:80.evil.example", "a:b", "[::1", "a b:1", "user@host:1", "host:123456"):
        assert split_host(bad) is None, bad


@pytest.mark.parametrize("host", [ALLOWED, f"{ALLOWED}:{PORT}", f"{ALLOWED}:443", "DEVBOX.test:8080"])
def test_an_allowed_name_is_served_with_any_port(make_repo: MakeRepo, allowing: Served, host: str) -> None:
    review = allowing.review(make_repo({"a.txt": "a\n"}).root)
    for path in pages(review.id):
        response = allowing.get(path, headers={"host": host}, follow_redirects=False)
        assert response.status_code == 200, (host, path)  # served, not sent to 127.0.0.1
    assert hello(allowing, review.id, {"host": host}) == "hello"


@pytest.mark.parametrize("origin", [f"http://{ALLOWED}:{PORT}", f"https://{ALLOWED}", f"http://{ALLOWED}:9"])
def test_an_allowed_name_is_a_same_origin(make_repo: MakeRepo, allowing: Served, origin: str) -> None:
    """http or https, any port: the proxy in front of a codespace ends TLS and may rewrite Host to its own."""
    review = allowing.review(make_repo({"a.txt": "a\n"}).root)
    for host in (f"{ALLOWED}:{PORT}", f"127.0.0.1:{PORT}"):
        assert hello(allowing, review.id, {"host": host, "origin": origin}) == "hello", (host, origin)
        # past the Origin check, to a route that has no POST
        assert allowing.client.post("/api/reviews", headers={"host": host, "origin": origin}).status_code == 405


@pytest.mark.parametrize("host", [f"evil.example:{PORT}", f"devbox.test.evil.example:{PORT}", f"x{ALLOWED}:{PORT}",
                                  f"{ALLOWED}:{PORT}.evil.example", f"{ALLOWED}.:{PORT}", f"127.0.0.2:{PORT}",
                                  "127.0.0.1", f"[::2]:{PORT}", ""])
def test_other_names_are_still_refused(make_repo: MakeRepo, allowing: Served, host: str) -> None:
    review = allowing.review(make_repo({"a.txt": "a\n"}).root)
    for path in pages(review.id):
        response = allowing.get(path, headers={"host": host})
        assert response.status_code == 403, (host, path)
        assert review.id not in response.text
    assert hello(allowing, review.id, {"host": host}) == "4403"


@pytest.mark.parametrize("origin", ["http://evil.example", f"http://devbox.test.evil.example:{PORT}", "null",
                                    f"ftp://{ALLOWED}", f"http://{ALLOWED}/path", f"http://127.0.0.1:{PORT + 1}"])
def test_other_origins_are_still_refused(make_repo: MakeRepo, allowing: Served, origin: str) -> None:
    review = allowing.review(make_repo({"a.txt": "a\n"}).root)
    for host in (f"{ALLOWED}:{PORT}", f"127.0.0.1:{PORT}"):
        assert hello(allowing, review.id, {"host": host, "origin": origin}) == "4403", (host, origin)
        assert allowing.client.post("/api/reviews", headers={"host": host, "origin": origin}).status_code == 403


def test_without_allow_host_the_name_is_refused(make_repo: MakeRepo, served: Served) -> None:
    review = served.review(make_repo({"a.txt": "a\n"}).root)
    assert served.get(pages(review.id)[2], headers={"host": f"{ALLOWED}:{PORT}"}).status_code == 403
    assert hello(served, review.id, {"host": f"127.0.0.1:{PORT}", "origin": f"http://{ALLOWED}:{PORT}"}) == "4403"


# ---- a loopback port forwarded to ours (ssh -L OTHER:127.0.0.1:PORT) ---------------------------------------------


def test_a_forwarded_loopback_port_is_served(make_repo: MakeRepo, served: Served) -> None:
    review = served.review(make_repo({"a.txt": "a\n"}).root)
    other = PORT + 1
    for path in pages(review.id):
        assert served.get(path, headers={"host": f"127.0.0.1:{other}"}, follow_redirects=False).status_code == 200
    # The page's own origin, through the forward, may open the socket and post.
    forwarded = {"host": f"127.0.0.1:{other}", "origin": f"http://127.0.0.1:{other}"}
    assert hello(served, review.id, forwarded) == "hello"
    assert served.client.post("/api/reviews", headers=forwarded).status_code == 405
    # Another loopback name is sent to the printed one, on the port it was asked for (the forwarded one).
    moved = served.get(f"/review/{review.id}/view?{LIVE}", headers={"host": f"localhost:{other}"},
                       follow_redirects=False)
    assert moved.status_code == 307
    assert moved.headers["location"] == f"http://127.0.0.1:{other}/review/{review.id}/view?{LIVE}"


def test_another_local_port_is_still_another_origin(make_repo: MakeRepo, served: Served) -> None:
    """A page of another local server (a dev server on 127.0.0.1:OTHER) opening our socket: cross-origin, whether
    it reaches us directly or through a forward of a third port."""
    review = served.review(make_repo({"a.txt": "a\n"}).root)
    for host in (f"127.0.0.1:{PORT}", f"127.0.0.1:{PORT + 2}"):
        headers = {"host": host, "origin": f"http://127.0.0.1:{PORT + 1}"}
        assert hello(served, review.id, headers) == "4403", host
        assert served.client.post("/api/reviews", headers=headers).status_code == 403
    assert hello(served, review.id, {"host": f"127.0.0.1:{PORT + 2}",
                                     "origin": f"https://127.0.0.1:{PORT + 2}"}) == "4403"
