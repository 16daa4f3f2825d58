"""Each known error has one code and one message, whichever front reports it."""

from __future__ import annotations

import pytest

from backloop.diff.sides import TooLargeToLoad, ViewUnavailable
from backloop.git.process import BadRevision, GitError, NotARepository
from backloop.review.failure import Failure, failure
from backloop.review.session import ReviewError
from backloop.review.store import ClientIdReused, StoreError
from backloop.viewspec import ViewError

BIG = TooLargeToLoad("big.txt", 60_000)
REUSED = ClientIdReused("c1", "comment")


@pytest.mark.parametrize(("exc", "expected"), [
    (ReviewError("unknown_comment", "no comment with id 'x'"), Failure("unknown_comment", "no comment with id 'x'")),
    (ViewUnavailable("'x.py' is not part of this diff"), Failure("not_in_diff", "'x.py' is not part of this diff")),
    (BIG, Failure("too_large_to_load", str(BIG), "big.txt")),
    (REUSED, Failure("client_id_reused", str(REUSED))),
    (StoreError("cannot write the review state: disk full"),
     Failure("storage_failed", "cannot write the review state: disk full")),
    (ViewError("context='x' must be a whole number"), Failure("bad_view", "context='x' must be a whole number")),
    (BadRevision("unknown since 'nope'"), Failure("git_failed", "unknown since 'nope'")),
    (NotARepository("/tmp is not inside a git work tree"), Failure("git_failed", "/tmp is not inside a git work tree")),
    (GitError("git failed"), Failure("git_failed", "git failed")),
])
def test_known_errors(exc: Exception, expected: Failure) -> None:
    assert failure(exc) == expected
    assert expected.message == str(exc)  # what each front said before it said it here


@pytest.mark.parametrize("exc", [ValueError("x"), OSError(2, "gone"), KeyError("k"), RuntimeError("bug")])
def test_anything_else_is_no_known_failure(exc: Exception) -> None:
    assert failure(exc) is None
