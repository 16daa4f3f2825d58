"""The agent API (``/api/agent/...``) through the app: only for the holder of the token and never for a web page,
no listing of reviews, the MCP tools' semantics, and at-least-once delivery with acknowledgements."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from backloop.config import DATABASE
from backloop.review import servers
from backloop.review.model import Comment
from backloop.review.session import Reviews
from backloop.review.store import Store
from backloop.runtime import wire_live
from backloop.web import agent_api
from tests.conftest import MakeRepo
from tests.support import APP_PORT, app_client

TOKEN = servers.new_token()
AUTH = {"authorization": f"Bearer {TOKEN}"}
ORIGIN = f"http://127.0.0.1:{APP_PORT}"


@dataclass
class Api:
    client: TestClient
    reviews: Reviews
    repo: Path

    def post(self, path: str, body: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> Any:
        return self.client.post(f"/api/agent{path}", json=body or {}, headers=AUTH if headers is None else headers)

    def ok(self, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = self.post(path, body)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def start(self) -> str:
        review_id: str = self.ok("/reviews", {"repo": str(self.repo), "since": "HEAD"})["review_id"]
        return review_id

    def comment(self, review_id: str, body: str) -> Comment:
        async def made() -> Comment:
            return await self.reviews.comment(review_id, None, body=body, path="app.py", side="new", line=1,
                                              quoted=["a = 2"])

        return self.client.portal.call(made)  # type: ignore[union-attr]

    def pending(self, review_id: str) -> list[str]:
        """The ids the store still has as not delivered (once the broker's writes are done)."""

        async def read() -> list[str]:
            await self.reviews.broker.flush()
            return [e.id for e in await self.reviews.store.pending(review_id)]

        return self.client.portal.call(read)  # type: ignore[union-attr]


@pytest.fixture
def api(make_repo: MakeRepo, tmp_path: Path) -> Iterator[Api]:
    repo = make_repo({"app.py": "a = 1\n"})
    repo.write("app.py", "a = 2\n")
    store = Store(tmp_path / "state" / DATABASE)
    reviews = Reviews(store)
    try:
        with app_client(reviews, wire_live(reviews), agent_token=TOKEN) as client:
            yield Api(client, reviews, repo.root)
    finally:
        store.close()


CALLS = [("/reviews", {"repo": "/", "since": "HEAD"}), ("/reviews/0123/await", {"timeout_seconds": 0}),
         ("/reviews/0123/approve", {}), ("/ack", {"delivery": "x"}), ("/comments/0123/resolve", {}),
         ("/comments/0123/reply", {"message": "hi"})]


@pytest.mark.parametrize(("path", "body"), CALLS)
def test_every_call_needs_the_token(api: Api, path: str, body: dict[str, Any]) -> None:
    off_by_one = TOKEN[:-1] + ("1" if TOKEN.endswith("0") else "0")
    for headers in ({}, {"authorization": f"Bearer {off_by_one}"}, {"authorization": TOKEN},
                    {"authorization": f"Bearer {servers.new_token()}"}):
        refused = api.post(path, body, headers)
        assert refused.status_code == 401, (headers, refused.text)
        assert refused.json()["error"] == "unauthorized" and refused.headers["www-authenticate"] == "Bearer"
    assert api.reviews.all() == []


@pytest.mark.parametrize(("path", "body"), CALLS)
def test_web_pages_are_refused_even_with_the_token(api: Api, path: str, body: dict[str, Any]) -> None:
    """Browsers add Origin (or Sec-Fetch-Site) to what a page sends; the agent API is for local processes only,
    so even a page of the server's own origin is refused."""
    for page in ({"origin": ORIGIN}, {"sec-fetch-site": "same-origin"}, {"origin": "http://evil.example"}):
        refused = api.post(path, body, AUTH | page)
        assert refused.status_code == 403, (page, refused.text)
    hello = api.client.get("/api/agent/hello?nonce=n", headers={"origin": ORIGIN})
    assert hello.status_code == 403
    rebound = api.post("/reviews", {"repo": str(api.repo), "since": "HEAD"}, AUTH | {"host": "evil.example"})
    assert rebound.status_code == 403  # (the Host check stays in front of everything)
    assert api.reviews.all() == []


def test_hello_proves_the_token_without_giving_it(api: Api) -> None:
    answer = api.client.get("/api/agent/hello?nonce=abc")
    assert answer.status_code == 200
    assert answer.json() == {"proof": servers.proof(TOKEN, "abc")}
    assert TOKEN not in answer.text
    assert servers.proof(TOKEN, "abd") != servers.proof(TOKEN, "abc")
    for bad in ("", "?nonce=", f"?nonce={'n' * (agent_api.MAX_NONCE + 1)}"):
        assert api.client.get(f"/api/agent/hello{bad}").status_code == 400


def test_no_call_lists_reviews(api: Api) -> None:
    review_id = api.start()
    for path in ("/api/agent/reviews", "/api/agent", "/api/agent/", "/api/agent/hello?nonce=x"):
        answer = api.client.get(path, headers=AUTH)
        assert review_id not in answer.text, path
    assert api.client.get("/api/agent/reviews", headers=AUTH).status_code == 405


def test_the_tools_over_http(api: Api) -> None:
    started = api.ok("/reviews", {"repo": str(api.repo / "."), "since": "HEAD", "title": "mine"})
    review_id = started["review_id"]
    assert started == {"review_id": review_id, "view": "changes since HEAD (live work tree)",
                       "url": f"http://127.0.0.1:{APP_PORT}/review/{review_id}/view?since=HEAD&live=true",
                       "reused": False, "round": 1}
    again = api.ok("/reviews", {"repo": str(api.repo / "."), "since": "HEAD"})
    assert again == {**started, "reused": True}  # (the open review of that view goes on, with its rounds)
    review = api.reviews.get(review_id)
    assert review is not None and review.title == "mine"

    async def port() -> int | None:
        return {r.id: r.port for r in await api.reviews.store.reviews()}[review_id]

    assert api.client.portal.call(port) == APP_PORT  # type: ignore[union-attr]  # (how backloop review finds it)

    nothing = api.ok(f"/reviews/{review_id}/await", {"timeout_seconds": 0.05})
    assert nothing == {"review_id": review_id, "approved": False, "timed_out": True, "items": [], "delivery": None}

    comment = api.comment(review_id, "why 2?")
    got = api.ok(f"/reviews/{review_id}/await", {"timeout_seconds": 5})
    assert got["delivery"] and not got["timed_out"]
    assert got["items"] == [{"type": "comment", "review_id": review_id, "comment_id": comment.id, "path": "app.py",
                             "line": 1, "end_line": None, "side": "new", "quoted": ["a = 2"], "body": "why 2?",
                             "thread": [{"author": "person", "body": "why 2?"}], "diff": None, "round": 1}]
    assert api.ok("/ack", {"delivery": got["delivery"]}) == {"confirmed": True}
    assert api.pending(review_id) == []
    assert api.ok(f"/reviews/{review_id}/await", {"timeout_seconds": 0.05})["timed_out"] is True  # (once)

    replied = api.ok(f"/comments/{comment.id}/reply", {"message": "which way?"})
    assert replied["review_id"] == review_id and replied["comment_id"] == comment.id and replied["reply_id"]
    assert api.ok(f"/comments/{comment.id}/resolve", {"reply": "fixed"}) == {
        "review_id": review_id, "comment_id": comment.id, "state": "resolved"}
    assert [(r.author, r.body) for r in review.comments[comment.id].replies] == [
        ("agent", "which way?"), ("agent", "fixed")]

    approved = api.ok(f"/reviews/{review_id}/approve", {"client_id": "bot-1"})
    assert approved["state"] == "approved" and review.state == "approved"
    assert api.ok(f"/reviews/{review_id}/approve", {"client_id": "bot-1"})["approval_id"] == approved["approval_id"]
    done = api.ok(f"/reviews/{review_id}/await", {"timeout_seconds": 5})
    assert done["approved"] is True and done["items"] == []


def test_items_not_acknowledged_are_delivered_again(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The response of an await may never reach its client (the connection drops, the client dies before it
    printed it): what it carried counts as delivered only once acknowledged."""
    monkeypatch.setattr(agent_api, "HELD_S", 0.2)
    review_id = api.start()
    comment = api.comment(review_id, "look")
    first = api.ok(f"/reviews/{review_id}/await", {"timeout_seconds": 5})
    assert [i["comment_id"] for i in first["items"]] == [comment.id]
    assert api.pending(review_id) == [comment.id]  # (a crash now delivers it again too)
    again = api.ok(f"/reviews/{review_id}/await", {"timeout_seconds": 10})  # once the hold ends
    assert [i["comment_id"] for i in again["items"]] == [comment.id]
    assert again["delivery"] != first["delivery"]
    assert api.ok("/ack", {"delivery": first["delivery"]}) == {"confirmed": False}  # (too late: it came again)
    assert api.ok("/ack", {"delivery": again["delivery"]}) == {"confirmed": True}
    assert api.pending(review_id) == []
    assert api.ok(f"/reviews/{review_id}/await", {"timeout_seconds": 0.05})["timed_out"] is True


@pytest.mark.parametrize(("path", "body", "status", "code", "message"), [
    ("/reviews", {"repo": "REPO"}, 400, "view_needed", "needs exactly one of since, commit or range"),
    ("/reviews", {"repo": "REPO", "since": "nope"}, 400, "git_failed", "unknown since 'nope'"),
    ("/reviews", {"repo": "relative", "since": "HEAD"}, 400, "invalid_request", "absolute path"),
    ("/reviews", {"repo": "REPO", "since": "HEAD", "extra": 1}, 400, "invalid_request", "extra"),
    ("/reviews/feedfeedfeedfeedfeedfeed/await", {}, 404, "unknown_review", "no review"),
    ("/reviews/REVIEW/await", {"timeout_seconds": -1}, 400, "invalid_request", "timeout_seconds"),
    ("/reviews/feedfeedfeedfeedfeedfeed/approve", {}, 404, "unknown_review", "no review"),
    ("/comments/nope/resolve", {}, 404, "unknown_comment", "nope"),
    ("/comments/nope/reply", {"message": "hi"}, 404, "unknown_comment", "nope"),
    ("/comments/nope/reply", {}, 400, "invalid_request", "message"),
])
def test_refusals_say_why(api: Api, path: str, body: dict[str, Any], status: int, code: str, message: str) -> None:
    review_id = api.start()
    body = {k: str(api.repo) if v == "REPO" else v for k, v in body.items()}
    refused = api.post(path.replace("REVIEW", review_id), body)
    assert refused.status_code == status, refused.text
    assert refused.json()["error"] == code and message in refused.json()["message"]
    assert len(api.reviews.all()) == 1
