"""The websocket endpoint: decode, dispatch, push. Translation only; the work is in the hub, the view and
the review sessions."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket, WebSocketDisconnect

from backloop.diff import sides
from backloop.diff.sides import TooLargeToLoad, ViewUnavailable
from backloop.hub import Hub, Subscriber
from backloop.protocol import (
    CLOSE_BAD_VIEW,
    CLOSE_UNKNOWN_REVIEW,
    PROTOCOL_VERSION,
    Ack,
    ApproveMsg,
    ClientMessage,
    CommentMsg,
    Error,
    Expand,
    FileContent,
    Hello,
    Lines,
    LoadFile,
    OpenFile,
    Ping,
    Pong,
    ProtocolError,
    ReplyMsg,
    RequestChangesMsg,
    ResolveMsg,
    ReviewInfo,
    ServerMessage,
    decode_client,
    encode,
)
from backloop.review.session import ReviewError, Reviews
from backloop.review.store import ClientIdReused, StoreError
from backloop.viewspec import ViewError, parse_view

log = logging.getLogger(__name__)
_unfinished: set[asyncio.Task[None]] = set()
"""Handlers of requests from sockets that have closed, still running."""


async def review_socket(websocket: WebSocket, reviews: Reviews, hub: Hub) -> None:
    review = reviews.get(websocket.path_params["review_id"])
    await websocket.accept()
    if review is None:
        await _refuse(websocket, "unknown_review", "no such review (it may belong to another backloop process)",
                      CLOSE_UNKNOWN_REVIEW)
        return
    try:
        spec = parse_view(websocket.query_params)
    except ViewError as exc:
        await _refuse(websocket, "bad_view", str(exc), CLOSE_BAD_VIEW)
        return
    view = await hub.views.get(review.id, review.repo, spec)
    await view.ready.wait()
    resolved = view.resolved
    info = ReviewInfo(id=review.id, title=review.title, repo=str(review.repo.root), view=spec, state=review.state,
                      agent=review.agent, base=resolved.base_label if resolved else "",
                      target=resolved.target_label if resolved else "")
    await websocket.send_text(encode(Hello(protocol=PROTOCOL_VERSION, review=info)))

    async with hub.subscribe(review, spec, websocket.send_text) as sub:
        pump = asyncio.create_task(sub.pump())
        work: set[asyncio.Task[None]] = set()
        try:
            while not pump.done():
                receive = asyncio.ensure_future(websocket.receive())
                await asyncio.wait({receive, pump}, return_when=asyncio.FIRST_COMPLETED)
                if not receive.done():
                    receive.cancel()
                    break
                message = receive.result()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:
                    sub.reply(Error(code="binary_frame", message="send text frames with one JSON object each"))
                    continue
                try:
                    decoded = decode_client(text)
                except ProtocolError as exc:
                    sub.reply(Error(code=exc.code, message=exc.message))
                    continue
                task = asyncio.create_task(_handle(sub, reviews, decoded))
                work.add(task)
                task.add_done_callback(work.discard)
        except WebSocketDisconnect:
            pass
        finally:
            pump.cancel()
            # Requests already received are carried out, not cancelled: a comment whose write has begun must
            # also reach the review in memory (and an edit written to disk must be recorded), even when the ack
            # can no longer be sent. The client resends it and gets the same id.
            _unfinished.update(work)
            for task in work:
                task.add_done_callback(_unfinished.discard)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump


async def _handle(sub: Subscriber, reviews: Reviews, message: ClientMessage) -> None:
    ids = {"client_id": getattr(message, "client_id", None), "request_id": getattr(message, "request_id", None)}
    try:
        reply = await _dispatch(sub, reviews, message)
        if reply is not None:
            sub.reply(reply)
    except ViewUnavailable as exc:
        sub.reply(Error(code="not_in_diff", message=str(exc), **ids))
    except TooLargeToLoad as exc:
        sub.reply(Error(code="too_large_to_load", message=str(exc), path=exc.path))
    except ReviewError as exc:
        sub.reply(Error(code=exc.code, message=exc.message, **ids))
    except ClientIdReused as exc:
        sub.reply(Error(code="client_id_reused", message=str(exc), **ids))
    except StoreError as exc:
        sub.reply(Error(code="storage_failed", message=f"{exc} — nothing was saved", **ids))
    except Exception as exc:  # one bad request must not take the connection down
        log.exception("handling %r failed", message)
        sub.reply(Error(code="internal_error", message=f"internal error: {exc}", **ids))


async def _dispatch(sub: Subscriber, reviews: Reviews, message: ClientMessage) -> ServerMessage | None:
    review, view = sub.review, sub.view
    if isinstance(message, Ping):
        return Pong(nonce=message.nonce)
    if isinstance(message, Expand):
        lines, eof = await sides.expand(view, message.path, message.start, message.end)
        return Lines(request_id=message.request_id, path=message.path, start=message.start, lines=lines, eof=eof)
    if isinstance(message, LoadFile):
        sub.load(await sides.full_file(view, message.path))  # answered by the full `file` message
        return None
    if isinstance(message, CommentMsg):
        if message.path not in view.files:
            raise ViewUnavailable(f"{message.path!r} is not part of this diff")
        quoted: list[str] = []
        if message.line is not None:
            end = message.end_line if message.end_line is not None else message.line
            quoted = await sides.quote(view, message.path, message.side, message.line, end)
        comment = await reviews.comment(review.id, message.client_id, body=message.body, path=message.path,
                                        side=message.side, line=message.line, end_line=message.end_line,
                                        quoted=quoted)
        return Ack(client_id=message.client_id, id=comment.id)
    if isinstance(message, ReplyMsg):
        _, reply_id = await reviews.reply(review.id, message.client_id, message.comment_id, message.body)
        return Ack(client_id=message.client_id, id=reply_id)
    if isinstance(message, ResolveMsg):
        comment = await reviews.resolve(review.id, message.comment_id, author="person")
        return Ack(client_id=message.client_id, id=comment.id)
    if isinstance(message, ApproveMsg):
        return Ack(client_id=message.client_id, id=await reviews.approve(review.id, message.client_id, message.body))
    if isinstance(message, RequestChangesMsg):
        comment = await reviews.request_changes(review.id, message.client_id, message.body)
        return Ack(client_id=message.client_id, id=comment.id)
    if not view.spec.live:
        raise ReviewError("not_live", "files can be edited only in live views (since=REV&live=true)")
    if message.path not in view.files:
        raise ReviewError("edit_refused", f"{message.path!r} is not part of this review's diff")
    if isinstance(message, OpenFile):
        content, digest = await reviews.open_file(review.id, message.path)
        return FileContent(request_id=message.request_id, path=message.path, content=content, hash=digest)
    edit_id = await reviews.edit(review.id, message.client_id, message.path, message.base_hash, message.content)
    return Ack(client_id=message.client_id, id=edit_id)


async def _refuse(websocket: WebSocket, code: str, message: str, close_code: int) -> None:
    with contextlib.suppress(Exception):
        await websocket.send_text(encode(Error(code=code, message=message)))
        await websocket.close(close_code, reason=message[:120])
