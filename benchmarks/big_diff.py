"""A big change: 1,000 files / 100,000 changed lines. Time to snapshot, time to first file painted, DOM size, RSS.

    python benchmarks/big_diff.py                    # 3 runs, 20,000-file repository
    python benchmarks/big_diff.py --runs 1 --files 3000 --no-browser      # a quick look

Each run starts the real server afresh (so the first view is computed cold) and measures:
- snapshot: websocket connect → ``snapshot`` received (and its size); then until the background highlighting's
  ``file`` messages stop; then a second connect to the now warm view (a reload);
- in headless Chromium on the warm view: navigation start → the first ``[data-path]`` element showing its diff
  lines inside the viewport (MutationObserver, then the next animation frame: ``performance.now()``), the DOM
  node count once loading settles and after scrolling to the bottom, and the longest task on the main thread;
  the first paint is taken from ``--page-loads`` loads, each in a fresh browser context (nothing cached), and
  the run's figure is their median (one load alone swings by ±100 ms on a busy machine);
- the same first paint on a reload of that page (its modules and styles come from the browser's cache), and on a
  second fresh server (cold view: the page waits for the diff to be computed);
- the server's peak RSS (``VmHWM``).
Medians over the runs are printed against the targets (PASS/MISS); the exit code is 0 either way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchlib import (
    ROOT,
    benchmark_repo,
    change_files,
    git_shortstat,
    open_socket,
    print_table,
    py_spy,
    read_lines,
    repo_paths,
    reset_repo,
    run_server,
    until_highlighted,
    verdict,
)

from tests.chromium import CHROMIUM, CHROMIUM_ARGS

TARGET_SNAPSHOT_S = 1.5
TARGET_FIRST_PAINT_S = 0.5

FIRST_PAINT_JS = """
(() => {
  const expected = __EXPECTED__;
  const state = { firstDom: null, firstPaint: null, path: null, longTasks: [], snapshotAt: null };
  window.__bp = state;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        const data = event.data;
        if (state.snapshotAt === null && typeof data === "string" && data.startsWith('{"type":"snapshot"')) {
          state.snapshotAt = performance.now();
        }
      });
    }
  };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) state.longTasks.push([e.startTime, e.duration]);
    }).observe({ type: "longtask", buffered: true });
  } catch (e) { /* no long task timing here */ }
  const painted = () => {
    for (const el of document.querySelectorAll("[data-path]")) {
      if (el.tagName === "A" || el.closest("nav")) continue;
      const want = expected[el.dataset.path];
      if (!want || !el.textContent.includes(want)) continue;
      const box = el.getBoundingClientRect();
      if (box.height > 0 && box.bottom > 0 && box.top < innerHeight) return el.dataset.path;
    }
    return null;
  };
  const observer = new MutationObserver(() => {
    const path = painted();
    if (path === null) return;
    observer.disconnect();
    state.firstDom = performance.now();
    state.path = path;
    requestAnimationFrame(() => { state.firstPaint = performance.now(); });
  });
  observer.observe(document, { subtree: true, childList: true, characterData: true });
})();
"""

NODES_JS = "() => document.getElementsByTagName('*').length"

SCROLL_JS = """
async ({ viewports, stepMs }) => {
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
  const nodes = () => document.getElementsByTagName("*").length;
  const atBottom = () => innerHeight + scrollY >= document.documentElement.scrollHeight - 2;
  const start = performance.now();
  let most = nodes(), steps = 0, worst = 0, last = start;
  while (!atBottom() && performance.now() - start < stepMs) {
    scrollBy(0, innerHeight * viewports);
    await frame();
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
    most = Math.max(most, nodes());
    steps += 1;
  }
  const stepped = atBottom();
  for (let i = 0; i < 100 && !(atBottom() && i > 2); i++) {
    scrollTo(0, document.documentElement.scrollHeight);
    await frame(); await frame();
    most = Math.max(most, nodes());
  }
  const height = document.documentElement.scrollHeight;
  return { steps, most, ms: performance.now() - start, worstFrame: worst, height, stepped, reached: atBottom() };
}
"""


@dataclass
class Run:
    snapshot_s: float | None = None
    snapshot_mb: float | None = None
    snapshot_files: int | None = None
    snapshot_highlighted: int | None = None
    highlighted_s: float | None = None
    followups: int | None = None
    warm_snapshot_s: float | None = None
    warm_snapshot_mb: float | None = None
    first_paint_s: float | None = None
    first_paints_s: list[float] = field(default_factory=list)
    reload_paint_s: float | None = None
    first_dom_s: float | None = None
    page_snapshot_s: float | None = None
    cold_first_paint_s: float | None = None
    nodes_loaded: int | None = None
    nodes_bottom: int | None = None
    nodes_most: int | None = None
    longest_task_ms: float | None = None
    scroll_s: float | None = None
    worst_frame_ms: float | None = None
    peak_rss_mb: float | None = None
    notes: list[str] = field(default_factory=list)


async def measure_socket(url: str, run: Run) -> None:
    start = time.perf_counter()
    async with open_socket(url) as reader:
        await reader.until_type("hello", 300)
        snap = await reader.until_type("snapshot", 600)
        run.snapshot_s = snap.at - start
        run.snapshot_mb = len(snap.text.encode()) / 1e6
        files = json.loads(snap.text)["files"]
        run.snapshot_files = len(files)
        run.snapshot_highlighted = sum(1 for f in files if f.get("highlighted", True))
        count, last = await until_highlighted(reader, snap)
        run.followups = count
        run.highlighted_s = last - start
    start = time.perf_counter()
    async with open_socket(url) as reader:
        snap = await reader.until_type("snapshot", 600)
        run.warm_snapshot_s = snap.at - start
        run.warm_snapshot_mb = len(snap.text.encode()) / 1e6


async def open_page(context: Any, url: str, expected: dict[str, str], errors: list[str] | None = None) -> Any:
    """A new page of ``context`` navigating to ``url`` with the first-paint probe installed (page errors go to
    ``errors``)."""
    page = await context.new_page()
    if errors is not None:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.add_init_script(FIRST_PAINT_JS.replace("__EXPECTED__", json.dumps(expected)))
    await page.goto(url, wait_until="commit")
    return page


async def painted(page: Any) -> float:
    """Seconds from navigation to the first file painted, once the probe has seen it."""
    await page.wait_for_function("() => window.__bp && window.__bp.firstPaint !== null", timeout=120_000, polling=50)
    return float(await page.evaluate("window.__bp.firstPaint")) / 1000


async def measure_page(browser: Any, url: str, expected: dict[str, str], run: Run, cold: bool,
                       scroll_viewports: float) -> None:
    from playwright.async_api import Error as PlaywrightError

    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        errors: list[str] = []
        page = await open_page(context, url, expected, errors)
        try:
            await painted(page)
        except PlaywrightError as exc:
            errors.append(str(exc).splitlines()[0])
            shown = await page.evaluate("document.querySelectorAll('[data-path]').length")
            run.notes.append(f"{'cold' if cold else 'warm'} page: no file with its lines painted within 120 s "
                             f"({shown} [data-path] elements; {'; '.join(errors[:3]) or 'no page errors'})")
            return
        state = await page.evaluate("window.__bp")
        if cold:
            run.cold_first_paint_s = float(state["firstPaint"]) / 1000
            return
        run.first_paint_s = float(state["firstPaint"]) / 1000
        run.first_dom_s = float(state["firstDom"]) / 1000
        if state.get("snapshotAt") is not None:
            run.page_snapshot_s = float(state["snapshotAt"]) / 1000
        run.nodes_loaded = await _settled_nodes(page)
        state = await page.evaluate("window.__bp")
        loading_tasks = [d for _, d in state["longTasks"]]
        scroll = await page.evaluate(SCROLL_JS, {"viewports": scroll_viewports, "stepMs": 30_000})
        run.nodes_bottom = await _settled_nodes(page)
        run.nodes_most = int(scroll["most"])
        run.scroll_s = float(scroll["ms"]) / 1000
        if not scroll["stepped"]:
            run.notes.append(f"stepped {scroll['steps']} frames in {run.scroll_s:.0f} s without reaching the bottom "
                             f"of a {scroll['height']} px page, then jumped there"
                             + ("" if scroll["reached"] else " (and still did not reach it)"))
        run.worst_frame_ms = float(scroll["worstFrame"])
        state = await page.evaluate("window.__bp")
        run.longest_task_ms = max([d for _, d in state["longTasks"]] or [0.0])
        await page.reload(wait_until="commit")  # (the init script runs again: a fresh window.__bp)
        run.reload_paint_s = await painted(page)
        run.notes.append(f"the reload painted first at scroll position {await page.evaluate('scrollY'):.0f} px")
        if loading_tasks:
            run.notes.append(f"long tasks while loading: {len(loading_tasks)}, longest {max(loading_tasks):.0f} ms")
        if errors:
            run.notes.append(f"page errors: {'; '.join(errors[:3])}")
    finally:
        await context.close()


async def more_first_paints(browser: Any, url: str, expected: dict[str, str], count: int) -> list[float]:
    """First paint of ``count`` more loads of the page, each in a fresh context."""
    paints: list[float] = []
    for _ in range(count):
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            paints.append(await painted(await open_page(context, url, expected)))
        finally:
            await context.close()
    return paints


async def _settled_nodes(page: Any, stable_s: float = 1.0, limit_s: float = 60.0) -> int:
    """The DOM node count once it has not changed for ``stable_s``."""
    start = time.perf_counter()
    last = -1
    since = time.perf_counter()
    while time.perf_counter() - start < limit_s:
        count = int(await page.evaluate(NODES_JS))
        if count != last:
            last, since = count, time.perf_counter()
        elif time.perf_counter() - since >= stable_s:
            break
        await asyncio.sleep(0.1)
    return last


def make_change(root: Path, args: argparse.Namespace) -> dict[str, str]:
    """Change ``--changed-files`` files by ``--lines-per-file`` lines; returns path → text of its first changed line."""
    paths = repo_paths(args.files)
    chosen = sorted(random.Random(f"{args.seed}:big").sample(paths, min(args.changed_files, len(paths))))
    indices = change_files(root, chosen, args.lines_per_file, args.seed, "big")
    expected: dict[str, str] = {}
    for path in chosen:
        lines = read_lines(root, path)
        text = next((lines[i].strip() for i in indices[path] if lines[i].strip()), "")
        if text:
            expected[path] = text[:40]
    return expected


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def report(runs: list[Run]) -> None:
    rows: list[tuple[str, list[float | None], str, float | None]] = [
        ("snapshot, cold view (s)", [r.snapshot_s for r in runs], ".2f", TARGET_SNAPSHOT_S),
        ("snapshot size (MB)", [r.snapshot_mb for r in runs], ".1f", None),
        ("files in snapshot", [float(r.snapshot_files) if r.snapshot_files is not None else None for r in runs],
         ".0f", None),
        ("  of which highlighted", [float(r.snapshot_highlighted) if r.snapshot_highlighted is not None else None
                                    for r in runs], ".0f", None),
        ("all highlighted, after connect (s)", [r.highlighted_s for r in runs], ".2f", None),
        ("follow-up file messages", [float(r.followups) if r.followups is not None else None for r in runs], ".0f",
         None),
        ("snapshot, warm view / reload (s)", [r.warm_snapshot_s for r in runs], ".2f", TARGET_SNAPSHOT_S),
        ("  its size, highlighted (MB)", [r.warm_snapshot_mb for r in runs], ".1f", None),
        ("snapshot at the page, first load (s)", [r.page_snapshot_s for r in runs], ".3f", None),
        ("first file in DOM, first load (s)", [r.first_dom_s for r in runs], ".3f", None),
        ("first file painted, warm view (s)", [r.first_paint_s for r in runs], ".3f", TARGET_FIRST_PAINT_S),
        ("  slowest of the run's loads (s)", [max(r.first_paints_s, default=None) for r in runs], ".3f", None),
        ("first file painted, reload (s)", [r.reload_paint_s for r in runs], ".3f", None),
        ("first file painted, cold view (s)", [r.cold_first_paint_s for r in runs], ".3f", None),
        ("DOM nodes after load", [float(r.nodes_loaded) if r.nodes_loaded is not None else None for r in runs],
         ".0f", None),
        ("DOM nodes at the bottom", [float(r.nodes_bottom) if r.nodes_bottom is not None else None for r in runs],
         ".0f", None),
        ("DOM nodes, most while scrolling", [float(r.nodes_most) if r.nodes_most is not None else None
                                             for r in runs], ".0f", None),
        ("scrolling (s; stepped ≤ 30 s, then jumped)", [r.scroll_s for r in runs], ".1f", None),
        ("worst frame while scrolling (ms)", [r.worst_frame_ms for r in runs], ".0f", None),
        ("longest main-thread task (ms)", [r.longest_task_ms for r in runs], ".0f", None),
        ("server peak RSS (MB)", [r.peak_rss_mb for r in runs], ".0f", None),
    ]
    table = []
    for name, values, spec, target in rows:
        med = _median(values)
        table.append([name, *(_fmt(v, spec) for v in values), _fmt(med, spec),
                      "" if target is None else f"≤ {target:g}: {verdict(med, target)}"])
    print()
    print_table(["figure", *(f"run {i + 1}" for i in range(len(runs))), "median", "target"], table)
    for i, r in enumerate(runs):
        for note in r.notes:
            print(f"  run {i + 1}: {note}")


async def one_run(index: int, root: Path, args: argparse.Namespace, expected: dict[str, str], logs: Path,
                  browser: Any) -> Run:
    run = Run()
    print(f"\n-- run {index + 1}/{args.runs}")
    async with run_server(root, logs, args.project) as server:
        profile = args.profile / f"big-diff-run{index + 1}.speedscope.json" if args.profile else None
        with py_spy(server.pid, profile):
            await measure_socket(server.ws_url, run)
        print(f"  snapshot {_fmt(run.snapshot_s, '.2f')} s, {_fmt(run.snapshot_mb, '.1f')} MB; all highlighted "
              f"{_fmt(run.highlighted_s, '.2f')} s; reload {_fmt(run.warm_snapshot_s, '.2f')} s")
        if browser is not None:
            async with open_socket(server.ws_url) as keep:  # keeps the view alive while the page loads
                await keep.until_type("snapshot", 600)
                await keep.quiet(1.0)  # (the rest of its snapshot, streamed: not while the page loads)
                await measure_page(browser, server.url, expected, run, cold=False,
                                   scroll_viewports=args.scroll_step)
                if run.first_paint_s is not None:
                    run.first_paints_s = [run.first_paint_s, *await more_first_paints(
                        browser, server.url, expected, args.page_loads - 1)]
                    run.first_paint_s = statistics.median(run.first_paints_s)
            print(f"  first paint {_fmt(run.first_paint_s, '.3f')} s (median of {len(run.first_paints_s)} loads: "
                  f"{', '.join(f'{v:.3f}' for v in run.first_paints_s)}); nodes {run.nodes_loaded} after load, "
                  f"{run.nodes_bottom} at the bottom")
        mem = server.memory_kb()
        run.peak_rss_mb = mem["VmHWM"] / 1024 if "VmHWM" in mem else None
    if browser is not None and not args.no_cold_page:
        async with run_server(root, logs, args.project) as server:
            await measure_page(browser, server.url, expected, run, cold=True, scroll_viewports=args.scroll_step)
        print(f"  first paint on a cold server {_fmt(run.cold_first_paint_s, '.3f')} s")
    return run


async def main_async(args: argparse.Namespace) -> None:
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    print(f"big diff: {args.changed_files} files x {args.lines_per_file} changed lines in a repository of "
          f"{args.files} files, {args.runs} runs")
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="backloop-bench-logs-") as logs, \
            benchmark_repo(args.files, args.seed, args.repo_cache) as root:
        reset_repo(root)
        expected = make_change(root, args)
        print(f"  git diff --shortstat: {git_shortstat(root)}")
        browser: Any = None
        pw_cm: Any = None
        if not args.no_browser:
            try:
                from playwright.async_api import async_playwright
            except ImportError:
                print("  playwright is not installed: no page figures")
            else:
                pw_cm = async_playwright()
                pw = await pw_cm.__aenter__()
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for i in range(args.runs):
                runs.append(await one_run(i, root, args, expected, Path(logs), browser))
        finally:
            if browser is not None:
                await browser.close()
            if pw_cm is not None:
                await pw_cm.__aexit__(None, None, None)
    report(runs)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--files", type=int, default=20_000, help="files in the generated repository")
    parser.add_argument("--changed-files", type=int, default=1000)
    parser.add_argument("--lines-per-file", type=int, default=100, help="changed lines (+ and -) per file")
    parser.add_argument("--no-browser", action="store_true", help="socket and memory figures only")
    parser.add_argument("--no-cold-page", action="store_true", help="skip first paint against a cold server")
    parser.add_argument("--page-loads", type=int, default=7,
                        help="page loads per run (fresh contexts) that the warm view's first paint is the median of")
    parser.add_argument("--scroll-step", type=float, default=8.0, help="viewports scrolled per frame")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repo-cache", type=Path, default=None,
                        help="keep the generated repository here and reuse it next time")
    parser.add_argument("--project", type=Path, default=ROOT,
                        help="the backloop checkout to run the server from (default: this one)")
    parser.add_argument("--profile", type=Path, default=None,
                        help="directory for py-spy profiles of the server while the snapshot is computed")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    asyncio.run(main_async(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
