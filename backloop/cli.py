"""Command line: ``backloop server``, ``server`` (= ``backloop server``) and ``backloop-mcp``. Parsing only."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import webbrowser
from collections.abc import Sequence
from pathlib import Path

from backloop.git.repo import GitError, Repo
from backloop.hub import Hub
from backloop.review.session import Reviews
from backloop.viewspec import ViewError, ViewSpec, parse_view
from backloop.web.app import create_app
from backloop.web.serve import bind, make_server


def _server_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Serve a live, GitHub-like review of a git repository's "
                                                          "changes on 127.0.0.1 and print its URL.")
    parser.add_argument("--repo", default=".", help="the git repository to review (default: the current directory)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1; anything else exposes your code to the network)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: a free one)")
    parser.add_argument("--open", action="store_true", help="open the review in the default browser")
    spec = parser.add_mutually_exclusive_group()
    spec.add_argument("--since", help="review changes since REV, live (default: HEAD)")
    spec.add_argument("--commit", help="review the change one commit introduced")
    spec.add_argument("--range", help="review a range A..B (or A...B against the merge base)")
    parser.add_argument("--title", help="title of the review")
    return parser


def _spec(args: argparse.Namespace) -> ViewSpec:
    if args.commit:
        return parse_view({"commit": args.commit})
    if args.range:
        return parse_view({"range": args.range})
    return parse_view({"since": args.since or "HEAD", "live": "true"})


async def run_server(args: argparse.Namespace) -> int:
    try:
        spec = _spec(args)
        repo = await Repo.open(Path(args.repo))
    except (ViewError, GitError) as exc:
        print(f"backloop: {exc}", file=sys.stderr)
        return 2
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        print(f"backloop: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 2
    port = sock.getsockname()[1]
    reviews = Reviews()
    review = reviews.create(repo, spec, args.title)
    hub = Hub()
    server = make_server(create_app(reviews, hub, args.host, port))
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{port}{review.url_path()}"
    print(f"backloop: reviewing {repo.root}\n{url}", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"backloop: warning: listening on {args.host}, reachable beyond this machine", file=sys.stderr)
    if args.open:
        webbrowser.open(url)
    await server.serve(sockets=[sock])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="backloop: %(levelname)s %(message)s")
    parser = argparse.ArgumentParser(prog="backloop", description="Local code review with a live feedback loop.")
    sub = parser.add_subparsers(dest="command", required=True)
    server_parser = sub.add_parser("server", help="serve a live review of a repository",
                                   parents=[_server_parser("backloop server")], add_help=False)
    server_parser.set_defaults(func=run_server)
    sub.add_parser("mcp", help="run the MCP server on stdio (same as backloop-mcp)").set_defaults(func=None)
    args = parser.parse_args(argv)
    if args.command == "mcp":
        return mcp_main()
    code: int = asyncio.run(args.func(args))
    return code


def server_main() -> int:
    """The ``server`` console script: ``uvx --from backloop server``."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="backloop: %(levelname)s %(message)s")
    args = _server_parser("server").parse_args()
    return asyncio.run(run_server(args))


def mcp_main() -> int:
    print("backloop-mcp: the MCP server is not available in this version yet; use `backloop server`.",
          file=sys.stderr)
    return 1
