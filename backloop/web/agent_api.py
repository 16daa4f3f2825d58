"""The agent's side of a review over HTTP, for agents without MCP (``backloop review``, docs/cli.md): what the MCP
tools do (review/agent.py), as JSON in and out under ``/api/agent/``.

Only the owner's own processes may use it. Every request but ``hello`` carries the server's token
(``Authorization: Bearer``), which only the owner can read (review/servers.py); requests that come from a web page
(with an ``Origin`` or ``Sec-Fetch-Site`` header, which browsers add and scripts do not) are refused, token or not.
Nothing here lists reviews: each call names the review or the comment it is about.

Delivery is at least once: an await's items are held (broker.py) until the client acknowledges them (``ack``); if
the response never reached it, they are pending again after ``HELD_S``. An await whose client goes away while
it waits is cancelled, taking nothing.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from backloop.review import agent
from backloop.review.failure import failure
from backloop.review.servers import proof
from backloop.review.service import ReviewService
from backloop.review.session import Review, ReviewError, Reviews

PREFIX = "/api/agent"
HELD_S = 10.0
"""How long an await's items wait for the client's acknowledgement before they are pending again."""
MAX_NONCE = 128
NO_STORE = {"cache-control": "no-store"}
_STATUS = {"unknown_review": 404, "unknown_comment": 404, "unauthorized": 401, "forbidden": 403,
           "storage_failed": 503}

T = TypeVar("T")


class StartRequest(msgspec.Struct, forbid_unknown_fields=True):
    repo: str
    """An absolute path in the repository to review."""
    since: str | None = None
    commit: str | None = None
    range: str | None = None
    title: str | None = None


class AwaitRequest(msgspec.Struct, forbid_unknown_fields=True):
    timeout_seconds: Annotated[float, msgspec.Meta(ge=0)] | None = None


class AckRequest(msgspec.Struct, forbid_unknown_fields=True):
    delivery: str


class ResolveRequest(msgspec.Struct, forbid_unknown_fields=True):
    reply: str | None = None


class ReplyRequest(msgspec.Struct, forbid_unknown_fields=True):
    message: str


class ApproveRequest(msgspec.Struct, forbid_unknown_fields=True):
    body: str = ""
    client_id: str | None = None
    """Makes a resent approval count once (as on the websocket)."""


def error(code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=_STATUS.get(code, 400), headers=NO_STORE)


def answer(result: object) -> JSONResponse:
    return JSONResponse(msgspec.to_builtins(result), headers=NO_STORE)


async def _decode(request: Request, kind: type[T]) -> T:
    body = await request.body()
    try:
        return msgspec.json.decode(body or b"{}", type=kind)
    except msgspec.DecodeError as exc:
        raise ReviewError("invalid_request", f"the request body is not what this call takes: {exc}") from None


async def _disconnected(request: Request) -> None:
    """Returns when the client has gone (once the body is read, the only message left to receive)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def agent_routes(reviews: Reviews, token: str, base_url: str, port: int) -> list[BaseRoute]:
    """The routes of the agent API of the server at ``base_url`` (``http://HOST:PORT``), which accepts ``token``."""
    expected = f"Bearer {token}".encode()

    def refusal(request: Request, *, authorised: bool = True) -> Response | None:
        headers = request.headers
        if "origin" in headers or "sec-fetch-site" in headers:
            return error("forbidden", "the agent API is for local processes, not for web pages")
        given = headers.get("authorization", "").encode()
        if authorised and not hmac.compare_digest(given, expected):
            refused = error("unauthorized", "give the token of this server (Authorization: Bearer TOKEN), from "
                                            "the servers directory of the state directory")
            refused.headers["www-authenticate"] = "Bearer"
            return refused
        return None

    def endpoint(call: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def checked(request: Request) -> Response:
            refused = refusal(request)
            if refused is not None:
                return refused
            try:
                return await call(request)
            except Exception as exc:
                known = failure(exc)
                if known is None:
                    raise
                return error(known.code, known.message)

        return checked

    def review_of(request: Request) -> Review:
        return reviews.require(request.path_params["review_id"])

    async def hello(request: Request) -> Response:
        refused = refusal(request, authorised=False)
        if refused is not None:
            return refused
        nonce = request.query_params.get("nonce", "")
        if not nonce or len(nonce) > MAX_NONCE:
            return error("invalid_request", f"give a nonce of 1-{MAX_NONCE} characters")
        return JSONResponse({"proof": proof(token, nonce)}, headers=NO_STORE)

    async def start(request: Request) -> Response:
        args = await _decode(request, StartRequest)
        if not Path(args.repo).is_absolute():
            raise ReviewError("invalid_request", "repo must be an absolute path")
        try:
            review, reused = await ReviewService(reviews).open_or_start(
                Path(args.repo), since=args.since, commit=args.commit, range=args.range, title=args.title, port=port)
        except ReviewError as exc:
            if exc.code != "view_needed":
                raise
            raise ReviewError(exc.code, f"review start {exc.message}; e.g. --since HEAD") from None
        return answer(agent.Started(review.id, base_url + review.url_path(), review.view.describe(), reused,
                                    review.round))

    async def await_items(request: Request) -> Response:
        review = review_of(request)
        args = await _decode(request, AwaitRequest)
        handle = secrets.token_hex(12)
        waiting = asyncio.ensure_future(agent.await_items(reviews, review, args.timeout_seconds, handle=handle,
                                                          held_s=HELD_S))
        gone = asyncio.ensure_future(_disconnected(request))
        try:
            await asyncio.wait({waiting, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            waiting.cancel()  # unless it is done: the client went away (or the server stops), it takes nothing
        await asyncio.wait({waiting})
        if waiting.cancelled():
            return Response(status_code=204)  # (no one reads it)
        result = waiting.result()
        return JSONResponse(msgspec.to_builtins(result) | {"delivery": handle if result.items else None},
                            headers=NO_STORE)

    async def ack(request: Request) -> Response:
        args = await _decode(request, AckRequest)
        return JSONResponse({"confirmed": reviews.broker.confirm(args.delivery)}, headers=NO_STORE)

    async def resolve(request: Request) -> Response:
        args = await _decode(request, ResolveRequest)
        return answer(await agent.resolve(reviews, request.path_params["comment_id"], args.reply))

    async def reply(request: Request) -> Response:
        args = await _decode(request, ReplyRequest)
        return answer(await agent.reply(reviews, request.path_params["comment_id"], args.message))

    async def approve(request: Request) -> Response:
        review = review_of(request)
        args = await _decode(request, ApproveRequest)
        approval_id = await ReviewService(reviews).approve(review.id, args.client_id or secrets.token_hex(12),
                                                           args.body)
        return JSONResponse({"review_id": review.id, "approval_id": approval_id, "state": review.state},
                            headers=NO_STORE)

    def post(path: str, call: Callable[[Request], Awaitable[Response]]) -> Route:
        return Route(PREFIX + path, endpoint(call), methods=["POST"])

    return [
        Route(PREFIX + "/hello", hello),
        post("/reviews", start),
        post("/reviews/{review_id}/await", await_items),
        post("/reviews/{review_id}/approve", approve),
        post("/ack", ack),
        post("/comments/{comment_id}/resolve", resolve),
        post("/comments/{comment_id}/reply", reply),
    ]
