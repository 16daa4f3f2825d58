"""Background highlighting in a worker process: pygments is pure Python, and a big change takes tens of seconds
of it; in a thread that would hold the GIL against the event loop (and every live update) the whole time."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor

import msgspec

from backloop.diff.highlight import highlight_file
from backloop.diff.model import FileDiff

Job = tuple[FileDiff, str | None, str | None]
"""A file and its old/new blob ids (the highlight cache keys)."""

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def _work(payload: bytes) -> bytes:
    jobs = msgspec.msgpack.decode(payload, type=list[Job])
    return msgspec.msgpack.encode([highlight_file(fd, old, new) for fd, old, new in jobs])


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            # spawn, not fork: forking a process with an event loop and threads running is unsafe.
            _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return _pool


async def highlight_in_worker(jobs: list[Job]) -> list[FileDiff]:
    payload = msgspec.msgpack.encode(jobs)
    result = await asyncio.get_running_loop().run_in_executor(_executor(), _work, payload)
    return msgspec.msgpack.decode(result, type=list[FileDiff])


def shutdown() -> None:
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)
