"""Command line: ``backloop server``, ``server`` (= ``backloop server``), ``backloop list``, ``backloop review``
(backloop/agentcli/) and ``backloop-mcp``. Parsing and printing only."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import webbrowser
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from backloop import agents
from backloop.agentcli.verbs import add_verbs
from backloop.config import LOOPBACK_HOSTS, Settings, default_state_dir, host_name
from backloop.git.process import GitError
from backloop.git.repo import Repo
from backloop.review.failure import failure
from backloop.review.listing import StoredReview, served, stored_reviews
from backloop.review.service import ReviewService
from backloop.review.store import StoreError
from backloop.runtime import Runtime
from backloop.viewspec import add_view_arguments


class _Parser(argparse.ArgumentParser):
    """A bad flag is one line on stderr, as every other error of ours (``backloop: ...``), and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"backloop: {message} (see {self.prog} --help)\n")


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit() and int(text) <= 65535):
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)")
    return int(text)


def _host_name(text: str) -> str:
    try:
        return host_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _server_parser(prog: str) -> _Parser:
    parser = _Parser(prog=prog, description="Serve a live, GitHub-like review of a git repository's changes on "
                                            "127.0.0.1 and print its URL.")
    parser.add_argument("--repo", default=".", help="the git repository to review (default: the current directory)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1; anything else exposes your code to the network)")
    parser.add_argument("--port", type=_port, default=0, help="port to bind (default: a free one)")
    parser.add_argument("--allow-host", metavar="NAME", type=_host_name, action="append", default=[],
                        help="also answer pages asked for under this host name, with any port (a forwarded "
                             "dev-container or codespace address); repeatable")
    parser.add_argument("--open", action="store_true", help="open the review in the default browser")
    add_view_arguments(parser)
    parser.add_argument("--title", help="title of the review")
    return parser


async def run_server(args: argparse.Namespace) -> int:
    runtime = Runtime(Settings(host=args.host, port=args.port, state_dir=default_state_dir(),
                               allow_hosts=tuple(dict.fromkeys(args.allow_host)), agent_api=True))
    try:
        since = args.since or (None if args.commit or args.range else "HEAD")
        review = await ReviewService(runtime.reviews).start(Path(args.repo), since=since, commit=args.commit,
                                                            range=args.range, title=args.title, reuse_open=True)
        try:
            await runtime.start_web()
        except OSError as exc:
            print(f"backloop: {exc.strerror or exc}", file=sys.stderr)
            return 2
        await runtime.remember_port(review)
        url = runtime.url(review)
        print(f"backloop: reviewing {review.repo.root}\n{url}", flush=True)
        if args.host not in LOOPBACK_HOSTS:
            print(f"backloop: warning: listening on {args.host}, reachable beyond this machine", file=sys.stderr)
        if args.open:
            webbrowser.open(url)
        await runtime.wait_closed()
    except Exception as exc:
        known = failure(exc)
        if known is None:
            raise
        print(f"backloop: {known.message}", file=sys.stderr)
        return 2
    finally:
        await runtime.close()
    return 0


def _list_parser(prog: str) -> _Parser:
    parser = _Parser(prog=prog, description="Print your reviews and their addresses, from your state directory (the "
                                            "web server lists no reviews).")
    parser.add_argument("--repo", help="only the reviews of this repository (any directory inside its work tree)")
    parser.add_argument("--json", action="store_true", help="print a JSON array, one object per review")
    return parser


def _describe(review: StoredReview, running: bool | None) -> str:
    if review.url is None:
        address = f"{review.path}  (not served yet)"
    else:
        address = review.url if running else f"{review.url}  (not running)"
    return f"{review.state:<17} {address}\n{'':<17} {review.title} — {review.repo}"


async def run_list(args: argparse.Namespace) -> int:
    repo = None
    try:
        if args.repo is not None:
            repo = (await Repo.open(Path(args.repo))).root
        found = await stored_reviews(default_state_dir(), repo)
    except (GitError, StoreError) as exc:
        print(f"backloop: {exc}", file=sys.stderr)
        return 2
    running = await served(found)
    if args.json:
        print(json.dumps([vars(r) | {"running": running.get(r.id)} for r in found], indent=2))
    elif found:
        print("\n".join(_describe(r, running.get(r.id)) for r in found))
    else:
        print(f"backloop: no reviews{' of ' + str(repo) if repo else ''} in {default_state_dir()}", file=sys.stderr)
    return 0


def _mcp_config_parser(prog: str) -> _Parser:
    parser = _Parser(prog=prog, description="Print how to set up a coding agent with this install's MCP server "
                                            "(backloop-mcp by its absolute path).")
    parser.add_argument("--client", choices=agents.CLIENTS, default="json",
                        help="claude (a command), codex (TOML), cursor or json (an mcpServers object); default json")
    return parser


async def run_mcp_config(args: argparse.Namespace) -> int:
    found = agents.snippet(args.client)
    print(f"backloop: {found.where}", file=sys.stderr)
    print(found.text)
    return 0


def _review_parser(prog: str) -> _Parser:
    parser = _Parser(prog=prog, description="The agent's side of a review, for agents without MCP: start a review "
                                            "on the running backloop server, wait for comments, resolve, reply.")
    add_verbs(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="backloop: %(levelname)s %(message)s")
    parser = _Parser(prog="backloop", description="Local code review with a live feedback loop.")
    sub = parser.add_subparsers(dest="command", required=True)
    server_parser = sub.add_parser("server", help="serve a live review of a repository",
                                   parents=[_server_parser("backloop server")], add_help=False)
    server_parser.set_defaults(func=run_server)
    list_parser = sub.add_parser("list", help="print your reviews and their addresses",
                                 parents=[_list_parser("backloop list")], add_help=False)
    list_parser.set_defaults(func=run_list)
    config_parser = sub.add_parser("mcp-config", help="print how to set up a coding agent with this install",
                                   parents=[_mcp_config_parser("backloop mcp-config")], add_help=False)
    config_parser.set_defaults(func=run_mcp_config)
    sub.add_parser("review", help="start a review, await comments, resolve, reply (agents without MCP)",
                   parents=[_review_parser("backloop review")], add_help=False)
    sub.add_parser("mcp", help="run the MCP server on stdio (same as backloop-mcp)").set_defaults(func=None)
    args = parser.parse_args(argv)
    if args.command == "mcp":
        return mcp_main()
    if args.command == "review":
        done: int = args.func(args)  # (outside an event loop: see agentcli/verbs.py)
        return done
    code: int = asyncio.run(args.func(args))
    return code


def server_main() -> int:
    """The ``server`` console script: ``uvx --from backloop server``."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="backloop: %(levelname)s %(message)s")
    args = _server_parser("server").parse_args()
    return asyncio.run(run_server(args))


def mcp_main() -> int:
    """``backloop mcp``: the same as the ``backloop-mcp`` console script."""
    from backloop.mcp.launch import main as serve_mcp

    return serve_mcp()
