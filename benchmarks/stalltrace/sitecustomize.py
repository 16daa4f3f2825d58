"""Event-loop stall tracer, loaded into a server process through ``PYTHONPATH`` (``soak.py --stalls FILE``).

Three records, one JSON line each, in ``$BACKLOOP_STALL_LOG``:
- ``callback``: one asyncio callback (``asyncio.events.Handle._run``) that ran longer than ``$BACKLOOP_STALL_MS``
  (20): its duration, what it was, the main thread's stacks sampled while it ran, the garbage collections in it;
- ``late``: a heartbeat the loop runs every 5 ms came more than the threshold late (the loop was busy, possibly
  with many short callbacks in a row, or the process did not get the CPU): how late, and the stacks sampled in
  that window (the idle wait in ``select`` left out);
- ``beats``: every 2,000 heartbeats, how late they came (p50, p95, p99, max), the loop's own lag.
A thread samples the main thread's stack every ``SAMPLE_S``. ``python benchmarks/stalls.py FILE`` sums it up.
Benchmark tooling only: the server never imports it.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import threading
import time
from collections import Counter, deque
from typing import Any

LOG = os.environ.get("BACKLOOP_STALL_LOG")
STALL_S = float(os.environ.get("BACKLOOP_STALL_MS", "20")) / 1000
SAMPLE_S = 0.002
BEAT_S = 0.005
DEPTH = 30


def _install(log_path: str) -> None:
    main_id = threading.main_thread().ident or 0
    lock = threading.Lock()
    samples: deque[tuple[float, str]] = deque(maxlen=5000)
    running: dict[str, Any] = {"start": None, "gc": []}
    out = open(log_path, "a", buffering=1)  # noqa: SIM115 - open for the life of the process
    original_run = asyncio.events.Handle._run

    def write(record: dict[str, Any]) -> None:
        with lock:
            out.write(json.dumps(record) + "\n")

    def stack() -> str | None:
        frame = sys._current_frames().get(main_id)
        names: list[str] = []
        while frame is not None and len(names) < DEPTH:
            code = frame.f_code
            if not names and code.co_name in ("select", "poll") and code.co_filename.endswith("selectors.py"):
                return None  # idle: waiting for I/O
            path = code.co_filename
            ours = path.rfind("/backloop/")
            name = path[ours + 1:] if ours >= 0 else "/".join(path.rsplit("/", 2)[-2:])
            names.append(f"{name}:{frame.f_lineno}:{code.co_name}")
            frame = frame.f_back
        return " < ".join(names)

    def window(begin: float, end: float) -> list[tuple[str, int]]:
        with lock:
            taken = [s for t, s in samples if begin <= t <= end]
        return Counter(taken).most_common(10)

    def timed_run(self: asyncio.events.Handle) -> None:
        if threading.get_ident() != main_id:
            original_run(self)
            return
        begun = time.perf_counter()
        running["start"], running["gc"] = begun, []
        try:
            original_run(self)
        finally:
            running["start"] = None
            took = time.perf_counter() - begun
            if took >= STALL_S:
                write({"kind": "callback", "t": time.time(), "ms": round(took * 1000, 1),
                       "callback": repr(self)[:300], "stacks": window(begun, begun + took), "gc": running["gc"]})

    def sampler() -> None:
        while True:
            time.sleep(SAMPLE_S)
            sampled = stack()
            if sampled is not None:
                with lock:
                    samples.append((time.perf_counter(), sampled))

    gc_started: dict[str, float] = {}

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if threading.get_ident() != main_id:
            return
        if phase == "start":
            gc_started["t"] = time.perf_counter()
        elif "t" in gc_started:
            took = time.perf_counter() - gc_started.pop("t")
            if took >= 0.002 and running["start"] is not None:
                running["gc"].append([info.get("generation"), round(took * 1000, 1)])

    lateness: list[float] = []

    def beat(loop: asyncio.AbstractEventLoop, due: float) -> None:
        now = time.perf_counter()
        lateness.append(now - due)
        if len(lateness) >= 2000:  # every ~10 s: the distribution of the heartbeat's lateness
            lateness.sort()
            write({"kind": "beats", "t": time.time(), "n": len(lateness),
                   "ms": [round(1000 * lateness[int(q * (len(lateness) - 1))], 2) for q in (0.5, 0.95, 0.99, 1.0)]})
            lateness.clear()
        if now - due >= STALL_S:
            write({"kind": "late", "t": time.time(), "ms": round((now - due) * 1000, 1), "callback": "",
                   "stacks": window(due, now), "gc": []})
        loop.call_later(BEAT_S, beat, loop, time.perf_counter() + BEAT_S)

    started: list[bool] = []

    def first_run(self: asyncio.events.Handle) -> None:
        if not started and threading.get_ident() == main_id:
            started.append(True)
            loop = asyncio.get_running_loop()
            loop.call_later(BEAT_S, beat, loop, time.perf_counter() + BEAT_S)
            asyncio.events.Handle._run = timed_run  # type: ignore[method-assign]
        timed_run(self)

    asyncio.events.Handle._run = first_run  # type: ignore[method-assign]
    gc.callbacks.append(on_gc)
    threading.Thread(target=sampler, name="stall-sampler", daemon=True).start()


if LOG and "multiprocessing" not in " ".join(sys.argv):
    _install(LOG)
