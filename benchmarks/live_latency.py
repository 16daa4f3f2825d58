"""Live latency: from ``write()`` of a file to the websocket ``file`` message, and to the new line in Chromium's DOM.

    python benchmarks/live_latency.py                       # both workloads, 20,000 files, 40 samples each
    python benchmarks/live_latency.py --files 2000 --samples 10 --workload light --no-browser   # a quick look

A deterministic repository of ``--files`` files (.py/.js/.go/.md/.txt, 50-200 lines, nested directories) is
generated and committed. Workloads, left uncommitted: light (50 files changed by one line) and heavy (1,000 files,
about 40,000 changed lines). For each, the real server runs as a subprocess; one websocket client waits for the
snapshot and then times samples that alternate between a file already in the diff and a fresh (clean, tracked)
file: write() → the ``file`` message for that path carrying the new line. Then headless Chromium opens the view
and times write() → the new line's text inside that file's ``[data-path]`` element (a MutationObserver records
the time). Figures are printed against the targets with PASS/MISS; the exit code is 0 either way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchlib import (
    ROOT,
    Server,
    SocketReader,
    Summary,
    benchmark_repo,
    change_files,
    edit_line,
    file_message_for,
    git_shortstat,
    open_socket,
    py_spy,
    read_lines,
    repo_paths,
    reset_repo,
    run_server,
    until_highlighted,
    verdict,
    write_lines,
)

from tests.chromium import CHROMIUM, CHROMIUM_ARGS

TARGET_SOCKET_MS = {"light": 30.0, "heavy": 40.0}
TARGET_DOM_MS = 80.0
SAMPLE_TIMEOUT_S = 10.0
SETTLE_S = 0.3
"""Quiet time before each write: longer than the watcher's debounce, so samples never coalesce."""
IDLE_S = 3.0
"""How long the server's CPU use is measured with nothing happening, before the samples."""

# Records when a frame with the armed marker reaches the page's websocket (before the app sees it).
INIT_SCRIPT = """
(() => {
  const Native = window.WebSocket;
  window.__benchSocket = null;
  window.__benchMarker = null;
  class Timed extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        const marker = window.__benchMarker;
        if (marker && window.__benchSocket === null && typeof event.data === "string" && event.data.includes(marker)) {
          window.__benchSocket = { date: Date.now(), perf: performance.now() };
        }
      });
    }
  }
  window.WebSocket = Timed;
})();
"""

FILE_ELEMENTS_JS = """
() => {
  const out = new Map();
  for (const el of document.querySelectorAll("[data-path]")) {
    if (el.tagName === "A" || el.closest("nav")) continue;
    out.set(el.dataset.path, true);
  }
  return out.size;
}
"""

LOADED_JS = "() => document.querySelector('#files [aria-busy=\"true\"]') === null"

PREPARE_JS = """
async ({ path, expect, fresh }) => {
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
  const fileElements = () => [...document.querySelectorAll("[data-path]")].filter(
    (el) => el.tagName !== "A" && !el.closest("nav"));
  if (fresh) {
    const before = fileElements().filter((el) => el.dataset.path < path);
    const anchor = before.length ? before[before.length - 1] : fileElements()[0];
    if (anchor) anchor.scrollIntoView({ block: "center" });
    await frame(); await frame();
    return true;
  }
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline) {
    const el = fileElements().find((e) => e.dataset.path === path);
    if (el) {
      el.scrollIntoView({ block: "start" });
      if (el.textContent.includes(expect)) { await frame(); return true; }
    }
    await frame();
  }
  return false;
}
"""

ARM_JS = """
({ path, marker, timeoutMs }) => {
  const selector = `[data-path="${CSS.escape(path)}"]`;
  const found = () => {
    for (const el of document.querySelectorAll(selector)) if (el.textContent.includes(marker)) return true;
    return false;
  };
  window.__benchSocket = null;
  window.__benchMarker = marker;
  window.__bench = new Promise((resolve) => {
    let timer = 0;
    const observer = new MutationObserver(() => {
      if (!found()) return;
      const seen = { date: Date.now(), perf: performance.now() };
      observer.disconnect();
      clearTimeout(timer);
      const done = (frame) => resolve({ ...seen, frame, origin: performance.timeOrigin, socket: window.__benchSocket });
      const fallback = setTimeout(() => done(null), 1000);
      requestAnimationFrame(() => { clearTimeout(fallback); done(performance.now()); });
    });
    observer.observe(document.documentElement, { subtree: true, childList: true, characterData: true });
    timer = setTimeout(() => { observer.disconnect(); resolve(null); }, timeoutMs);
  });
}
"""


@dataclass
class Plan:
    """What a workload changed and what the samples may touch."""

    name: str
    modified: list[str]
    edit_at: dict[str, int]
    current: dict[str, str]
    """The marker currently on each path's edited line."""
    fresh: list[str]
    in_diff: set[str] = field(default_factory=set)


@dataclass
class Sample:
    kind: str
    path: str
    ms: float | None


@dataclass
class DomSample:
    kind: str
    path: str
    dom_ms: float | None
    frame_ms: float | None = None
    socket_ms: float | None = None


def make_plan(root: Path, name: str, files: int, count: int, changed: int, seed: int) -> Plan:
    paths = repo_paths(files)
    rng = random.Random(f"{seed}:{name}")
    chosen = rng.sample(paths, count)
    chosen_set = set(chosen)
    rest = [p for p in paths if p not in chosen_set]
    rng.shuffle(rest)
    indices = change_files(root, chosen, changed, seed, name)
    edit_at = {p: idx[0] for p, idx in indices.items()}
    current: dict[str, str] = {}
    for path in chosen:
        lines = read_lines(root, path)
        current[path] = lines[edit_at[path]]
    rng.shuffle(chosen)
    return Plan(name, chosen, edit_at, current, rest, set(chosen))


def next_edit(root: Path, plan: Plan, index: int, phase: str) -> tuple[str, str, str, list[str], str]:
    """(kind, path, marker, new lines, text shown before) of sample ``index``: even samples edit a file already
    in the diff, odd ones a clean tracked file."""
    marker = f"bm{phase}{index:04d}x"
    if index % 2 == 0:
        kind = "modified"
        path = plan.modified[(index // 2) % len(plan.modified)]
    else:
        kind = "fresh"
        path = plan.fresh.pop()
    lines = read_lines(root, path)
    at = plan.edit_at.setdefault(path, len(lines) // 2)
    lines[at] = edit_line(Path(path).suffix, marker)
    before = plan.current.get(path, "")
    plan.current[path] = marker
    return kind, path, marker, lines, before if before.startswith("bm") else before.strip()[:40]


async def socket_phase(root: Path, plan: Plan, server: Server, samples: int, profile: Path | None,
                       verbose: bool = False) -> list[Sample]:
    async with open_socket(server.ws_url) as reader:
        start = time.perf_counter()
        await reader.until_type("hello", 120)
        snap = await reader.until_type("snapshot", 600)
        files = len(json.loads(snap.text)["files"])
        print(f"  snapshot: {files} files, {len(snap.text) / 1e6:.2f} MB, {snap.at - start:.2f} s after connect")
        count, last = await until_highlighted(reader, snap)
        if count:
            print(f"  settled: {count} follow-up messages (background highlighting), all highlighted "
                  f"{last - start:.2f} s after connect")
        result: list[Sample] = []
        idle = await idle_cpu(server, reader)
        cpu0, t0_all = server.cpu_s(), time.perf_counter()
        with py_spy(server.pid, profile):
            for i in range(samples):
                kind, path, marker, lines, _ = next_edit(root, plan, i, "s")
                await reader.quiet(SETTLE_S)
                t0 = time.perf_counter()
                write_lines(root, path, lines)
                ms: float | None = None
                while True:
                    left = t0 + SAMPLE_TIMEOUT_S - time.perf_counter()
                    item = await reader.next(max(left, 0.0))
                    if item is None:
                        break
                    if file_message_for(item, path, marker):
                        ms = (item.at - t0) * 1000
                        break
                plan.in_diff.add(path)
                result.append(Sample(kind, path, ms))
                if verbose:
                    print(f"    socket sample {i:3d} {kind:<8} {'—' if ms is None else f'{ms:6.1f} ms'}  {path}")
        cpu1 = server.cpu_s()
        if idle is not None and cpu0 is not None and cpu1 is not None and samples:
            busy = (cpu1 - cpu0 - idle * (time.perf_counter() - t0_all)) / samples
            print(f"  server CPU: {idle * 100:.1f} % of a core while idle; {busy * 1000:.1f} ms per save beyond that "
                  f"(server and git)")
        return result


async def idle_cpu(server: Server, reader: SocketReader) -> float | None:
    """The server's CPU seconds per second while nothing changes (the watcher's polling, timers)."""
    await reader.quiet(SETTLE_S)
    before, start = server.cpu_s(), time.perf_counter()
    await reader.quiet(IDLE_S, IDLE_S)
    after = server.cpu_s()
    if before is None or after is None:
        return None
    return (after - before) / (time.perf_counter() - start)


async def dom_phase(root: Path, plan: Plan, url: str, samples: int, verbose: bool = False) -> list[DomSample] | str:
    """DOM samples, or a message saying why there are none."""
    try:
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import async_playwright
    except ImportError:
        return "playwright is not installed (pip install playwright); no DOM figures"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing; no DOM figures"
    errors: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
            page.on("console", lambda msg: errors.append(f"console {msg.type}: {msg.text}")
                    if msg.type == "error" else None)
            await page.add_init_script(INIT_SCRIPT)
            start = time.perf_counter()
            await page.goto(url)
            expected = len(plan.in_diff)
            try:
                await page.wait_for_function(f"(expected) => ({FILE_ELEMENTS_JS})() >= expected", arg=expected,
                                             timeout=120_000, polling=50)
            except PlaywrightError:
                shown = await page.evaluate(FILE_ELEMENTS_JS)
                detail = "; ".join(errors[:5]) or "no page errors"
                return (f"the page did not render its files ({shown} of {expected} [data-path] elements after "
                        f"120 s; {detail}): DOM figures skipped")
            print(f"  page: {expected} file elements rendered {time.perf_counter() - start:.2f} s after goto")
            # A big snapshot is streamed: let the rest of it arrive (no section still loading) before sampling,
            # so that the samples time updates, not the end of the page load.
            await page.wait_for_function(LOADED_JS, timeout=120_000, polling=50)
            print(f"  page: every streamed file arrived {time.perf_counter() - start:.2f} s after goto")
            result: list[DomSample] = []
            for i in range(samples):
                kind, path, marker, lines, expect = next_edit(root, plan, i, "d")
                ready = await page.evaluate(PREPARE_JS, {"path": path, "expect": expect, "fresh": kind == "fresh"})
                if not ready:
                    print(f"  sample {i}: {path} did not show its lines before the write; skipped")
                    continue
                await asyncio.sleep(SETTLE_S)
                await page.evaluate(ARM_JS, {"path": path, "marker": marker, "timeoutMs": SAMPLE_TIMEOUT_S * 1000})
                wall_ms = time.time() * 1000
                write_lines(root, path, lines)
                seen: dict[str, Any] | None = await page.evaluate("window.__bench")
                plan.in_diff.add(path)
                if seen is None:
                    result.append(DomSample(kind, path, None))
                    continue
                origin = float(seen["origin"])
                socket = seen.get("socket")
                sample = DomSample(
                    kind, path,
                    dom_ms=float(seen["date"]) - wall_ms,
                    frame_ms=origin + float(seen["frame"]) - wall_ms if seen.get("frame") is not None else None,
                    socket_ms=float(socket["date"]) - wall_ms if socket else None,
                )
                result.append(sample)
                if verbose:
                    print(f"    DOM sample {i:3d} {kind:<8} socket {sample.socket_ms or 0:6.1f} ms, "
                          f"DOM {sample.dom_ms or 0:6.1f} ms  {path}")
            if errors:
                print(f"  page reported {len(errors)} errors, first: {errors[0]}")
            return result
        finally:
            await browser.close()


def report_socket(name: str, samples: list[Sample]) -> Summary | None:
    ok = [s.ms for s in samples if s.ms is not None]
    lost = len(samples) - len(ok)
    summary = Summary.of(ok)
    print(f"\n  socket latency, {name}: write() → `file` message")
    for kind in ("modified", "fresh"):
        part = Summary.of([s.ms for s in samples if s.kind == kind and s.ms is not None])
        if part:
            print(f"    {kind:<9} {part.line()}")
    if summary:
        print(f"    {'all':<9} {summary.line()}")
    if lost:
        print(f"    {lost} samples got no matching message within {SAMPLE_TIMEOUT_S:.0f} s")
    target = TARGET_SOCKET_MS[name]
    p95 = summary.p95 if summary and not lost else None
    print(f"    target p95 ≤ {target:.0f} ms: {verdict(p95, target)}"
          + (f" (p95 {summary.p95:.1f} ms)" if summary else ""))
    return summary


def report_dom(name: str, samples: list[DomSample]) -> Summary | None:
    print(f"\n  DOM latency, {name}: write() → new line's text in the file's element")
    dom = [s.dom_ms for s in samples if s.dom_ms is not None]
    lost = len(samples) - len(dom)
    for label, values in (
        ("frame at page socket", [s.socket_ms for s in samples if s.socket_ms is not None]),
        ("in DOM (modified)", [s.dom_ms for s in samples if s.kind == "modified" and s.dom_ms is not None]),
        ("in DOM (fresh)", [s.dom_ms for s in samples if s.kind == "fresh" and s.dom_ms is not None]),
        ("in DOM (all)", dom),
        ("next frame (all)", [s.frame_ms for s in samples if s.frame_ms is not None]),
    ):
        part = Summary.of(values)
        if part:
            print(f"    {label:<21} {part.line()}")
    if lost:
        print(f"    {lost} samples: the line did not appear within {SAMPLE_TIMEOUT_S:.0f} s")
    summary = Summary.of(dom)
    p95 = summary.p95 if summary and not lost else None
    print(f"    target p95 ≤ {TARGET_DOM_MS:.0f} ms: {verdict(p95, TARGET_DOM_MS)}"
          + (f" (p95 {summary.p95:.1f} ms)" if summary else ""))
    return summary


WORKLOADS = {"light": (50, 1), "heavy": (1000, 40)}
"""name → (files changed, changed lines per file)."""


async def run_workload(name: str, root: Path, args: argparse.Namespace, log_dir: Path) -> list[str]:
    count, per_file = WORKLOADS[name]
    count = args.light_files if name == "light" else args.heavy_files
    count = min(count, args.files // 2)
    print(f"\n== workload {name}: {count} files changed, {per_file} changed line(s) each ==")
    reset_repo(root)
    plan = make_plan(root, name, args.files, count, per_file, args.seed)
    print(f"  git diff --shortstat: {git_shortstat(root)}")
    verdicts: list[str] = []
    async with run_server(root, log_dir, args.project) as server:
        print(f"  server pid {server.pid}: {server.url}")
        profile = args.profile / f"{name}-socket.speedscope.json" if args.profile else None
        samples = await socket_phase(root, plan, server, args.samples, profile, args.verbose)
        summary = report_socket(name, samples)
        verdicts.append(f"socket p95 {name}: " + (f"{summary.p95:.1f} ms" if summary else "—") + " → "
                        + verdict(summary.p95 if summary else None, TARGET_SOCKET_MS[name]))
        if args.no_browser:
            return verdicts
        dom = await dom_phase(root, plan, server.url, args.dom_samples or args.samples, args.verbose)
        if isinstance(dom, str):
            print(f"\n  DOM: {dom}")
            verdicts.append(f"DOM p95 {name}: — → MISS (page did not render)")
        else:
            dsum = report_dom(name, dom)
            verdicts.append(f"DOM p95 {name}: " + (f"{dsum.p95:.1f} ms" if dsum else "—") + " → "
                            + verdict(dsum.p95 if dsum else None, TARGET_DOM_MS))
        mem = server.memory_kb()
        print(f"\n  server memory: peak RSS {mem.get('VmHWM', 0) / 1024:.0f} MB")
    return verdicts


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=20_000, help="files in the generated repository")
    parser.add_argument("--samples", type=int, default=40, help="socket samples per workload (≥ 40 for the targets)")
    parser.add_argument("--dom-samples", type=int, default=0, help="DOM samples per workload (default: --samples)")
    parser.add_argument("--workload", choices=("light", "heavy", "both"), default="both")
    parser.add_argument("--light-files", type=int, default=50, help="files changed in the light workload")
    parser.add_argument("--heavy-files", type=int, default=1000, help="files changed in the heavy workload")
    parser.add_argument("--no-browser", action="store_true", help="socket figures only")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verbose", action="store_true", help="print every sample")
    parser.add_argument("--repo-cache", type=Path, default=None,
                        help="keep the generated repository here and reuse it next time")
    parser.add_argument("--project", type=Path, default=ROOT,
                        help="the backloop checkout to run the server from (default: this one)")
    parser.add_argument("--profile", type=Path, default=None,
                        help="directory for py-spy profiles of the server during the socket samples")
    return parser.parse_args(argv)


async def main_async(args: argparse.Namespace) -> None:
    names = ["light", "heavy"] if args.workload == "both" else [args.workload]
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    print(f"live latency: {args.files} files, {args.samples} samples, workloads {', '.join(names)}")
    verdicts: list[str] = []
    with tempfile.TemporaryDirectory(prefix="backloop-bench-logs-") as logs, \
            benchmark_repo(args.files, args.seed, args.repo_cache) as root:
        for name in names:
            verdicts += await run_workload(name, root, args, Path(logs))
    print("\n== summary ==")
    for line in verdicts:
        print(f"  {line}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.samples < 40:
        print(f"note: {args.samples} samples (< 40): a quick run, not a measurement of the targets", file=sys.stderr)
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
