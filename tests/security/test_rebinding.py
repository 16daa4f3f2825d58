"""DNS rebinding and cross-site requests, against a real ``backloop server`` over real sockets.

A page on evil.example can make the person's browser talk to 127.0.0.1 in two ways: by rebinding its own name to
127.0.0.1 (the browser then sends ``Host: evil.example:PORT``), or by sending cross-origin requests and websocket
upgrades (the browser sends ``Origin: http://evil.example`` and ``Sec-Fetch-Site: cross-site``). Both are refused.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable

import pytest
from websockets.exceptions import InvalidStatus

from tests.security.conftest import Backloop, raw_http
from tests.support import LIVE_QUERY, TIMEOUT_S, init_repo

WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, serve: Callable[..., Backloop]) -> Backloop:
    repo = init_repo(tmp_path_factory.mktemp("rebinding") / "repo", {"a.txt": "a\n"})
    repo.write("a.txt", "a\nb\n")
    return serve(repo.root)


def foreign_hosts(port: int) -> list[str]:
    return [
        f"evil.example:{port}",  # the rebinding attack itself
        "evil.example",
        "127.0.0.1",  # no port: not what a browser sends for our URL
        f"127.0.0.1:{port + 1}.evil.example",
        f"127.0.0.2:{port}",
        f"localhost.evil.example:{port}",
        f"127.0.0.1.evil.example:{port}",
        f"127.0.0.1:{port}.evil.example",
        f"[::2]:{port}",
        f"0.0.0.0:{port}",
        "",
    ]


def http_get(server: Backloop, path: str, host: str | None) -> tuple[int, bytes]:
    """GET ``path`` with exactly the Host header given (None: no Host header at all)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT_S)
    try:
        conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        if host is not None:
            conn.putheader("Host", host)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def http_request(server: Backloop, method: str, path: str, headers: dict[str, str]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT_S)
    try:
        conn.request(method, path, body=b"{}", headers={"Host": server.host, "Content-Type": "application/json",
                                                         **headers})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def upgrade(server: Backloop, host: str, origin: str | None = None) -> bytes:
    """A raw websocket upgrade request for the review's socket; the head of the server's answer."""
    lines = [f"GET /review/{server.review_id}/ws?{LIVE_QUERY} HTTP/1.1", f"Host: {host}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {WS_KEY}", "Sec-WebSocket-Version: 13"]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    answer = raw_http(server.port, ("\r\n".join(lines) + "\r\n\r\n").encode())
    return answer.partition(b"\r\n\r\n")[0]


def page_paths(server: Backloop) -> list[str]:
    rid = server.review_id
    return ["/", "/api/reviews", f"/review/{rid}/view?{LIVE_QUERY}",
            f"/review/{rid}/raw?path=a.txt&side=new&{LIVE_QUERY}", "/static/app.js", "/static/pygments.css"]


def test_loopback_hosts_are_served(server: Backloop) -> None:
    """The control: the names backloop listens on get answers (so the refusals below are about the Host). Pages
    asked for under ``localhost`` are sent to the printed address (one origin keeps one list of reviews)."""
    for host in (server.host, f"localhost:{server.port}"):
        for path in page_paths(server):
            status, body = http_get(server, path, host)
            moved = host != server.host and (path == "/" or "/view?" in path)
            assert status == (307 if moved else 200), (host, path, body[:200])
    assert upgrade(server, server.host).startswith(b"HTTP/1.1 101")


def test_forwarded_loopback_ports_are_served(server: Backloop) -> None:
    """A loopback name with another port reaches us only through a forward to our port (``ssh -L OTHER:127.0.0.1:
    PORT``): served, and a page there is same-origin with itself; a page of another local port is not."""
    other = server.port + 1
    for path in page_paths(server):
        status, body = http_get(server, path, f"127.0.0.1:{other}")
        assert status == 200, (path, body[:200])
    assert upgrade(server, f"127.0.0.1:{other}", f"http://127.0.0.1:{other}").startswith(b"HTTP/1.1 101")
    assert upgrade(server, f"127.0.0.1:{other}", f"http://127.0.0.1:{other + 1}").startswith(b"HTTP/1.1 403")
    assert upgrade(server, server.host, f"http://127.0.0.1:{other}").startswith(b"HTTP/1.1 403")


def test_foreign_host_is_refused_over_http(server: Backloop) -> None:
    for host in [*foreign_hosts(server.port), None]:
        for path in page_paths(server):
            status, body = http_get(server, path, host)
            # Without any Host, uvicorn itself refuses the HTTP/1.1 request (400) before the app sees it.
            assert status == 403 or (host is None and status == 400), (host, path, status)
            assert server.review_id.encode() not in body, (host, path)
            assert b"a\nb" not in body


def test_foreign_host_websocket_is_refused_before_accept(server: Backloop) -> None:
    """A rebinding page opening the review's websocket: refused in the handshake (no 101), so no frame of the
    review ever reaches it."""
    for host in foreign_hosts(server.port):
        for origin in (None, f"http://{host}", server.origin):
            head = upgrade(server, host, origin)
            assert head.startswith(b"HTTP/1.1 403"), (host, origin, head)


@pytest.mark.parametrize("origin", [
    "http://evil.example",
    "https://evil.example",
    "null",  # sandboxed iframes, file:// pages
    "http://127.0.0.1",  # no port: a page on port 80
    "http://127.0.0.1:{other}",  # another local server's page
    "http://localhost:{other}",
    "https://127.0.0.1:{port}",  # another scheme is another origin
    "http://127.0.0.1:{port}.evil.example",
    "http://evil.example:{port}",
])
def test_cross_origin_websocket_is_refused(server: Backloop, origin: str) -> None:
    origin = origin.format(port=server.port, other=server.port + 1)
    head = upgrade(server, server.host, origin)
    assert head.startswith(b"HTTP/1.1 403"), head
    # The same through a real websocket client library.
    with pytest.raises(InvalidStatus) as refused, server.connect(origin=origin):
        pass
    assert refused.value.response.status_code == 403


def test_same_origin_and_originless_websockets_are_accepted(server: Backloop) -> None:
    for origin in (server.origin, f"http://localhost:{server.port}", None):
        with server.connect(origin=origin) as client:
            hello, _ = client.start()
            assert hello["review"]["id"] == server.review_id


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_cross_site_state_changing_requests_are_refused(server: Backloop, method: str) -> None:
    path = f"/review/{server.review_id}/view?{LIVE_QUERY}"
    other = f"http://127.0.0.1:{server.port + 1}"
    for headers in (
        {"Origin": "http://evil.example"},
        {"Origin": other},
        {"Origin": "null"},
        {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
        # A browser that sent no Origin but says where the request came from.
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # localhost:OTHER_PORT is the same site
    ):
        assert http_request(server, method, path, headers) == 403, (method, headers)
    # The control: the same request from the page's own origin passes the check (and meets a GET-only route).
    for headers in ({"Origin": server.origin}, {"Origin": server.origin, "Sec-Fetch-Site": "same-origin"},
                    {"Sec-Fetch-Site": "same-origin"}, {}):
        assert http_request(server, method, path, headers) == 405, (method, headers)
