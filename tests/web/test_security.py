"""Host and Origin checks, security headers, unguessable ids, and raw file bytes that cannot run."""

from __future__ import annotations

import re

import pytest

from backloop.web.security import PAGE_CSP, RAW_CSP, allowed_hosts
from tests.conftest import MakeRepo
from tests.support import APP_PORT, LIVE_QUERY
from tests.web.conftest import Served


def _csp_directives(header: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def test_allowed_hosts() -> None:
    assert allowed_hosts("127.0.0.1", 8000) == {"127.0.0.1:8000", "localhost:8000", "[::1]:8000"}
    assert "[::1]:9" in allowed_hosts("::1", 9)
    assert "myhost:9" in allowed_hosts("myhost", 9)


def test_csp_forbids_inline_scripts() -> None:
    directives = _csp_directives(PAGE_CSP)
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'none'"]
    assert "'unsafe-inline'" not in PAGE_CSP and "'unsafe-eval'" not in PAGE_CSP
    assert directives["frame-ancestors"] == ["'none'"]
    assert "sandbox" in _csp_directives(RAW_CSP)


def test_pages_carry_security_headers(make_repo: MakeRepo, served: Served) -> None:
    review = served.review(make_repo({"a.txt": "a\n"}).root)
    for url, status in ((f"/review/{review.id}/view?{LIVE_QUERY}", 200), ("/", 200), ("/api/reviews", 200),
                        ("/review/0123/view?since=HEAD", 404), (f"/review/{review.id}/view?since=-x", 400),
                        ("/static/nope.js", 404)):
        response = served.get(url)
        assert response.status_code == status, url
        assert response.headers["content-security-policy"] == PAGE_CSP, url
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"


def test_view_page_has_no_inline_script(make_repo: MakeRepo, served: Served) -> None:
    review = served.review(make_repo({"a.txt": "a\n"}).root)
    page = served.get(f"/review/{review.id}/view?{LIVE_QUERY}").text
    for tag in re.findall(r"<script\b[^>]*>", page):
        assert "src=" in tag, tag
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", page)
    assert not re.search(r"\son[a-z]+=", page)  # no inline event handlers


def test_error_pages_escape_what_they_echo(make_repo: MakeRepo, served: Served) -> None:
    review = served.review(make_repo({"a.txt": "a\n"}).root)
    response = served.get(f"/review/{review.id}/view", params={"since": "<script>alert(1)</script>"})
    assert response.status_code == 400
    assert "<script>alert" not in response.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


@pytest.mark.parametrize("host", ["evil.example", f"evil.example:{APP_PORT}", "127.0.0.1", "127.0.0.1:1.evil.example",
                                  f"127.0.0.2:{APP_PORT}", f"localhost.evil.example:{APP_PORT}", f"[::2]:{APP_PORT}",
                                  ""])
def test_foreign_host_is_refused(make_repo: MakeRepo, served: Served, host: str) -> None:
    review = served.review(make_repo({"a.txt": "a\n"}).root)
    for url in ("/", "/api/reviews", f"/review/{review.id}/view?{LIVE_QUERY}", "/static/pygments.css"):
        response = served.get(url, headers={"host": host})
        assert response.status_code == 403, (host, url)
        assert review.id not in response.text


@pytest.mark.parametrize("host", [f"127.0.0.1:{APP_PORT}", f"localhost:{APP_PORT}", f"[::1]:{APP_PORT}"])
def test_loopback_hosts_are_served(served: Served, host: str) -> None:
    assert served.get("/api/reviews", headers={"host": host}).status_code == 200


@pytest.mark.parametrize("host", [f"localhost:{APP_PORT}", f"[::1]:{APP_PORT}"])
def test_pages_under_another_loopback_name_go_to_the_printed_address(make_repo: MakeRepo, served: Served,
                                                                     host: str) -> None:
    """(A browser keeps the reviews it opened per origin: one origin, one list on the index page.)"""
    review = served.review(make_repo({"a.txt": "a\n"}).root)
    for path in ("/", f"/review/{review.id}/view?{LIVE_QUERY}&view=split", "/review/no-such-id/view?since=HEAD"):
        moved = served.get(path, headers={"host": host}, follow_redirects=False)
        assert moved.status_code == 307, path
        assert moved.headers["location"] == f"http://127.0.0.1:{APP_PORT}{path}"
        assert moved.headers["cache-control"] == "no-store"
    # Where it prints itself nothing moves; nor do other clients' requests (the API, static files, the socket).
    assert served.get(f"/review/{review.id}/view?{LIVE_QUERY}", follow_redirects=False).status_code == 200
    for path in (f"/api/reviews?id={review.id}", "/static/app.js"):
        assert served.get(path, headers={"host": host}, follow_redirects=False).status_code == 200, path
    with served.ws(review.id, LIVE_QUERY, headers={"host": host}) as ws:
        assert ws.receive_json()["type"] == "hello"


def test_state_changing_requests_from_another_origin_are_refused(served: Served) -> None:
    client = served.client
    assert client.post("/api/reviews", headers={"origin": "http://evil.example"}).status_code == 403
    assert client.post("/api/reviews", headers={"origin": f"http://127.0.0.1:{APP_PORT + 1}"}).status_code == 403
    assert client.post("/api/reviews", headers={"sec-fetch-site": "cross-site"}).status_code == 403
    # Same origin gets past the check (to a route that has no POST).
    assert client.post("/api/reviews", headers={"origin": f"http://127.0.0.1:{APP_PORT}"}).status_code == 405
    assert client.post("/api/reviews", headers={"sec-fetch-site": "same-origin"}).status_code == 405


def test_review_ids_are_unguessable(make_repo: MakeRepo, served: Served) -> None:
    root = make_repo({"a.txt": "a\n"}).root
    ids = {served.review(root).id for _ in range(20)}
    assert len(ids) == 20
    for review_id in ids:
        assert re.fullmatch(r"[0-9a-f]{24}", review_id)  # 96 random bits


def test_raw_file_bytes_cannot_run(make_repo: MakeRepo, served: Served) -> None:
    repo = make_repo({"page.html": "<p>old</p>\n"})
    repo.write("page.html", "<script>alert(document.domain)</script>\n")
    review = served.review(repo.root)
    response = served.get(f"/review/{review.id}/raw", params={"path": "page.html", "side": "new", "since": "HEAD",
                                                               "live": "true"})
    assert response.status_code == 200
    assert response.content == b"<script>alert(document.domain)</script>\n"
    assert response.headers["content-security-policy"] == RAW_CSP
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"] == "attachment"
    old = served.get(f"/review/{review.id}/raw", params={"path": "page.html", "side": "old", "since": "HEAD",
                                                          "live": "true"})
    assert old.content == b"<p>old</p>\n"


def test_raw_file_stays_inside_the_diff(make_repo: MakeRepo, served: Served) -> None:
    repo = make_repo({"a.txt": "a\n"})
    (repo.root / "escape").symlink_to("/etc/passwd")  # untracked: part of the live diff, as a link
    review = served.review(repo.root)
    for path in ("../../../../etc/passwd", "/etc/passwd", "escape", "a.txt", ".git/config"):
        response = served.get(f"/review/{review.id}/raw", params={"path": path, "side": "new", "since": "HEAD",
                                                                   "live": "true"})
        assert response.status_code == 404, path
        assert b"root:" not in response.content
