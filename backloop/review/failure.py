"""What went wrong, said once for every front: a known error as a code (the websocket's ``error`` codes, see
docs/protocol.md) and a message for people. The websocket sends it as an ``error`` message, MCP as a tool error,
the CLI prints it."""

from __future__ import annotations

from dataclasses import dataclass

from backloop.diff.sides import TooLargeToLoad, ViewUnavailable
from backloop.git.process import GitError
from backloop.review.session import ReviewError
from backloop.review.store import ClientIdReused, EntryDeleted, StoreError
from backloop.viewspec import ViewError


@dataclass(frozen=True)
class Failure:
    code: str
    message: str
    path: str | None = None
    """The file that could not be loaded (``too_large_to_load``)."""


def failure(exc: BaseException) -> Failure | None:
    """``exc`` as a Failure; None when it is no known failure (a bug, or one its front says itself)."""
    match exc:
        case ReviewError():
            return Failure(exc.code, exc.message)
        case TooLargeToLoad():
            return Failure("too_large_to_load", str(exc), exc.path)
        case ViewUnavailable():
            return Failure("not_in_diff", str(exc))
        case ClientIdReused():
            return Failure("client_id_reused", str(exc))
        case EntryDeleted():
            return Failure("unknown_comment", str(exc))
        case StoreError():
            return Failure("storage_failed", str(exc))
        case ViewError():
            return Failure("bad_view", str(exc))
        case GitError():
            return Failure("git_failed", exc.message)
    return None
