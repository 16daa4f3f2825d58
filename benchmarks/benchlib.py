"""Shared parts of the benchmarks: a deterministic generated repository, the real server as a subprocess, a
websocket reader that timestamps every message, headless Chromium, and the statistics we print.

Nothing here is collected by pytest; the scripts beside it import it (``python benchmarks/<script>.py``). The
scripts that drive Chromium take its path and flags from tests/chromium.py, as the browser tests do (the checkout
is importable once installed with ``pip install -e``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
"""The project checkout the server is started from."""


# ---- the generated repository -------------------------------------------------------------------------------

EXTENSIONS: tuple[tuple[str, float], ...] = ((".py", 0.30), (".js", 0.25), (".go", 0.20), (".md", 0.15),
                                             (".txt", 0.10))
_TOP = ("src", "lib", "internal", "web", "docs", "tools", "services", "pkg")
_WORDS = ("alpha", "build", "cache", "delta", "event", "frame", "graph", "index", "join", "kernel", "layer",
          "merge", "node", "order", "parse", "query", "route", "store", "token", "update", "value", "watch",
          "render", "stream", "buffer", "client", "server", "review", "commit", "branch", "patch", "hunk")
_GIT_ENV = {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
            "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid",
            "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z"}


def _ident(rng: random.Random) -> str:
    return f"{rng.choice(_WORDS)}_{rng.choice(_WORDS)}"


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(_WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _py_block(rng: random.Random) -> list[str]:
    name, arg, other = _ident(rng), _ident(rng), _ident(rng)
    kind = rng.randrange(3)
    if kind == 0:
        return [f"def {name}({arg}: int, {other}: str = \"{rng.choice(_WORDS)}\") -> int:",
                f"    \"\"\"{_sentence(rng, 6)}\"\"\"",
                f"    result = {arg} * {rng.randrange(2, 99)} + len({other})",
                f"    if result > {rng.randrange(100, 9999)}:",
                f"        return {name}_fallback(result)  # {rng.choice(_WORDS)}",
                "    return result", ""]
    if kind == 1:
        return [f"class {name.title().replace('_', '')}:",
                f"    {arg}: list[str] = []", "",
                f"    def {other}(self, value: float) -> dict[str, float]:",
                f"        return {{\"{rng.choice(_WORDS)}\": value / {rng.randrange(2, 50)}}}", ""]
    return [f"{name.upper()} = {{\"{arg}\": {rng.randrange(1000)}, \"{other}\": [{rng.randrange(9)}, "
            f"{rng.randrange(9)}]}}", ""]


def _js_block(rng: random.Random) -> list[str]:
    name, arg, other = _ident(rng), _ident(rng), _ident(rng)
    if rng.randrange(2):
        return [f"export function {name}({arg}, {other}) {{",
                f"  const total = {arg}.length + {rng.randrange(1, 99)};",
                f"  if (total > {rng.randrange(10, 999)}) {{",
                f"    return `{rng.choice(_WORDS)}: ${{{other}}}`;",
                "  }",
                f"  return {arg}.map((item) => item * {rng.randrange(2, 9)});",
                "}", ""]
    return [f"// {_sentence(rng, 7)}",
            f"const {name} = {{ {arg}: {rng.randrange(1000)}, {other}: \"{rng.choice(_WORDS)}\" }};", ""]


def _go_block(rng: random.Random) -> list[str]:
    name, arg = _ident(rng).title().replace("_", ""), _ident(rng)
    return [f"// {name} {_sentence(rng, 5).lower()}",
            f"func {name}({arg} int) (int, error) {{",
            f"\tif {arg} < {rng.randrange(1, 99)} {{",
            f"\t\treturn 0, fmt.Errorf(\"{rng.choice(_WORDS)} %d\", {arg})",
            "\t}",
            f"\treturn {arg} * {rng.randrange(2, 9)}, nil",
            "}", ""]


def _md_block(rng: random.Random) -> list[str]:
    if rng.randrange(4) == 0:
        return [f"## {_sentence(rng, 3)[:-1]}", ""]
    if rng.randrange(3) == 0:
        return [f"- {_sentence(rng, 5)}", f"- `{_ident(rng)}` {_sentence(rng, 4)}", ""]
    return [_sentence(rng, rng.randrange(8, 16)), _sentence(rng, rng.randrange(6, 14)), ""]


def _txt_block(rng: random.Random) -> list[str]:
    return [_sentence(rng, rng.randrange(5, 14)) for _ in range(rng.randrange(1, 4))] + [""]


_HEADERS = {".py": ["from __future__ import annotations", "", "import os", ""],
            ".js": ["import { strict as assert } from \"node:assert\";", ""],
            ".go": ["package main", "", "import \"fmt\"", ""],
            ".md": ["# Notes", ""], ".txt": []}
_BLOCKS = {".py": _py_block, ".js": _js_block, ".go": _go_block, ".md": _md_block, ".txt": _txt_block}


def source_lines(rng: random.Random, ext: str, count: int) -> list[str]:
    lines = list(_HEADERS[ext])
    while len(lines) < count:
        lines.extend(_BLOCKS[ext](rng))
    return lines[:count]


def edit_line(ext: str, marker: str) -> str:
    """One changed line in the style of a file, containing ``marker`` (an identifier-like token)."""
    if ext == ".py":
        return f"    {marker} = compute_value({len(marker)}, \"edited\")  # changed"
    if ext == ".js":
        return f"  const {marker} = computeValue({len(marker)}, \"edited\"); // changed"
    if ext == ".go":
        return f"\t{marker} := computeValue({len(marker)}) // changed"
    return f"Edited line {marker} for the benchmark."


FILES_PER_DIR = 15
LAYOUT_VERSION = 2
"""Bumped whenever the generated content changes, so that cached repositories are made again."""


def repo_paths(files: int) -> list[str]:
    """The generated repository's paths, in creation order: ``FILES_PER_DIR`` files per leaf directory, three
    levels deep (20,000 files: about 1,450 directories)."""
    rng = random.Random(f"paths:{files}")
    weights = [w for _, w in EXTENSIONS]
    exts = [e for e, _ in EXTENSIONS]
    paths = []
    for i in range(files):
        d = i // FILES_PER_DIR
        top = _TOP[d % len(_TOP)]
        mid = _WORDS[(d // len(_TOP)) % 12]
        leaf = f"{_WORDS[12 + (d // 96) % 10]}{d // 96}"
        ext = rng.choices(exts, weights)[0]
        paths.append(f"{top}/{mid}/{leaf}/{rng.choice(_WORDS)}_{i}{ext}")
    return paths


def _git(root: Path, *args: str, capture: bool = False) -> str:
    env = {**os.environ, **_GIT_ENV}
    result = subprocess.run(["git", *args], cwd=root, env=env, check=True, text=True,
                            stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
    return result.stdout if capture else ""


def generate_repo(root: Path, files: int, seed: int) -> None:
    """Write and commit ``files`` files of 50-200 lines each (deterministic for a seed)."""
    root.mkdir(parents=True, exist_ok=True)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "core.autocrlf", "false")
    _git(root, "config", "gc.auto", "0")
    for path in repo_paths(files):
        rng = random.Random(f"{seed}:{path}")
        full = root / path
        full.parent.mkdir(parents=True, exist_ok=True)
        ext = Path(path).suffix
        full.write_text("\n".join(source_lines(rng, ext, rng.randrange(50, 201))) + "\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "Generated repository")
    _git(root, "repack", "-adq")


@contextlib.contextmanager
def benchmark_repo(files: int, seed: int, cache: Path | None) -> Iterator[Path]:
    """A clean generated repository: from ``cache`` when it holds one (reset to HEAD), else made now."""
    if cache is not None:
        root = cache / f"repo-v{LAYOUT_VERSION}-{files}-{seed}"
        stamp = root / ".git" / "bench-complete"
        if not stamp.exists():
            shutil.rmtree(root, ignore_errors=True)
            _timed(f"generating {files} files in {root}", lambda: generate_repo(root, files, seed))
            stamp.write_text("ok\n")
        reset_repo(root)
        yield root
        reset_repo(root)
        return
    with tempfile.TemporaryDirectory(prefix="backloop-bench-") as tmp:
        root = Path(tmp) / "repo"
        _timed(f"generating {files} files", lambda: generate_repo(root, files, seed))
        yield root


def _timed(what: str, work: Any) -> None:
    print(f"  {what}…", end="", flush=True)
    start = time.perf_counter()
    work()
    print(f" {time.perf_counter() - start:.1f} s", flush=True)


def reset_repo(root: Path) -> None:
    _git(root, "reset", "-q", "--hard", "HEAD")
    _git(root, "clean", "-q", "-fdx")


def read_lines(root: Path, path: str) -> list[str]:
    return (root / path).read_text().split("\n")[:-1]


def write_lines(root: Path, path: str, lines: Sequence[str]) -> None:
    """One open/write/close, as an editor's plain save does."""
    data = ("\n".join(lines) + "\n").encode()
    fd = os.open(root / path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def change_files(root: Path, paths: Sequence[str], changed_lines: int, seed: int, tag: str) -> dict[str, list[int]]:
    """Rewrite ``paths`` so that each shows about ``changed_lines`` changed lines (additions + deletions):
    blocks of replaced lines spread through the file, plus appended lines where the file is too short.
    Returns the indices of the replaced (or added) lines per path."""
    result: dict[str, list[int]] = {}
    for n, path in enumerate(paths):
        rng = random.Random(f"{seed}:{tag}:{path}")
        ext = Path(path).suffix
        lines = read_lines(root, path)
        replace = min(max(changed_lines // 2, 1), len(lines) // 2) if changed_lines > 1 else 1
        added = max(changed_lines - 2 * replace, 0) if changed_lines > 1 else 0
        block = 1 if replace == 1 else 5 if replace <= 20 else 10
        blocks = math.ceil(replace / block)
        stride = len(lines) // blocks
        indices: list[int] = []
        for b in range(blocks):
            start = b * stride + min(3, stride - block) if stride > block else b * stride
            indices.extend(range(start, min(start + block, len(lines))))
        indices = indices[:replace]
        have = set(lines)
        pool = [ln for ln in source_lines(rng, ext, 4 * (replace + added) + 40)
                if len(ln.strip()) >= 16 and ln not in have]
        fresh = (pool * (1 + (replace + added) // max(len(pool), 1)))[: replace + added]
        for k, idx in enumerate(indices):
            lines[idx] = fresh[k]
            if ext in (".py", ".js", ".go") and k == 0:
                lines[idx] = edit_line(ext, f"{tag}_{n}")
        for k in range(added):
            indices.append(len(lines))
            lines.append(fresh[replace + k])
        write_lines(root, path, lines)
        result[path] = indices
    return result


def git_shortstat(root: Path) -> str:
    return _git(root, "diff", "--shortstat", "HEAD", capture=True).strip()


# ---- the server ---------------------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    log: Path

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http").replace("/view?", "/ws?", 1)

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_s(self) -> float | None:
        """CPU seconds used so far by the server process and its children it has waited for (git), or None
        where /proc is missing. Unlike latencies, this hardly depends on what else the machine is doing."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime

    def memory_kb(self) -> dict[str, int]:
        """VmHWM (peak RSS) and VmRSS of the server process, in kB."""
        out: dict[str, int] = {}
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in ("VmHWM", "VmRSS"):
                    out[key] = int(value.split()[0])
        return out


@contextlib.asynccontextmanager
async def run_server(repo: Path, log_dir: Path, project: Path = ROOT,
                     start_s: float = 60.0) -> AsyncIterator[Server]:
    """``python -m backloop server --repo REPO --port 0`` run from the checkout ``project``, until the block ends
    (SIGTERM, then SIGKILL)."""
    log = log_dir / f"server-{time.strftime('%H%M%S')}-{time.perf_counter_ns()}.log"
    process = _spawn(repo, log, project)
    try:
        try:
            url = await asyncio.wait_for(asyncio.to_thread(_read_url, process), start_s)
        except RuntimeError as exc:
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            raise RuntimeError(f"{exc}: " + " | ".join(tail)) from None
        yield Server(process, url, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, 10)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)
        if process.stdout:
            process.stdout.close()


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the benchmark dies, so that no server outlives it (Linux only)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _spawn(repo: Path, log: Path, project: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(project), os.environ.get("PYTHONPATH")]))}
    with open(log, "w") as err:
        return subprocess.Popen([sys.executable, "-m", "backloop", "server", "--repo", str(repo), "--port", "0"],
                                cwd=project, env=env, stdout=subprocess.PIPE, stderr=err, text=True,
                                preexec_fn=_die_with_parent if sys.platform == "linux" else None)


def _read_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("http"):
            return line.strip()
    raise RuntimeError(f"the server exited (code {process.wait()}) without printing its URL")


@contextlib.contextmanager
def py_spy(pid: int, out: Path | None, rate: int = 250) -> Iterator[None]:
    """Sample ``pid`` with py-spy (when ``out`` is given) while the block runs; writes a speedscope profile."""
    if out is None:
        yield
        return
    exe = shutil.which("py-spy")
    if exe is None:
        print("  py-spy is not installed (pip install py-spy): not profiling")
        yield
        return
    proc = subprocess.Popen([exe, "record", "--pid", str(pid), "--rate", str(rate), "--nonblocking",
                             "--format", "speedscope", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)  # let it attach
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        print(f"  profile written to {out}" if out.exists() else f"  py-spy failed: {err.strip()[-300:]}")


# ---- the websocket client -----------------------------------------------------------------------------------


@dataclass
class Received:
    at: float
    """time.perf_counter() when the frame was handed to us."""
    text: str

    @property
    def type(self) -> str:
        # msgspec writes the tag first: {"type":"file",...}
        end = self.text.find('"', 9)
        return self.text[9:end] if self.text.startswith('{"type":"') else ""


@dataclass
class SocketReader:
    """Reads one websocket continuously and timestamps every message as it arrives."""

    ws: ClientConnection
    queue: asyncio.Queue[Received] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    closed: bool = False

    def start(self) -> None:
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                text = message if isinstance(message, str) else message.decode()
                self.queue.put_nowait(Received(time.perf_counter(), text))
        finally:
            self.closed = True

    async def next(self, wait_s: float) -> Received | None:
        try:
            return await asyncio.wait_for(self.queue.get(), wait_s)
        except TimeoutError:
            return None

    async def until_type(self, kind: str, limit_s: float) -> Received:
        deadline = time.perf_counter() + limit_s
        while True:
            left = deadline - time.perf_counter()
            item = await self.next(max(left, 0.0))
            if item is None:
                raise TimeoutError(f"no {kind!r} message within {limit_s:.0f} s")
            if item.type == kind:
                return item

    async def quiet(self, for_s: float, limit_s: float = 600.0) -> tuple[int, float | None]:
        """Drain until no message arrives for ``for_s``; returns (messages drained, time of the last one)."""
        count = 0
        last: float | None = None
        deadline = time.perf_counter() + limit_s
        while time.perf_counter() < deadline:
            item = await self.next(for_s)
            if item is None:
                break
            count += 1
            last = item.at
        return count, last


async def until_highlighted(reader: SocketReader, snapshot: Received, limit_s: float = 900.0) -> tuple[int, float]:
    """Drain ``file`` messages until every file the snapshot sent unhighlighted came again highlighted, then
    until quiet; returns (messages drained, time of the last highlighted one)."""
    pending = {f["path"] for f in json.loads(snapshot.text)["files"] if not f.get("highlighted", True)}
    count = 0
    last = snapshot.at
    deadline = time.perf_counter() + limit_s
    while pending and time.perf_counter() < deadline:
        item = await reader.next(deadline - time.perf_counter())
        if item is None:
            break
        count += 1
        if item.type == "file":
            file = json.loads(item.text)["file"]
            if file.get("highlighted", True):
                pending.discard(file["path"])
                last = item.at
    more, _ = await reader.quiet(1.0)
    return count + more, last


@contextlib.asynccontextmanager
async def open_socket(url: str) -> AsyncIterator[SocketReader]:
    async with connect(url, max_size=None, compression=None, ping_interval=None, open_timeout=120) as ws:
        reader = SocketReader(ws)
        reader.start()
        try:
            yield reader
        finally:
            if reader.task:
                reader.task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader.task


def file_message_for(item: Received, path: str, marker: str) -> bool:
    """Whether ``item`` is a ``file`` message for ``path`` whose diff contains ``marker``."""
    if item.type != "file" or marker not in item.text or json.dumps(path) not in item.text:
        return False
    message = json.loads(item.text)
    file = message.get("file", {})
    return bool(file.get("path") == path)


# ---- statistics ---------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(math.ceil(q / 100 * len(ordered)), 1)
    return ordered[rank - 1]


@dataclass(frozen=True)
class Summary:
    n: int
    median: float
    p95: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary | None:
        if not values:
            return None
        return cls(len(values), statistics.median(values), percentile(values, 95), min(values), max(values))

    def line(self, unit: str = "ms") -> str:
        return (f"n={self.n:<3} median {self.median:7.1f} {unit}   p95 {self.p95:7.1f} {unit}   "
                f"min {self.low:7.1f}   max {self.high:7.1f}")


def verdict(value: float | None, target: float) -> str:
    if value is None:
        return "MISS (no figure)"
    return "PASS" if value <= target else "MISS"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("  " + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  " + "  ".join("-" * w for w in widths))
    for row in rows:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
