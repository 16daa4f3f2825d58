"""The websocket endpoint: decode, dispatch, push. Translation only; the work is in the hub and the view."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket, WebSocketDisconnect

from backloop.hub import Hub, Subscriber
from backloop.live import ViewUnavailable
from backloop.protocol import (
    CLOSE_BAD_VIEW,
    CLOSE_UNKNOWN_REVIEW,
    PROTOCOL_VERSION,
    ClientMessage,
    Error,
    Expand,
    Hello,
    Lines,
    LoadFile,
    Ping,
    Pong,
    ProtocolError,
    ReviewInfo,
    decode_client,
    encode,
)
from backloop.review.session import Reviews
from backloop.viewspec import ViewError, parse_view

log = logging.getLogger(__name__)


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
    view = await hub.view(review.id, review.repo, spec)
    await view.ready.wait()
    resolved = view.resolved
    info = ReviewInfo(id=review.id, title=review.title, repo=str(review.repo.root), view=spec, state=review.state,
                      base=resolved.base_label if resolved else "", target=resolved.target_label if resolved else "")
    await websocket.send_text(encode(Hello(protocol=PROTOCOL_VERSION, review=info)))

    async with hub.subscribe(review.id, review.repo, spec, websocket.send_text) as sub:
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
                task = asyncio.create_task(_handle(sub, decoded))
                work.add(task)
                task.add_done_callback(work.discard)
        except WebSocketDisconnect:
            pass
        finally:
            pump.cancel()
            for task in work:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump


async def _handle(sub: Subscriber, message: ClientMessage) -> None:
    try:
        if isinstance(message, Ping):
            sub.reply(Pong(nonce=message.nonce))
        elif isinstance(message, Expand):
            lines, eof = await sub.view.expand(message.path, message.start, message.end)
            sub.reply(Lines(request_id=message.request_id, path=message.path, start=message.start, lines=lines,
                            eof=eof))
        elif isinstance(message, LoadFile):
            sub.force(await sub.view.full_file(message.path))
    except ViewUnavailable as exc:
        sub.reply(Error(code="not_in_diff", message=str(exc)))


async def _refuse(websocket: WebSocket, code: str, message: str, close_code: int) -> None:
    with contextlib.suppress(Exception):
        await websocket.send_text(encode(Error(code=code, message=message)))
        await websocket.close(close_code, reason=message[:120])
