"""Each client request, decoded, turned into a call of the view or the review service, and its answer encoded;
a failure becomes an ``error`` message with the ``client_id`` or ``request_id`` it answers."""

from __future__ import annotations

import logging

from backloop import protocol as wire
from backloop.diff import sides
from backloop.hub import Subscriber
from backloop.review.failure import failure
from backloop.review.service import ReviewService

log = logging.getLogger(__name__)


async def answer(sub: Subscriber, service: ReviewService, message: wire.ClientMessage) -> None:
    try:
        answer = await _call(sub, service, message)
    except Exception as exc:  # one bad request must not take the connection down
        answer = _error(exc, message)
    if answer is not None:
        sub.reply(answer)


async def _call(sub: Subscriber, service: ReviewService, message: wire.ClientMessage) -> wire.ServerMessage | None:
    review_id, view = sub.review.id, sub.view
    match message:
        case wire.Ping():
            return wire.Pong(nonce=message.nonce)
        case wire.Expand():
            lines, eof = await sides.expand(view, message.path, message.start, message.end)
            return wire.Lines(request_id=message.request_id, path=message.path, start=message.start, lines=lines,
                              eof=eof)
        case wire.LoadFile():
            sub.load(await sides.full_file(view, message.path))  # answered by the full `file` message
            return None
        case wire.CommentMsg():
            comment = await service.comment(review_id, view, message.client_id, path=message.path, body=message.body,
                                            side=message.side, line=message.line, end_line=message.end_line,
                                            pending=message.pending)
            return wire.Ack(client_id=message.client_id, id=comment.id)
        case wire.EditCommentMsg():
            await service.edit_comment(review_id, message.client_id, message.comment_id, message.body)
            return wire.Ack(client_id=message.client_id, id=message.comment_id)
        case wire.DeleteCommentMsg():
            await service.delete_comment(review_id, message.client_id, message.comment_id)
            return wire.Ack(client_id=message.client_id, id=message.comment_id)
        case wire.SubmitReviewMsg():
            submission_id = await service.submit_review(review_id, message.client_id, message.body, message.verdict)
            return wire.Ack(client_id=message.client_id, id=submission_id)
        case wire.SetViewedMsg():
            sent = sub.delta.sent(message.path)
            await service.set_viewed(review_id, view, message.path, message.viewed,
                                     sent=sent.digest if sent is not None else None)
            return wire.Ack(client_id=message.client_id, id=message.path)
        case wire.ReplyMsg():
            reply_id = await service.reply(review_id, message.comment_id, message.body, author="person",
                                           client_id=message.client_id)
            return wire.Ack(client_id=message.client_id, id=reply_id)
        case wire.ResolveMsg():
            comment = await service.resolve(review_id, message.comment_id, author="person")
            return wire.Ack(client_id=message.client_id, id=comment.id)
        case wire.ApproveMsg():
            approval_id = await service.approve(review_id, message.client_id, message.body)
            return wire.Ack(client_id=message.client_id, id=approval_id)
        case wire.RequestChangesMsg():
            comment = await service.request_changes(review_id, message.client_id, message.body)
            return wire.Ack(client_id=message.client_id, id=comment.id)
        case wire.OpenFile():
            content, digest = await service.open_file(review_id, view, message.path)
            return wire.FileContent(request_id=message.request_id, path=message.path, content=content, hash=digest)
        case wire.ApplySuggestionsMsg():
            edit_id = await service.apply_suggestions(review_id, view, message.client_id, message.ids)
            return wire.Ack(client_id=message.client_id, id=edit_id)
        case wire.EditMsg():
            edit_id = await service.edit(review_id, view, message.client_id, message.path, message.base_hash,
                                         message.content)
            return wire.Ack(client_id=message.client_id, id=edit_id)


def _error(exc: Exception, message: wire.ClientMessage) -> wire.Error:
    """The answer to a request that failed, with the ``client_id`` or ``request_id`` it answers."""
    client_id, request_id = getattr(message, "client_id", None), getattr(message, "request_id", None)
    known = failure(exc)
    if known is None:
        log.error("handling %r failed", message, exc_info=exc)
        return wire.Error(code="internal_error", message=f"internal error: {exc}", client_id=client_id,
                          request_id=request_id)
    text = f"{known.message} — nothing was saved" if known.code == "storage_failed" else known.message
    return wire.Error(code=known.code, message=text, client_id=client_id, request_id=request_id, path=known.path)
