"""The person's pending review: comments held (shown to them as pending, editable, deletable, never handed to the
agent) until they submit the review; then every one of them and the summary reach the agent as one batch, and the
verdict sets the review's state as "request changes" and "approve" do."""

from __future__ import annotations

import time

import msgspec

from backloop.review.entry import Entry, to_comment
from backloop.review.model import VERDICT_STATES, Verdict
from backloop.review.session import ReviewError, Reviews, ThreadChanged, check_body


async def change(reviews: Reviews, review_id: str, client_id: str, comment_id: str, body: str | None) -> None:
    """Edit (``body``) or delete (None) a comment of the person's pending review."""
    review = reviews.require(review_id)
    if body is not None:
        check_body(body, allow_empty=False)
    result = await reviews.store.change_pending(review_id, client_id, comment_id, body)
    if result == "unknown":
        raise ReviewError("unknown_comment", f"no comment with id {comment_id!r} in review {review_id}")
    if result == "not_pending":
        raise ReviewError("not_pending", "only comments of a review not submitted yet can be edited or deleted")
    comment = review.comments.get(comment_id)
    if comment is None or not comment.pending:
        return  # (a resent message: done the first time)
    if body is None:
        del review.comments[comment_id]
    else:
        review.comments[comment_id] = msgspec.structs.replace(comment, body=body)
    reviews.announce(ThreadChanged(review_id, comment_id))


async def submit(reviews: Reviews, review_id: str, client_id: str, body: str, verdict: Verdict) -> tuple[str, bool]:
    """Hand the pending comments and the summary ``body`` to the agent as one batch; returns the submission's id
    and whether it is new (not a resent message)."""
    review = reviews.require(review_id)
    seen = await reviews.store.seen_client_id(review_id, client_id, "submit")
    if seen is not None:
        return seen, False
    check_body(body)
    if verdict != "approve" and not body.strip() and not any(c.pending for c in review.comments.values()):
        raise ReviewError("invalid_message", "nothing to submit: no pending comments and no summary")
    now = time.time()
    summary = [review.stamped(Entry.request_changes(review_id, body) if verdict == "request_changes"
                              else Entry.comment(review_id, body, created=now))] if body.strip() else []
    state = VERDICT_STATES.get(verdict)
    marker, batch = await reviews.store.submit(review.stamped(Entry.submission(review_id, verdict, created=now)),
                                                client_id, also=summary, review_state=state)
    if batch is None:
        return marker.id, False
    for entry in batch:
        comment = review.comments.get(entry.id)
        review.comments[entry.id] = to_comment(entry, []) if comment is None else \
            msgspec.structs.replace(comment, pending=False)
    # All at once and before any await: a waiting agent gets the whole batch as one result.
    reviews.broker.notify(review_id, batch)
    for entry in batch:
        reviews.announce(ThreadChanged(review_id, entry.id))
    if state is not None:
        reviews.state_changed(review, state)
    return marker.id, True
