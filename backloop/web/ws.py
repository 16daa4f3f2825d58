"""The websocket endpoint: the connection (refusals, hello, the receive loop beside the hub's send loop); each
decoded frame is answered by web/answers.py."""

from __future__ import annotations

import asyncio
import contextlib

from starlette.websockets import WebSocket, WebSocketDisconnect

from backloop import protocol as wire
from backloop.hub import Hub
from backloop.review.rounds import round_problem
from backloop.review.service import ReviewService, detach
from backloop.review.session import Reviews
from backloop.viewspec import ViewError, parse_view
from backloop.web.answers import answer


async def review_socket(websocket: WebSocket, reviews: Reviews, hub: Hub) -> None:
    review = reviews.get(websocket.path_params["review_id"])
    await websocket.accept()
    if review is None:
        await _refuse(websocket, "unknown_review", "no such review (it may belong to another backloop process)",
                      wire.CLOSE_UNKNOWN_REVIEW)
        return
    try:
        spec = parse_view(websocket.query_params)
    except ViewError as exc:
        await _refuse(websocket, "bad_view", str(exc), wire.CLOSE_BAD_VIEW)
        return
    if spec.round is not None:
        problem = round_problem(review, spec)
        if problem is not None:
            await _refuse(websocket, "bad_view", problem, wire.CLOSE_BAD_VIEW)
            return
    view = await hub.views.get(review.id, review.repo, spec)
    await view.ready.wait()
    resolved = view.resolved
    info = wire.ReviewInfo(id=review.id, title=review.title, repo=str(review.repo.root), view=spec,
                           state=review.state, agent=review.agent, base=resolved.base_label if resolved else "",
                           target=resolved.target_label if resolved else "", round=review.round,
                           rounds=list(review.rounds), last_review=review.last_review,
                           changed_since_review=hub.changed_since_review(review))
    await websocket.send_text(wire.encode(wire.Hello(protocol=wire.PROTOCOL_VERSION, review=info)))

    service = ReviewService(reviews, hub.views)
    async with hub.subscribe(review, spec, websocket.send_text) as sub:
        pump = asyncio.create_task(sub.pump())
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
                    sub.reply(wire.Error(code="binary_frame", message="send text frames with one JSON object each"))
                    continue
                try:
                    decoded = wire.decode_client(text)
                except wire.ProtocolError as exc:
                    sub.reply(wire.Error(code=exc.code, message=exc.message))
                    continue
                # Not cancelled when the socket closes: a comment whose write has begun must also reach the review
                # in memory, an edit written to disk must be recorded. (The client resends it: the same id.)
                detach(answer(sub, service, decoded))
        except WebSocketDisconnect:
            pass
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump


async def _refuse(websocket: WebSocket, code: str, message: str, close_code: int) -> None:
    with contextlib.suppress(Exception):
        await websocket.send_text(wire.encode(wire.Error(code=code, message=message)))
        await websocket.close(close_code, reason=message[:120])
