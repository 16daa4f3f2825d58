"""The Starlette application: the one route table, static files, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import html
import mimetypes
from collections.abc import AsyncIterator, Iterable
from functools import lru_cache
from pathlib import Path, PurePosixPath

from pygments.formatters import HtmlFormatter
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from backloop.config import LOOPBACK_HOSTS, MAX_IDS_PER_REQUEST
from backloop.diff.sides import ViewUnavailable, read_side
from backloop.hub import Hub
from backloop.review.export import open_threads_markdown
from backloop.review.rounds import round_problem
from backloop.review.session import Review, Reviews
from backloop.viewspec import ViewError, parse_view
from backloop.web.agent_api import agent_routes
from backloop.web.assets import IMMUTABLE, PREFIX, Assets, Versioned
from backloop.web.security import LOOPBACK_NAMES, RAW_CSP, SecurityMiddleware, allowed_hosts, split_host
from backloop.web.ws import review_socket

IMAGE_TYPES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".ico"})
RAW_WAIT_S = 10.0
NO_STORE = {"cache-control": "no-store"}


def frontend_dir() -> Path:
    """The static client: inside the wheel as ``backloop/_frontend``, in a checkout as ``frontend/``."""
    packaged = Path(__file__).resolve().parent.parent / "_frontend"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent.parent / "frontend"


def _token_rules(style: str) -> str:
    # Backgrounds come from our own theme (add/del colours): keep only rules that colour tokens.
    rules: list[str] = HtmlFormatter(style=style).get_style_defs(".code").splitlines()  # type: ignore[no-untyped-call]
    return "\n".join(r for r in rules if r.startswith(".code .") and "background" not in r)


@lru_cache(maxsize=1)
def pygments_css() -> str:
    return f"{_token_rules('default')}\n@media (prefers-color-scheme: dark) {{\n{_token_rules('github-dark')}\n}}\n"


def error_page(status: int, title: str, message: str) -> HTMLResponse:
    t, m = html.escape(title), html.escape(message)
    body = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>backloop: {t}</title>"
        f"<link rel=stylesheet href=/static/base.css><main class=error-page><h1>{t}</h1><p>{m}</p>"
        "<p><a href=/>Your reviews</a></p></main>"
    )
    return HTMLResponse(body, status_code=status)


def summary(review: Review) -> dict[str, object]:
    """What the index page shows of a review whose id it knows."""
    comments = review.comments.values()
    return {"id": review.id, "title": review.title, "repo": str(review.repo.root), "url": review.url_path(),
            "view": review.view.describe(), "state": review.state, "agent": review.agent,
            "threads": len(comments), "open_threads": sum(c.state == "open" for c in comments)}


def create_app(reviews: Reviews, hub: Hub, host: str, port: int, allow_hosts: Iterable[str] = (),
               agent_token: str | None = None) -> Starlette:
    """``allow_hosts``: further host names the app answers to (``--allow-host``), see web/security.py.
    ``agent_token``: serve the agent API (web/agent_api.py) to whoever gives this token."""
    static = frontend_dir()
    assets = Assets(static)
    printed = f"[{host}]" if ":" in host else host
    """The name the server prints, as in a Host header."""

    def elsewhere(request: Request) -> Response | None:
        """A page asked for under another loopback name (``localhost`` for ``127.0.0.1``) is sent to the printed
        name: a browser keeps what it knows of reviews per origin (the index page's list), so it keeps one. The
        port stays the one asked for, which is another than ours behind a forwarded port (``ssh -L``)."""
        asked = split_host(request.headers.get("host", ""))
        if host not in LOOPBACK_HOSTS or asked is None or asked[0] not in LOOPBACK_NAMES or asked[0] == printed:
            return None
        netloc = printed if asked[1] is None else f"{printed}:{asked[1]}"
        return RedirectResponse(str(request.url.replace(netloc=netloc)), status_code=307, headers=NO_STORE)

    def review_or_404(request: Request) -> Review | HTMLResponse:
        review = reviews.get(request.path_params["review_id"])
        if review is None:
            return error_page(404, "Review not found",
                              "There is no such review here. Reviews live as long as the backloop process that "
                              "started them; the process may have restarted on another port.")
        return review

    async def home(request: Request) -> Response:
        return elsewhere(request) or HTMLResponse(assets.page("home.html"), headers=NO_STORE)

    async def describe_reviews(request: Request) -> Response:
        # Only about the ids it is given: the index page sends the ids its browser has opened. Nothing here lists
        # the reviews of this process, so a local process that knows no id learns none (docs/security.md).
        ids = request.query_params.getlist("id")
        if len(ids) > MAX_IDS_PER_REQUEST:
            return JSONResponse({"error": f"ask about at most {MAX_IDS_PER_REQUEST} ids at once"}, status_code=400,
                                headers=NO_STORE)
        known = (reviews.get(i) for i in dict.fromkeys(ids))
        return JSONResponse([summary(r) for r in known if r is not None], headers=NO_STORE)

    async def view_page(request: Request) -> Response:
        moved = elsewhere(request)
        if moved is not None:
            return moved
        review = review_or_404(request)
        if isinstance(review, Response):
            return review
        try:
            parse_view(request.query_params)
        except ViewError as exc:
            return error_page(400, "Invalid view", str(exc))
        return HTMLResponse(assets.page("review.html"), headers=NO_STORE)

    async def comments_markdown(request: Request) -> Response:
        review = review_or_404(request)
        if isinstance(review, Response):
            return review
        return Response(open_threads_markdown(review), media_type="text/markdown; charset=utf-8", headers=NO_STORE)

    async def raw_file(request: Request) -> Response:
        review = review_or_404(request)
        if isinstance(review, Response):
            return review
        params = request.query_params
        path, side = params.get("path", ""), params.get("side", "new")
        if side not in ("old", "new") or not path:
            return error_page(400, "Invalid request", "give path=<file> and side=old|new")
        try:
            spec = parse_view(params)
        except ViewError as exc:
            return error_page(400, "Invalid view", str(exc))
        problem = round_problem(review, spec) if spec.round is not None else None
        if problem is not None:
            return error_page(400, "Invalid view", problem)
        view = await hub.views.get(review.id, review.repo, spec)
        try:
            await asyncio.wait_for(view.ready.wait(), RAW_WAIT_S)
            data = await read_side(view, path, side)
        except (ViewUnavailable, TimeoutError) as exc:
            return error_page(404, "Not found", str(exc) or "the diff is not ready")
        suffix = PurePosixPath(path).suffix.lower()
        media = (mimetypes.guess_type(f"x{suffix}")[0] or "application/octet-stream") if suffix in IMAGE_TYPES \
            else "application/octet-stream"
        headers = {"content-security-policy": RAW_CSP, **NO_STORE}
        if suffix not in IMAGE_TYPES:
            headers["content-disposition"] = "attachment"
        return Response(data, media_type=media, headers=headers)

    async def css(request: Request) -> Response:
        cached = {"cache-control": IMMUTABLE} if request.path_params.get("version") == assets.current else None
        return Response(pygments_css(), media_type="text/css", headers=cached)

    async def socket(websocket: WebSocket) -> None:
        await review_socket(websocket, reviews, hub)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await hub.views.close()

    routes = [
        Route("/", home),
        Route("/api/reviews", describe_reviews),
        Route("/review/{review_id}/view", view_page),
        Route("/review/{review_id}/raw", raw_file),
        Route("/review/{review_id}/comments.md", comments_markdown),
        WebSocketRoute("/review/{review_id}/ws", socket),
        Route("/static/pygments.css", css),
        Route(PREFIX + "{version}/pygments.css", css),
        Mount(PREFIX + "{version}", Versioned(StaticFiles(directory=static), assets)),
        Mount("/static", StaticFiles(directory=static), name="static"),
    ]
    if agent_token is not None:
        routes += agent_routes(reviews, agent_token, f"http://{printed}:{port}", port)
    return Starlette(
        routes=routes,
        middleware=[Middleware(SecurityMiddleware, hosts=allowed_hosts(host, port), names=allow_hosts)],
        lifespan=lifespan,
    )
