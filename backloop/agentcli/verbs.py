"""``backloop review start|await|resolve|reply|approve``: parsing, one call to the server's agent API, printing.

The texts are the MCP tools' (review/agent.py), naming these commands instead of the tools; ``--json`` prints the
MCP tools' structured results. Exit status: 0 done (``await``: items printed), 2 a failure (one line on stderr),
3 ``await`` found nothing yet (call it again), 4 ``await``: the review is approved.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec

from backloop.agentcli.client import (
    AWAIT_MARGIN_S,
    START_TIMEOUT_S,
    Unavailable,
    comment_served,
    review_served,
    server_for_repo,
)
from backloop.config import default_state_dir
from backloop.git.process import GitError
from backloop.git.repo import Repo
from backloop.review import agent
from backloop.review.store import StoreError
from backloop.viewspec import add_view_arguments

DONE = 0
FAILED = 2
NOTHING_YET = 3
APPROVED = 4
INTERRUPTED = 130

Verb = Callable[[argparse.Namespace], int]


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= agent.MAX_WAIT_S:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0-{agent.MAX_WAIT_S:.0f})")
    return value


def add_verbs(review: argparse.ArgumentParser) -> None:
    """The verbs of ``backloop review`` (their parsers are of ``review``'s class)."""
    verbs = review.add_subparsers(dest="verb", required=True, metavar="VERB")

    def verb(name: str, run: Verb, help: str, description: str) -> argparse.ArgumentParser:
        parser = verbs.add_parser(name, help=help, description=description)
        parser.set_defaults(func=_guarded(run))
        parser.add_argument("--json", action="store_true", help="print the result as JSON (the MCP tool's "
                                                                "structured result)")
        return parser

    start = verb("start", run_start, "start a review on the running backloop server",
                 "Start a review of a repository on the running backloop server and print its URL.")
    start.add_argument("--repo", default=".", help="the git repository to review (default: the current directory)")
    add_view_arguments(start)
    start.add_argument("--title", help="title of the review")

    wait = verb("await", run_await, "wait for the reviewer's comments",
                "Wait until the reviewer comments, edits or approves; print what they did (each item once).")
    _which_review(wait)
    wait.add_argument("--timeout", metavar="S", type=_seconds, default=agent.DEFAULT_WAIT_S,
                      help=f"give up after S seconds (default {agent.DEFAULT_WAIT_S:.0f}, at most "
                           f"{agent.MAX_WAIT_S:.0f}) with exit status {NOTHING_YET}: run it again")

    resolve = verb("resolve", run_resolve, "resolve a comment's thread", "Mark a comment's thread resolved.")
    resolve.add_argument("comment_id", metavar="COMMENT_ID", help="the comment, as await printed it")
    resolve.add_argument("--reply", metavar="TEXT", help="a last reply in the thread (what you changed)")

    reply = verb("reply", run_reply, "reply in a comment's thread",
                 "Reply in a comment's thread without resolving it; the answer comes through await.")
    reply.add_argument("comment_id", metavar="COMMENT_ID", help="the comment, as await printed it")
    reply.add_argument("message", metavar="MESSAGE", help="the reply")

    approve = verb("approve", run_approve, "approve a review, as the reviewer",
                   "Approve a review as the reviewer would in the page (a CI job standing in for the person): "
                   "its agent's await then ends with REVIEW APPROVED.")
    _which_review(approve)
    approve.add_argument("--message", metavar="TEXT", default="", help="a note with the approval")


def _which_review(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--review", metavar="ID", help="the review (default: the latest review of the repository "
                                                       "that a running server serves)")
    parser.add_argument("--repo", default=".", help="the repository whose latest review to use (default: the "
                                                    "current directory)")


def _guarded(run: Verb) -> Verb:
    """``run`` with its failures said in one line. (Each verb runs outside an event loop: a blocking read of the
    answer is what a Ctrl-C interrupts at once.)"""

    def guarded(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except (Unavailable, GitError, StoreError) as exc:
            print(f"backloop: {getattr(exc, 'message', None) or exc}", file=sys.stderr)
            return FAILED
        except KeyboardInterrupt:
            return INTERRUPTED

    return guarded


def _print(args: argparse.Namespace, text: str, result: dict[str, Any]) -> None:
    print(json.dumps(result, indent=2) if args.json else text, flush=True)


def _root(repo: str) -> Path:
    return asyncio.run(Repo.open(Path(repo))).root


def run_start(args: argparse.Namespace) -> int:
    root = _root(args.repo)
    server = server_for_repo(default_state_dir(), root)
    since = args.since or (None if args.commit or args.range else "HEAD")
    body = {"repo": str(root), "since": since, "commit": args.commit, "range": args.range, "title": args.title}
    answer = server.call("/reviews", body, START_TIMEOUT_S)
    _print(args, agent.started_text(msgspec.convert(answer, agent.Started), agent.CLI), answer)
    return DONE


def run_await(args: argparse.Namespace) -> int:
    review_id, server = review_served(default_state_dir(), args.review, lambda: _root(args.repo))
    answer = server.call(f"/reviews/{quote(review_id, safe='')}/await", {"timeout_seconds": args.timeout},
                         args.timeout + AWAIT_MARGIN_S)
    delivery = answer.pop("delivery", None)
    result = msgspec.convert(answer, agent.Awaited)
    try:
        _print(args, agent.await_text(result, agent.CLI), answer)
    except OSError as exc:  # (nobody reads what we print: unacknowledged, the items come again)
        raise Unavailable(f"could not print the result ({exc.strerror or exc}); the next await delivers it "
                          "again") from None
    if delivery is not None:
        try:
            server.call("/ack", {"delivery": delivery})
        except Unavailable as exc:  # (what was printed stands; the next await delivers it again as well)
            print(f"backloop: warning: could not acknowledge the items: {exc}", file=sys.stderr)
    return APPROVED if result.approved else NOTHING_YET if result.timed_out else DONE


def run_resolve(args: argparse.Namespace) -> int:
    server = comment_served(default_state_dir(), args.comment_id)
    answer = server.call(f"/comments/{quote(args.comment_id, safe='')}/resolve", {"reply": args.reply})
    _print(args, agent.resolved_text(msgspec.convert(answer, agent.ResolvedThread)), answer)
    return DONE


def run_reply(args: argparse.Namespace) -> int:
    server = comment_served(default_state_dir(), args.comment_id)
    answer = server.call(f"/comments/{quote(args.comment_id, safe='')}/reply", {"message": args.message})
    _print(args, agent.replied_text(msgspec.convert(answer, agent.RepliedThread), agent.CLI), answer)
    return DONE


def run_approve(args: argparse.Namespace) -> int:
    review_id, server = review_served(default_state_dir(), args.review, lambda: _root(args.repo))
    answer = server.call(f"/reviews/{quote(review_id, safe='')}/approve", {"body": args.message})
    _print(args, f"Review {review_id} approved.", answer)
    return DONE
