"""Soak: ``--minutes`` (10) of random edits, comments and reconnects against one ``backloop-mcp`` process (the
agent's MCP server, which also serves the review page), on loopback, with bounded loops.

``--people`` (4) websocket clients comment on files of the live review and edit files in the page; now and then one
drops its connection (sometimes right after sending a comment, before the ack) and reconnects, resending what was
never acknowledged, as the page does. The agent, an MCP client on the process's stdio, waits in ``await_comments``,
now and then gives up on a call midway, and resolves most of what it gets with a reply; meanwhile it rewrites files
of the work tree. Loops are bounded: a fixed set of files of bounded size, a fixed number of clients, paced actions.
A prober in a process of its own pings the server every 100 ms.

Figures:
- RSS growth of the server process: the median of the last minute against the median of the minute after the
  warm-up (the first 10 %, at least 30 s);
- event-loop lag: ping → pong round trips on loopback (p50, p99, max);
- lost and duplicated messages: a comment acked to a person but never delivered to the agent, or missing from a
  fresh snapshot at the end (lost), delivered twice or stored twice for one client_id (duplicated); the same for
  edits (by a marker line each one adds) and for the agent's replies (in the threads at the end); and a connected
  page whose comments do not converge to that fresh snapshot (lost).

Targets: zero lost, zero duplicated, RSS growth under 10 %, loop lag p99 under 50 ms. Prints PASS/MISS per target
and exits 0 either way (figures, not assertions).

    python benchmarks/soak.py [--minutes 10] [--people 4] [--seed 1] [--verbose] [--stalls FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
from benchlib import ROOT, percentile, print_table, verdict
from mcp import Client as McpClient
from mcp import StdioServerParameters
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

TARGET_RSS_GROWTH = 0.10
TARGET_LAG_P99_S = 0.050
FILES = 24
LINES = 40
PING_EVERY_S = 0.1
RSS_EVERY_S = 2.0
DRAIN_S = 60.0
URL = re.compile(r"http://127\.0\.0\.1:\d+/review/[0-9a-f]+/view\?\S+")
EDIT_MARKER = re.compile(r"^\+# edit (\S+)$", re.M)
Message = dict[str, Any]


# ---- the repository ----------------------------------------------------------------------------------------------


def path_of(n: int) -> str:
    return f"src/module_{n}.py"


def file_text(n: int, version: int) -> str:
    """Bounded content: LINES lines, of which a few depend on the version."""
    lines = [f'"""Module {n}."""', ""]
    for k in range(LINES - 2):
        value = version * 31 + k if (k + version) % 7 == 0 else k
        lines.append(f"value_{k} = {value}  # line {k} of module {n}")
    return "\n".join(lines) + "\n"


def git(root: Path, *args: str) -> None:
    env = dict(os.environ, GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    subprocess.run(["git", "-c", "user.name=soak", "-c", "user.email=soak@example.invalid", *args], cwd=root,
                   env=env, check=True, capture_output=True)


def make_repo(root: Path) -> None:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    for n in range(FILES):
        (root / path_of(n)).parent.mkdir(parents=True, exist_ok=True)
        (root / path_of(n)).write_text(file_text(n, 0))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    for n in range(FILES):
        (root / path_of(n)).write_text(file_text(n, 1))


# ---- what happened -----------------------------------------------------------------------------------------------


@dataclass
class Ledger:
    comments_sent: dict[str, str] = field(default_factory=dict)
    """client_id → body (each body names its client_id)."""
    comments_acked: dict[str, str] = field(default_factory=dict)
    """client_id → comment id."""
    ack_mismatch: int = 0
    """A client_id acked twice with different ids (stored twice)."""
    comments_refused: set[str] = field(default_factory=set)
    """client_ids answered with an error (the person is told; not lost)."""
    edits_acked: set[str] = field(default_factory=set)
    edit_conflicts: int = 0
    delivered: Counter[str] = field(default_factory=Counter)
    edits_delivered: Counter[str] = field(default_factory=Counter)
    replies: dict[str, str] = field(default_factory=dict)
    """The agent's reply bodies → comment id."""
    errors: Counter[str] = field(default_factory=Counter)
    rtts: list[tuple[float, float]] = field(default_factory=list)
    rss: list[tuple[float, int]] = field(default_factory=list)
    cpu: list[tuple[float, float, float]] = field(default_factory=list)
    """(time, the server's own CPU seconds, its finished children's: git)."""
    load: list[float] = field(default_factory=list)
    """The machine's 1-minute load average."""
    reconnects: int = 0
    drops_in_flight: int = 0
    agent_calls: int = 0
    cancelled_calls: int = 0
    agent_writes: int = 0


# ---- the people --------------------------------------------------------------------------------------------------


class Person:
    """A page: comments and edits with client ids, an outbox of unacknowledged messages resent after a reconnect."""

    def __init__(self, name: str, url: str, ledger: Ledger, rng: random.Random) -> None:
        self.name = name
        self.url = url
        self.ledger = ledger
        self.rng = rng
        self.outbox: dict[str, Message] = {}
        self.markers: dict[str, str] = {}
        self.files: set[str] = set()
        self.comments: dict[str, Message] = {}
        self.requests: dict[str, asyncio.Future[Message]] = {}
        self.snapshot = asyncio.Event()
        self.changed = asyncio.Event()
        """Set after every message received."""
        self.count = 0

    def _next(self, kind: str) -> str:
        self.count += 1
        return f"{self.name}-{kind}{self.count}"

    def _apply(self, message: Message) -> None:
        kind = message["type"]
        if kind == "snapshot":
            self.files = {f["path"] for f in message["files"]}
            self.comments = {c["id"]: c for c in message.get("comments", [])}
            self.snapshot.set()
        elif kind == "file":
            self.files.add(message["file"]["path"])
        elif kind == "file_removed":
            self.files.discard(message["path"])
        elif kind == "comment":
            self.comments[message["comment"]["id"]] = message["comment"]
        elif kind == "file_content" or (kind == "error" and message.get("request_id")):
            future = self.requests.pop(message.get("request_id", ""), None)
            if future is not None and not future.done():
                future.set_result(message)
        if kind in ("ack", "error") and message.get("client_id"):
            self._settle(message)

    def _settle(self, message: Message) -> None:
        client_id = message["client_id"]
        sent = self.outbox.pop(client_id, None)
        if sent is None:
            return  # the answer to a resend of something already settled
        if message["type"] == "ack":
            if sent["type"] == "comment":
                first = self.ledger.comments_acked.setdefault(client_id, message["id"])
                if first != message["id"]:
                    self.ledger.ack_mismatch += 1
            elif sent["type"] == "edit":
                self.ledger.edits_acked.add(self.markers[client_id])
        elif message["code"] == "edit_conflict":
            self.ledger.edit_conflicts += 1
        else:
            self.ledger.errors[message["code"]] += 1
            if sent["type"] == "comment":
                self.ledger.comments_refused.add(client_id)

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for frame in ws:
                self._apply(json.loads(frame))
                self.changed.set()

    async def run(self, acting: asyncio.Event, done: asyncio.Event) -> None:
        """Act while ``acting`` is set; stay connected (resending) until ``done``."""
        while not done.is_set():
            self.snapshot.clear()
            try:
                async with connect(self.url, max_size=None, ping_interval=None, open_timeout=30) as ws:
                    reader = asyncio.create_task(self._read(ws))
                    try:
                        await asyncio.wait_for(self.snapshot.wait(), 30)
                        for message in list(self.outbox.values()):
                            await ws.send(json.dumps(message))
                        if await self._act(ws, acting, done):
                            continue  # reconnect
                        await done.wait()
                    finally:
                        reader.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await reader
            except (ConnectionClosed, OSError, TimeoutError) as exc:
                self.ledger.errors[f"connection: {type(exc).__name__}"] += 1

    async def _act(self, ws: ClientConnection, acting: asyncio.Event, done: asyncio.Event) -> bool:
        """Random actions until a reconnect is drawn (True) or acting stops (False)."""
        while acting.is_set():
            await asyncio.sleep(self.rng.uniform(0.4, 1.2))
            if not acting.is_set():
                break
            draw = self.rng.random()
            if draw < 0.45:
                await self._comment(ws)
            elif draw < 0.75:
                await self._edit(ws)
            elif draw < 0.85:
                self.ledger.reconnects += 1
                if self.rng.random() < 0.5 and await self._comment(ws):
                    self.ledger.drops_in_flight += 1  # closed right after sending, before any ack
                await ws.close()
                return True
        return False

    async def _send(self, ws: ClientConnection, message: Message) -> None:
        self.outbox[message["client_id"]] = message
        await ws.send(json.dumps(message))

    async def _comment(self, ws: ClientConnection) -> bool:
        if not self.files:
            return False
        client_id = self._next("c")
        body = f"soak comment {client_id}"
        message: Message = {"type": "comment", "client_id": client_id, "path": self.rng.choice(sorted(self.files)),
                            "body": body}
        if self.rng.random() < 0.5:
            message["line"] = self.rng.randint(1, 10)
        self.ledger.comments_sent[client_id] = body
        await self._send(ws, message)
        return True

    async def _edit(self, ws: ClientConnection) -> None:
        editable = sorted(p for p in self.files if p.startswith("src/"))
        if not editable:
            return
        path = self.rng.choice(editable)
        request_id = self._next("o")
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self.requests[request_id] = future
        await ws.send(json.dumps({"type": "open_file", "request_id": request_id, "path": path}))
        try:
            opened = await asyncio.wait_for(future, 30)
        except TimeoutError:
            self.ledger.errors["open_file: no answer"] += 1
            return
        if opened["type"] != "file_content":
            self.ledger.errors[f"open_file: {opened.get('code')}"] += 1
            return
        await asyncio.sleep(self.rng.uniform(0.0, 1.5))  # the person types; the agent may write the file meanwhile
        client_id = self._next("e")
        marker = client_id
        self.markers[client_id] = marker
        await self._send(ws, {"type": "edit", "client_id": client_id, "path": path, "base_hash": opened["hash"],
                              "content": opened["content"] + f"# edit {marker}\n"})


async def until(people: list[Person], done: Callable[[], bool], limit_s: float) -> bool:
    """Wait until ``done()`` (checked whenever one of ``people`` receives something), at most ``limit_s``."""
    deadline = time.monotonic() + limit_s
    while not done():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        for p in people:
            p.changed.clear()
        waits = [asyncio.create_task(p.changed.wait()) for p in people]
        await asyncio.wait(waits, timeout=min(left, 1.0), return_when=asyncio.FIRST_COMPLETED)
        for w in waits:
            w.cancel()
    return True


# ---- the agent ---------------------------------------------------------------------------------------------------


class Agent:
    def __init__(self, mcp: McpClient, review_id: str, root: Path, ledger: Ledger, rng: random.Random) -> None:
        self.mcp = mcp
        self.review_id = review_id
        self.root = root
        self.ledger = ledger
        self.rng = rng
        self.versions = [1] * FILES
        self.replied = 0

    def _take(self, result: Any) -> list[str]:
        content = result.structured_content
        if result.is_error or content is None:
            self.ledger.errors[f"await_comments: {result.content}"] += 1
            return []
        fresh = []
        for item in content["items"]:
            if item["type"] == "edit":
                for marker in EDIT_MARKER.findall(item.get("diff") or ""):
                    self.ledger.edits_delivered[marker] += 1
            elif item["comment_id"]:
                self.ledger.delivered[item["comment_id"]] += 1
                fresh.append(item["comment_id"])
        return fresh

    async def _call(self, wait_s: float) -> list[str]:
        self.ledger.agent_calls += 1
        return self._take(await self.mcp.call_tool("await_comments", {"review_id": self.review_id,
                                                                      "timeout_seconds": wait_s}))

    async def _resolve(self, comment_ids: list[str]) -> None:
        for comment_id in comment_ids:
            if self.rng.random() < 0.7:
                self.replied += 1
                body = f"soak reply {self.replied}"
                result = await self.mcp.call_tool("resolve_comment", {"comment_id": comment_id, "reply": body})
                if result.is_error:
                    self.ledger.errors["resolve_comment"] += 1
                else:
                    self.ledger.replies[body] = comment_id

    async def review(self, acting: asyncio.Event) -> None:
        while acting.is_set():
            if self.rng.random() < 0.15:  # gives up on the call midway
                fresh: list[str] = []
                with anyio.move_on_after(self.rng.uniform(0.0, 1.0)) as scope:
                    fresh = await self._call(5)
                if scope.cancelled_caught:
                    self.ledger.cancelled_calls += 1
            else:
                fresh = await self._call(3)
            await self._resolve(fresh)

    async def edit_files(self, acting: asyncio.Event) -> None:
        while acting.is_set():
            await asyncio.sleep(self.rng.uniform(0.15, 0.45))
            n = self.rng.randrange(FILES)
            self.versions[n] += 1
            text = file_text(n, self.versions[n])
            await asyncio.to_thread((self.root / path_of(n)).write_text, text)
            self.ledger.agent_writes += 1

    async def drain(self, ledger: Ledger) -> None:
        """Wait in await_comments until every acked comment and edit was delivered (or DRAIN_S passes)."""
        deadline = time.monotonic() + DRAIN_S
        while time.monotonic() < deadline:
            missing = (set(ledger.comments_acked.values()) - set(ledger.delivered)) or (
                ledger.edits_acked - set(ledger.edits_delivered))
            if not missing:
                break
            await self._resolve(await self._call(min(5.0, max(deadline - time.monotonic(), 0.1))))
        await self._call(0.5)  # anything delivered a second time would show here


# ---- probes ------------------------------------------------------------------------------------------------------


def prober(url: str, results: Connection, stop: EventType) -> None:
    """Ping → pong round trips every PING_EVERY_S, from a process of its own (so that the clients' work in this
    one does not count as server lag); sends back [(monotonic time, round trip)] once ``stop`` is set."""
    rtts: list[tuple[float, float]] = []

    async def run() -> None:
        n = 0
        while not stop.is_set():
            with contextlib.suppress(ConnectionClosed, OSError, TimeoutError):
                async with connect(url, max_size=None, ping_interval=None, open_timeout=30) as ws:
                    while not stop.is_set():
                        n += 1
                        nonce = f"probe-{n}"
                        sent = time.perf_counter()
                        await ws.send(json.dumps({"type": "ping", "nonce": nonce}))
                        while True:
                            message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                            if message.get("type") == "pong" and message.get("nonce") == nonce:
                                break
                        rtts.append((time.monotonic(), time.perf_counter() - sent))
                        await asyncio.sleep(max(PING_EVERY_S - (time.perf_counter() - sent), 0.0))

    asyncio.run(run())
    results.send(rtts)
    results.close()


def server_pid() -> int | None:
    """The backloop-mcp child of this process (spawned by the MCP client)."""
    me = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            ppid = stat.rsplit(")", 1)[1].split()[1]
            if ppid == me and b"backloop" in (entry / "cmdline").read_bytes():
                return int(entry.name)
    return None


def rss_kb(pid: int) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def cpu_s(pid: int) -> tuple[float, float] | None:
    """CPU seconds (user + system) of ``pid`` itself and of its children that have exited."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / tick, (int(fields[13]) + int(fields[14])) / tick
    return None


async def sample_rss(pid: int, ledger: Ledger, stop: asyncio.Event) -> None:
    while not stop.is_set():
        value = rss_kb(pid)
        if value is not None:
            ledger.rss.append((time.monotonic(), value))
        used = cpu_s(pid)
        if used is not None:
            ledger.cpu.append((time.monotonic(), *used))
        ledger.load.append(os.getloadavg()[0])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RSS_EVERY_S)


# ---- the run -----------------------------------------------------------------------------------------------------


def mcp_params(repo: Path, state: Path, stalls: Path | None = None) -> StdioServerParameters:
    command = shutil.which("backloop-mcp")
    args: list[str] = []
    if command is None:
        command, args = sys.executable, ["-m", "backloop", "mcp"]
    tracer = str(ROOT / "benchmarks" / "stalltrace") if stalls else None
    path = os.pathsep.join(filter(None, [tracer, str(ROOT), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, BACKLOOP_STATE_DIR=str(state), GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1",
               PYTHONPATH=path)
    if stalls:
        env["BACKLOOP_STALL_LOG"] = str(stalls.resolve())
    return StdioServerParameters(command=command, args=args, cwd=str(repo), env=env)


def ws_url(page_url: str) -> str:
    parts = urlsplit(page_url)
    return f"ws://{parts.netloc}{parts.path.removesuffix('/view')}/ws?{parts.query}"


@dataclass
class Outcome:
    lost: dict[str, int]
    duplicated: dict[str, int]
    final_comments: int


async def check(url: str, ledger: Ledger, people: list[Person]) -> Outcome:
    """A fresh snapshot against the ledger, and every connected page against that snapshot."""
    fresh = Person("check", url, Ledger(), random.Random(0))
    async with connect(url, max_size=None, ping_interval=None) as ws:
        reader = asyncio.create_task(fresh._read(ws))
        await asyncio.wait_for(fresh.snapshot.wait(), 60)
        reader.cancel()
    comments = fresh.comments
    bodies = Counter(c["body"] for c in comments.values())
    replies = Counter(r["body"] for c in comments.values() for r in c.get("replies", []))
    acked_ids = set(ledger.comments_acked.values())

    def view(c: dict[str, Message]) -> dict[str, tuple[str, int]]:
        return {k: (v.get("state", "open"), len(v.get("replies", []))) for k, v in c.items()}

    await until(people, lambda: all(view(p.comments) == view(comments) for p in people), 30)
    lost = {
        "comments acked, never delivered to the agent": len(acked_ids - set(ledger.delivered)),
        "comments acked, missing from the page": len(acked_ids - set(comments)),
        "comments sent, neither stored nor refused": sum(1 for cid, body in ledger.comments_sent.items()
                                                          if bodies[body] == 0 and cid not in ledger.comments_refused),
        "edits acked, never delivered to the agent": len(ledger.edits_acked - set(ledger.edits_delivered)),
        "agent replies missing from their thread": sum(1 for body in ledger.replies if replies[body] == 0),
        "pages not converged to a fresh snapshot": sum(1 for p in people if view(p.comments) != view(comments)),
    }
    duplicated = {
        "comments delivered to the agent twice": sum(1 for n in ledger.delivered.values() if n > 1),
        "comments stored twice": sum(1 for body in ledger.comments_sent.values() if bodies[body] > 1)
        + ledger.ack_mismatch,
        "edits delivered twice": sum(1 for n in ledger.edits_delivered.values() if n > 1),
        "agent replies stored twice": sum(1 for body in ledger.replies if replies[body] > 1),
    }
    return Outcome(lost, duplicated, len(comments))


async def soak(minutes: float, people_count: int, seed: int, verbose: bool, stalls: Path | None) -> None:
    rng = random.Random(seed)
    ledger = Ledger()
    with tempfile.TemporaryDirectory(prefix="backloop-soak-") as tmp:
        root = Path(tmp) / "repo"
        make_repo(root)
        async with McpClient(mcp_params(root, Path(tmp) / "state", stalls), mode="legacy",
                             read_timeout_seconds=120) as mcp:
            await mcp.list_tools()
            started = await mcp.call_tool("startreview", {"since": "HEAD", "title": "soak"})
            assert started.structured_content is not None, started
            page = started.structured_content["url"]
            review_id = started.structured_content["review_id"]
            url = ws_url(page)
            pid = server_pid()
            print(f"soak: {minutes:g} min, {people_count} people, seed {seed}; server pid {pid}; {page}")
            acting, done, sampling = asyncio.Event(), asyncio.Event(), asyncio.Event()
            acting.set()
            spawn = multiprocessing.get_context("spawn")
            stop_probe = spawn.Event()
            rtts_in, rtts_out = spawn.Pipe(duplex=False)
            probe = spawn.Process(target=prober, args=(url, rtts_out, stop_probe), daemon=True)
            probe.start()
            agent = Agent(mcp, review_id, root, ledger, random.Random(rng.random()))
            people = [Person(f"p{k}", url, ledger, random.Random(rng.random())) for k in range(people_count)]
            tasks = [asyncio.create_task(p.run(acting, done)) for p in people]
            tasks += [asyncio.create_task(agent.review(acting)), asyncio.create_task(agent.edit_files(acting))]
            sampler = asyncio.create_task(sample_rss(pid, ledger, sampling)) if pid else None
            start = time.monotonic()
            end = start + minutes * 60
            while time.monotonic() < end:
                await asyncio.sleep(min(10.0, max(end - time.monotonic(), 0.0)))
                if verbose:
                    elapsed = time.monotonic() - start
                    rss = ledger.rss[-1][1] / 1024 if ledger.rss else 0.0
                    print(f"  {elapsed:6.0f} s  comments {len(ledger.comments_acked)}  edits {len(ledger.edits_acked)}"
                          f"  conflicts {ledger.edit_conflicts}  reconnects {ledger.reconnects}"
                          f"  delivered {len(ledger.delivered)}  rss {rss:.1f} MB", flush=True)
            acting.clear()
            stop_probe.set()
            if await asyncio.to_thread(rtts_in.poll, 60):
                ledger.rtts = rtts_in.recv()
            sampling.set()
            # Let the people's outboxes empty (their last messages acked), then the agent catch up.
            await until(people, lambda: not any(p.outbox for p in people), DRAIN_S)
            unanswered = sum(len(p.outbox) for p in people)
            await asyncio.gather(*tasks[people_count:])
            await agent.drain(ledger)
            outcome = await check(url, ledger, people)
            done.set()
            await asyncio.gather(*tasks[:people_count])
            if sampler is not None:
                await sampler
            probe.join(30)
    report(ledger, outcome, minutes, start, unanswered)


def report(ledger: Ledger, outcome: Outcome, minutes: float, start: float, unanswered: int) -> None:
    warm_up = max(30.0, minutes * 60 * 0.10)
    samples = [(t - start, kb) for t, kb in ledger.rss]
    base = [kb for t, kb in samples if warm_up <= t < warm_up + 60] or [kb for _, kb in samples[:1]]
    last = [kb for t, kb in samples if t >= samples[-1][0] - 60] if samples else []
    growth = (statistics.median(last) - statistics.median(base)) / statistics.median(base) if base and last else None
    rtts = [r for t, r in ledger.rtts if t - start >= warm_up] or [r for _, r in ledger.rtts]
    p99 = percentile(rtts, 99) if rtts else None
    lost = sum(outcome.lost.values()) + unanswered
    duplicated = sum(outcome.duplicated.values())
    print(f"\nactivity over {minutes:g} min:")
    print(f"  comments: {len(ledger.comments_sent)} sent, {len(ledger.comments_acked)} acked, "
          f"{len(ledger.comments_refused)} refused with an error, "
          f"{outcome.final_comments} in the review at the end, {len(ledger.delivered)} delivered to the agent")
    print(f"  edits in the page: {len(ledger.edits_acked)} applied, {ledger.edit_conflicts} refused as conflicts; "
          f"agent file writes: {ledger.agent_writes}; agent replies: {len(ledger.replies)}")
    print(f"  reconnects: {ledger.reconnects} ({ledger.drops_in_flight} right after sending a comment); "
          f"await_comments calls: {ledger.agent_calls} ({ledger.cancelled_calls} given up midway)")
    print(f"  other errors: {dict(ledger.errors) or 'none'}; unanswered at the end: {unanswered}")
    if samples:
        top = max(kb for _, kb in samples) / 1024
        print(f"  server RSS: {statistics.median(base) / 1024:.1f} MB after the warm-up ({warm_up:.0f} s), "
              f"{statistics.median(last) / 1024:.1f} MB in the last minute, max {top:.1f} MB ({len(samples)} samples)")
    cpu = [(t - start, own, children) for t, own, children in ledger.cpu if t - start >= warm_up]
    if len(cpu) >= 2:
        span = cpu[-1][0] - cpu[0][0]
        print(f"  server CPU after the warm-up: {100 * (cpu[-1][1] - cpu[0][1]) / span:.0f} % of a core, its git "
              f"children {100 * (cpu[-1][2] - cpu[0][2]) / span:.0f} %")
    if ledger.load:
        print(f"  load average (1 min) during the run: median {statistics.median(ledger.load):.1f}, "
              f"{min(ledger.load):.1f}-{max(ledger.load):.1f}")
    if rtts:
        print(f"  ping round trip: p50 {1000 * statistics.median(rtts):.1f} ms, "
              f"p95 {1000 * percentile(rtts, 95):.1f} ms, p99 {1000 * (p99 or 0):.1f} ms, "
              f"max {1000 * max(rtts):.1f} ms ({len(rtts)} samples)")
    for name, count in {**outcome.lost, **outcome.duplicated}.items():
        if count:
            print(f"  {name}: {count}")
    print("\ntargets:")
    print_table(["figure", "value", "target", "verdict"], [
        ["lost messages", str(lost), "0", "PASS" if lost == 0 else "MISS"],
        ["duplicated messages", str(duplicated), "0", "PASS" if duplicated == 0 else "MISS"],
        ["server RSS growth", "n/a" if growth is None else f"{100 * growth:.1f} %",
         f"< {100 * TARGET_RSS_GROWTH:.0f} %", verdict(growth, TARGET_RSS_GROWTH)],
        ["loop lag p99 (ping RTT)", "n/a" if p99 is None else f"{1000 * p99:.1f} ms",
         f"< {1000 * TARGET_LAG_P99_S:.0f} ms", verdict(p99, TARGET_LAG_P99_S)],
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to run (default 10)")
    parser.add_argument("--people", type=int, default=4, help="websocket clients acting as people (default 4)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verbose", action="store_true", help="print progress every 10 s")
    parser.add_argument("--stalls", type=Path, metavar="FILE",
                        help="trace the server's event-loop stalls into FILE (benchmarks/stalltrace; sum them up "
                             "with benchmarks/stalls.py FILE)")
    args = parser.parse_args()
    asyncio.run(soak(args.minutes, args.people, args.seed, args.verbose, args.stalls))


if __name__ == "__main__":
    main()
