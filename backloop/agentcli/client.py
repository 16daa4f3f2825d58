"""Reaching the agent API (web/agent_api.py) of a running ``backloop server``, found through the owner-only state
directory: the servers' files (review/servers.py) and the address each review was last served at. A server proves
that it holds its token before it is sent the token or a review id."""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from backloop.review import servers
from backloop.review.listing import StoredReview, review_of_comment, stored_reviews

API = "/api/agent"
ASK_TIMEOUT_S = 5.0
"""How long a server may take to answer anything but an await."""
START_TIMEOUT_S = 60.0
"""Starting a review resolves its revisions with git: a large repository may take a while."""
AWAIT_MARGIN_S = 30.0
"""An await's answer may come this much later than its own time-out before the server counts as gone."""

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""(A loopback address must not go through the proxy of ``http_proxy``.)"""


class Unavailable(Exception):
    """What stops a ``backloop review`` command, in one line for the person (or the agent) to act on."""


@dataclass(frozen=True)
class Connection:
    """A running server that proved it holds the token of its file."""

    server: servers.ServerFile

    def call(self, path: str, body: dict[str, Any], timeout_s: float = ASK_TIMEOUT_S) -> dict[str, Any]:
        """POST ``body`` as JSON to the agent API's ``path``; the JSON answer. Unavailable with the server's message
        when it refuses, or when it does not answer."""
        request = urllib.request.Request(
            f"http://{self.server.address}{API}{path}", data=json.dumps(body).encode(), method="POST",
            headers={"authorization": f"Bearer {self.server.token}", "content-type": "application/json"})
        try:
            with _NO_PROXY.open(request, timeout=timeout_s) as reply:
                answer: dict[str, Any] = json.loads(reply.read())
                return answer
        except urllib.error.HTTPError as exc:
            raise Unavailable(_refusal(exc)) from None
        except (OSError, ValueError) as exc:
            raise Unavailable(f"the backloop server at {self.server.address} did not answer: "
                              f"{getattr(exc, 'reason', None) or exc}") from None


def _refusal(exc: urllib.error.HTTPError) -> str:
    try:
        message = str(json.loads(exc.read())["message"])
    except (OSError, ValueError, KeyError, TypeError):
        message = f"HTTP {exc.code} {exc.reason}"
    return message


def connect(state_dir: Path, port: int) -> Connection | None:
    """The server of ``state_dir`` listening on ``port``, if one runs there and proves it."""
    found = servers.at_port(state_dir, port)
    return Connection(found) if found is not None and _proved(found) else None


def _proved(server: servers.ServerFile) -> bool:
    nonce = secrets.token_hex(16)
    try:
        url = f"http://{server.address}{API}/hello?{urlencode({'nonce': nonce})}"
        with _NO_PROXY.open(url, timeout=ASK_TIMEOUT_S) as reply:
            given = json.loads(reply.read()).get("proof")
    except (OSError, ValueError, AttributeError):
        return False
    return isinstance(given, str) and hmac.compare_digest(given, servers.proof(server.token, nonce))


def _port(review: StoredReview) -> int | None:
    return urlsplit(review.url).port if review.url else None


def _stored(state_dir: Path, repo: Path | None = None) -> list[StoredReview]:
    return asyncio.run(stored_reviews(state_dir, repo))


def server_for_repo(state_dir: Path, repo: Path) -> Connection:
    """A running server to start a review of ``repo`` on: one that served a review of it (the latest first), else
    any running server of ``state_dir``."""
    ports = [p for p in dict.fromkeys(_port(r) for r in reversed(_stored(state_dir, repo))) if p]
    ports += [s.port for s in servers.listed(state_dir) if s.port not in ports]
    for port in ports:
        found = connect(state_dir, port)
        if found is not None:
            return found
    raise Unavailable(f"no backloop server is running (state in {state_dir}); start one, in another terminal or "
                      f"in the background, with: backloop server --repo {repo}")


def review_served(state_dir: Path, review_id: str | None, repo: Callable[[], Path]) -> tuple[str, Connection]:
    """The review ``review_id`` (default: the latest review of the repository ``repo()`` that a running server
    serves) and its server."""
    if review_id is not None:
        found = [r for r in _stored(state_dir) if r.id == review_id]
        if not found:
            raise Unavailable(f"there is no review {review_id} in {state_dir}")
        port = _port(found[0])
        served = connect(state_dir, port) if port else None
        if served is None:
            raise Unavailable(f"review {review_id} is not served by a running backloop server; serve it again with: "
                              f"backloop server --repo {found[0].repo}")
        return review_id, served
    root = repo()
    reviews = _stored(state_dir, root)
    if not reviews:
        raise Unavailable(f"there is no review of {root} yet; start one with: backloop review start")
    for review in reversed(reviews):
        port = _port(review)
        served = connect(state_dir, port) if port else None
        if served is not None:
            return review.id, served
    raise Unavailable(f"no review of {root} is served by a running backloop server; start one with: "
                      f"backloop server --repo {root}")


def comment_served(state_dir: Path, comment_id: str) -> Connection:
    """The server of the review that ``comment_id`` belongs to."""
    review_id = asyncio.run(review_of_comment(state_dir, comment_id))
    if review_id is None:
        raise Unavailable(f"there is no comment {comment_id} in {state_dir}")
    return review_served(state_dir, review_id, Path)[1]
