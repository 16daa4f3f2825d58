"""One process's state: the store, the reviews, the hub, and the web server (started on first use, on the port
its reviews had before when that port is free, so open pages find it again after a restart)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import Callable

from backloop.config import Settings
from backloop.diff import pool as highlight_pool
from backloop.diff.views import Views
from backloop.hub import Hub
from backloop.review import servers
from backloop.review.follow import Follow
from backloop.review.session import Review, Reviews
from backloop.review.store import ReviewRow, Store, StoreError
from backloop.web.app import create_app
from backloop.web.serve import Server, bind, make_server

log = logging.getLogger(__name__)


_frozen = False


def _freeze_startup_heap() -> None:
    """Everything allocated until the web server is up (modules, classes, the app: most of the heap) lives as long
    as the process: keep it out of the garbage collector's full collections, which would rescan it all and stop the
    event loop for 100-400 ms, several times a minute under a steady load (``benchmarks/soak.py --stalls`` shows
    them). Once per process."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


def wire_live(reviews: Reviews) -> Hub:
    """The live side of ``reviews``: their running views (those of the changes since a round among them, which
    recording a round reads from), comments that follow their code as it changes, viewed files that come back when
    theirs changes, and the hub that fans it all out to the pages."""
    views = Views(reviews.rounds.baseline)
    reviews.rounds.views = views
    views.on_start(Follow(reviews).view_started)
    views.on_start(reviews.viewed.view_started)
    return Hub(reviews, views)


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.database)
        self.reviews = Reviews(self.store)
        self.hub = wire_live(self.reviews)
        self.port: int | None = None
        self._server: Server | None = None
        self.on_signal: Callable[[], None] | None = None
        """Called when SIGINT/SIGTERM asks the web server to stop (the MCP process then exits as a whole)."""
        self._task: asyncio.Task[None] | None = None
        self._starting: asyncio.Task[int] | None = None
        self._server_file: servers.ServerFile | None = None
        """Where ``backloop review`` finds this server and the token of its agent API (with ``agent_api``)."""

    async def start_web(self) -> int:
        """Start the web server if it is not running; returns its port.

        The start runs in a task of its own, which a cancelled caller (an ``await_comments`` cancelled while the
        server starts) does not abandon halfway: the next call waits for that same start, rather than binding a
        second server."""
        if self.port is not None:
            return self.port
        starting = self._starting
        if starting is None or (starting.done() and (starting.cancelled() or starting.exception() is not None)):
            starting = self._starting = asyncio.create_task(self._start_web())
        return await asyncio.shield(starting)

    async def _start_web(self) -> int:
        sock = None
        remembered = [r.port for r in await self._stored_reviews() if r.port] if not self.settings.port else []
        for candidate in [self.settings.port] if self.settings.port else [*reversed(remembered), 0]:
            try:
                sock = bind(self.settings.host, candidate)
                break
            except OSError as exc:
                where = f"{self.settings.host}:{candidate}" if candidate else self.settings.host
                failure = OSError(exc.errno, f"cannot listen on {where}: {exc.strerror}")
                if self.settings.port:
                    raise failure from None
        if sock is None:  # not even a free port: the address itself cannot be bound
            raise failure
        port: int = sock.getsockname()[1]
        token = servers.new_token() if self.settings.agent_api else None
        server = make_server(create_app(self.reviews, self.hub, self.settings.host, port, self.settings.allow_hosts,
                                        token))
        server.on_signal = self.on_signal
        self._server = server
        self._task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("the web server stopped while starting")
            await asyncio.sleep(0.005)
        self.port = port
        _freeze_startup_heap()
        await self._remember([r.id for r in self.reviews.all()], port)
        if token is not None:
            self._announce(servers.ServerFile(port, f"{self.settings.url_host}:{port}", token, os.getpid()))
        return port

    def _announce(self, server: servers.ServerFile) -> None:
        """Write the server's file for ``backloop review``; without it (an unwritable state directory) the pages
        still work, so a failure is logged."""
        try:
            servers.write(self.settings.state_dir, server)
        except OSError as exc:
            log.warning("cannot write %s: %s; backloop review will not find this server", exc.filename, exc.strerror)
            return
        self._server_file = server

    async def _stored_reviews(self) -> list[ReviewRow]:
        try:
            return await self.store.reviews()
        except StoreError as exc:  # the server is still useful without the remembered ports
            log.warning("%s", exc)
            return []

    async def _remember(self, review_ids: list[str], port: int) -> None:
        """Store the port so that a restart reuses it; only a convenience, so a failed write (a full disk) is
        logged, not raised: it must not fail the tool call that started the server."""
        try:
            await self.store.set_port(review_ids, port)
        except StoreError as exc:
            log.warning("%s", exc)

    def url(self, review: Review) -> str:
        assert self.port is not None
        return f"{self.settings.base_url(self.port)}{review.url_path()}"

    async def remember_port(self, review: Review) -> None:
        if self.port is not None:
            await self._remember([review.id], self.port)

    async def wait_closed(self) -> None:
        """Until the web server stops (Ctrl-C / SIGTERM)."""
        if self._task is not None:
            await self._task

    async def close(self) -> None:
        if self._server_file is not None:
            servers.remove(self.settings.state_dir, self._server_file)
            self._server_file = None
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._task), 2.0)
        await self.hub.views.close()
        highlight_pool.shutdown()
        await self.reviews.broker.flush()
        await self.reviews.viewed.flush()
        await asyncio.to_thread(self.store.close)
