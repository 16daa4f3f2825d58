"""Review rounds on a big change (1,000 files / 100,000 changed lines): what recording a round costs the live
pipeline, and how soon the view of the changes since a round paints.

    python benchmarks/rounds.py                                   # 20,000-file repository, 5 recordings, 5 loads
    python benchmarks/rounds.py --files 3000 --recordings 3 --no-browser          # a quick look

1. Recording, in this process (a real store, reviews and running views over the repository, as the server has
   them): once the review's own view is computed and highlighted, ``--recordings`` times ``--changed-since``
   (20) more files change, the view takes them in, and a round ends (``ReviewService.end_round``). Per recording:
   the event loop's CPU time while it ran (``time.thread_time`` of the loop's thread: the recording and anything
   else the loop did meanwhile, so an upper bound) and the wall time (the reading, hashing and writing run in
   worker threads); the first writes every file's content, the later ones only what changed. Then as many more
   recordings with a 5 ms heartbeat on the loop, for the longest the loop was held up (its worst lateness; the
   beats cost the loop CPU of their own, in proportion to the wall time, so they are not in the first ones).
2. Changes since round 1, against the real server and headless Chromium: a client requests changes (round 1
   ends), ``--changed-since`` files change; then, ``--page-loads`` times, each in a fresh browser context: the
   page of all the changes is shown and "Changes since round 1" chosen in its header (the switch: the page moves
   its socket to that view), from the choice to the first of those files painted at the top of the list (the
   unchanged ones come after them) and the next animation frame; and the page of ``&round=1`` loaded
   afresh (nothing cached), from navigation to the first of those files in the page with its changed line.
   Also the socket alone: connect → ``snapshot`` of that view, cold (the first time) and warm.
Medians and p95 (nearest rank) are printed against the targets (PASS/MISS); the exit code is 0 either way.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from benchlib import (
    benchmark_repo,
    change_files,
    git_shortstat,
    open_socket,
    percentile,
    print_table,
    read_lines,
    repo_paths,
    reset_repo,
    run_server,
    verdict,
)
from big_diff import make_change

from backloop.config import DATABASE
from backloop.diff.view import DiffView, FilesChanged, ViewEvent
from backloop.review.service import ReviewService
from backloop.review.session import Review, Reviews
from backloop.review.store import Store
from backloop.runtime import wire_live
from tests.chromium import CHROMIUM, CHROMIUM_ARGS

TARGET_LOOP_MS = 20.0
TARGET_PAINT_S = 0.3
HEARTBEAT_S = 0.005

PAINT_JS = """
(() => {
  const expected = __EXPECTED__;
  const state = { firstPaint: null, path: null };
  window.__bp = state;
  const found = () => {
    for (const [path, text] of Object.entries(expected)) {
      const el = document.querySelector(`[data-path="${CSS.escape(path)}"]:not(a)`);
      if (el && el.textContent.includes(text)) return path;
    }
    return null;
  };
  const observer = new MutationObserver(() => {
    const path = found();
    if (path === null) return;
    observer.disconnect();
    state.path = path;
    requestAnimationFrame(() => { state.firstPaint = performance.now(); });
  });
  observer.observe(document, { subtree: true, childList: true, characterData: true });
})();
"""


def _changed_lines(root: Path, paths: list[str], seed: int, tag: str) -> dict[str, str]:
    """Change ``paths`` by a few lines each; path → text of its first changed line."""
    indices = change_files(root, paths, 6, seed, tag)
    expected: dict[str, str] = {}
    for path in paths:
        lines = read_lines(root, path)
        text = next((lines[i].strip() for i in indices[path] if lines[i].strip()), "")
        if text:
            expected[path] = text[:40]
    return expected


# ---- 1. recording, in process ---------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def heartbeat() -> AsyncIterator[list[float]]:
    """The lateness of each beat of a ``HEARTBEAT_S`` heartbeat on this event loop while the block runs."""
    late: list[float] = []
    loop = asyncio.get_running_loop()

    async def beat() -> None:
        while True:
            due = loop.time() + HEARTBEAT_S
            await asyncio.sleep(HEARTBEAT_S)
            late.append(max(loop.time() - due, 0.0))

    task = asyncio.create_task(beat())
    try:
        yield late
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _settled(view: DiffView, paths: set[str]) -> None:
    """Until the view has taken in ``paths`` and has nothing left to highlight."""
    seen: set[str] = set()
    changed = asyncio.Event()

    def on(event: ViewEvent) -> None:
        if isinstance(event, FilesChanged):
            seen.update(event.paths)
            changed.set()

    stop = view.listen(on)
    try:
        while not paths <= seen:
            changed.clear()
            await asyncio.wait_for(changed.wait(), 60)
    finally:
        stop()
    while view.loading or not all(fd.highlighted for fd in view.files.values()):  # noqa: ASYNC110 (no event says so)
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # (past the watcher's debounce: nothing else is on its way)


async def measure_recordings(root: Path, args: argparse.Namespace, state: Path
                             ) -> tuple[list[tuple[float, float]], list[float]]:
    """Per recording: (loop CPU ms, wall ms); and per recording with the heartbeat: the worst lateness (ms)."""
    store = Store(state / DATABASE)
    reviews = Reviews(store)
    hub = wire_live(reviews)
    service = ReviewService(reviews)
    results: list[tuple[float, float]] = []
    lateness: list[float] = []
    try:
        review: Review = await service.start(root, since="HEAD")
        async with hub.views.use(review.id, review.repo, review.view) as view:
            await view.ready.wait()
            await _settled(view, set())
            print(f"  own view: {len(view.files)} files")
            rng = random.Random(f"{args.seed}:rounds")
            candidates = sorted(view.files)
            # The loop's CPU is taken from recordings without the heartbeat (whose own beats cost the loop CPU in
            # proportion to the wall time), its lateness from as many more with it.
            for n in range(2 * args.recordings):
                chosen = sorted(rng.sample(candidates, args.changed_since))
                change_files(root, chosen, 6, args.seed, f"record{n}")
                await _settled(view, set(chosen))
                beating = n >= args.recordings
                async with heartbeat() if beating else _nothing() as late:
                    cpu, wall = time.thread_time(), time.perf_counter()
                    ended = await service.end_round(review.id, "person", "requested changes")
                    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
                assert ended is not None, "the round was not recorded"
                if beating:
                    lateness.append(max(late, default=0.0) * 1000)
                    print(f"  recording {n + 1}: loop held up at most {lateness[-1]:.1f} ms")
                else:
                    results.append((cpu * 1000, wall * 1000))
                    print(f"  recording {n + 1}{' (every blob new)' if n == 0 else ''}: loop CPU {cpu * 1000:.1f} ms, "
                          f"wall {wall * 1000:.0f} ms")
    finally:
        await hub.views.close()
        await reviews.broker.flush()
        store.close()
    return results, lateness


@contextlib.asynccontextmanager
async def _nothing() -> AsyncIterator[list[float]]:
    yield []


# ---- 2. the view of the changes since a round -----------------------------------------------------------------


async def measure_since(root: Path, args: argparse.Namespace, logs: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {"paints": [], "loads": []}
    async with run_server(root, logs) as server, open_socket(server.ws_url) as own:
        await own.until_type("snapshot", 600)
        await own.quiet(1.0)
        await own.ws.send(json.dumps({"type": "request_changes", "client_id": "bench-rc", "body": "again"}))
        await own.until_type("round", 120)
        paths = repo_paths(args.files)
        diffed = sorted(random.Random(f"{args.seed}:big").sample(paths, min(args.changed_files, len(paths))))
        chosen = sorted(random.Random(f"{args.seed}:since").sample(diffed, args.changed_since))
        expected = _changed_lines(root, chosen, args.seed, "since")
        waiting = set(chosen)
        while waiting:
            item = await own.next(60)
            if item is None:
                raise TimeoutError(f"the server did not push {sorted(waiting)[:3]}…")
            if item.type == "file":
                waiting.discard(json.loads(item.text)["file"]["path"])
        await own.quiet(1.0)
        since_ws = server.ws_url + "&round=1"
        for label in ("cold", "warm"):
            start = time.perf_counter()
            async with open_socket(since_ws) as reader:
                snap = await reader.until_type("snapshot", 600)
                figures[f"snapshot_{label}_s"] = snap.at - start
                files = json.loads(snap.text)["files"]
                figures["files"] = len(files)
                figures["unchanged"] = sum(1 for f in files if f.get("unchanged"))
        if args.no_browser:
            return figures
        from playwright.async_api import async_playwright

        async with async_playwright() as pw, open_socket(since_ws) as keep:
            await keep.until_type("snapshot", 600)  # keeps the view of round 1 running, as a switch finds it
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                for _ in range(args.page_loads):
                    figures["loads"].append(await _paint(browser, server.url + "&round=1", expected))
                    figures["paints"].append(await _paint(browser, server.url, expected, switch=True))
            finally:
                await browser.close()
    return figures


LOADED_JS = "() => document.querySelector('#files [aria-busy=\"true\"]') === null"
QUIET_JS = """
() => new Promise((resolve) => {
  let timer = 0;
  const observer = new MutationObserver(() => {
    clearTimeout(timer);
    timer = setTimeout(done, 500);
  });
  const done = () => {
    observer.disconnect();
    resolve(true);
  };
  observer.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  timer = setTimeout(done, 500);
})
"""
SWITCH_JS = """
async (expected) => {
  const select = document.querySelector('select[aria-label="Changes to show"]');
  let emptied = false;  // (the files of all the changes are gone: what comes next is the new view)
  const shown = () => {
    const first = document.querySelector("#files section.file");
    emptied = emptied || first === null;
    const want = first && expected[first.dataset.path];
    return Boolean(emptied && want && first.textContent.includes(want));
  };
  const start = performance.now();
  const painted = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (!shown()) return;
      observer.disconnect();
      requestAnimationFrame(() => resolve(performance.now() - start));
    });
    observer.observe(document, { subtree: true, childList: true, characterData: true });
  });
  select.value = "1";
  select.dispatchEvent(new Event("change", { bubbles: true }));
  return await painted;
}
"""


async def _paint(browser: Any, url: str, expected: dict[str, str], switch: bool = False) -> float:
    """Seconds until the first of the ``expected`` files is painted, in a fresh browser context: from navigation
    to the page at ``url``, or (``switch``) from choosing "changes since round 1" in the header of the page at
    ``url`` once it is shown (the page moves its socket to that view) to the first of them painted first in the
    list."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = await context.new_page()
        if switch:
            await page.goto(url, wait_until="commit")
            await page.locator("select[aria-label='Changes to show'] option[value='1']").wait_for(
                state="attached", timeout=120_000)
            await page.wait_for_selector("[data-connection='open']", timeout=120_000)
            # (the person switches once the page is there: every file of its streamed snapshot arrived, and the
            # page has been still for half a second)
            await page.wait_for_function(LOADED_JS, timeout=120_000, polling=50)
            await page.evaluate(QUIET_JS)
            return float(await page.evaluate(SWITCH_JS, expected)) / 1000
        await page.add_init_script(PAINT_JS.replace("__EXPECTED__", json.dumps(expected)))
        await page.goto(url, wait_until="commit")
        await page.wait_for_function("() => window.__bp && window.__bp.firstPaint !== null", timeout=120_000,
                                     polling=50)
        return float(await page.evaluate("window.__bp.firstPaint")) / 1000
    finally:
        await context.close()


# ---- report ---------------------------------------------------------------------------------------------------


def _row(name: str, values: list[float], spec: str, target: float | None) -> list[str]:
    if not values:
        return [name, "—", "—", "—", ""]
    med, p95 = statistics.median(values), percentile(values, 95)
    return [name, str(len(values)), format(med, spec), format(p95, spec),
            "" if target is None else f"p95 ≤ {target:g}: {verdict(p95, target)}"]


async def main_async(args: argparse.Namespace) -> None:
    print(f"rounds: {args.changed_files} files x {args.lines_per_file} changed lines in a repository of "
          f"{args.files} files; {args.changed_since} files change after each round")
    with tempfile.TemporaryDirectory(prefix="backloop-bench-rounds-") as tmp, \
            benchmark_repo(args.files, args.seed, args.repo_cache) as root:
        os.environ["BACKLOOP_STATE_DIR"] = str(Path(tmp) / "server-state")  # (the server's, not the user's)
        reset_repo(root)
        make_change(root, args)
        print(f"  git diff --shortstat: {git_shortstat(root)}")
        recordings, lateness = await measure_recordings(root, args, Path(tmp) / "state")
        reset_repo(root)
        make_change(root, args)
        since = await measure_since(root, args, Path(tmp))
    rows = [
        _row("recording: event-loop CPU (ms)", [r[0] for r in recordings], ".1f", TARGET_LOOP_MS),
        _row("recording: loop held up at most (ms)", lateness, ".1f", None),
        _row("recording: wall time (ms)", [r[1] for r in recordings], ".0f", None),
        _row("since round 1: snapshot, cold view (s)", [since["snapshot_cold_s"]], ".3f", None),
        _row("since round 1: snapshot, warm view (s)", [since["snapshot_warm_s"]], ".3f", None),
        _row("since round 1: switched to, first changed file painted (s)", since["paints"], ".3f", TARGET_PAINT_S),
        _row("since round 1: loaded afresh, first changed file painted (s)", since["loads"], ".3f", None),
    ]
    print()
    print_table(["figure", "n", "median", "p95", "target"], rows)
    print(f"  the view of round 1: {since.get('files')} files, {since.get('unchanged')} of them unchanged")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=20_000, help="files in the generated repository")
    parser.add_argument("--changed-files", type=int, default=1000)
    parser.add_argument("--lines-per-file", type=int, default=100, help="changed lines (+ and -) per file")
    parser.add_argument("--changed-since", type=int, default=20, help="files changed after a round ends")
    parser.add_argument("--recordings", type=int, default=5)
    parser.add_argument("--page-loads", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repo-cache", type=Path, default=None,
                        help="keep the generated repository here and reuse it next time")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    asyncio.run(main_async(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
