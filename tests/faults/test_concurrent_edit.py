"""The agent rewrites a file (many times, from a thread) while the person saves edits of it over the websocket:
every edit is either applied (ack) or refused with ``edit_conflict``; the file only ever holds one of the versions
written, whole, never a mix or a truncation, and ends as one of them; no temporary file is left behind.

Rounds alternate: the agent paused (the edit must be applied), the agent writing between ``open_file`` and
``edit`` (it must be refused), and the agent writing flat out during the whole round (either, as the race goes).
The agent saves atomically (write a temp file, rename it over: what editors and most agents do) or in place
(truncate and write; a reader may then see a partial file, which the agent itself wrote)."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.conftest import Env, answer, start
from tests.support import TIMEOUT_S, Message, receive_until

BODY = "".join(f"line {n} of a file long enough that a partial write shows\n" for n in range(300))
ROUNDS = 24


class AgentWriter:
    """Writes versions of ``path`` from its own thread; ``versions`` are all contents ever written to it."""

    def __init__(self, path: Path, atomic: bool) -> None:
        self.path = path
        self.atomic = atomic
        self.count = 0
        self.versions: set[bytes] = set()
        self.lock = threading.Lock()
        self.writing = threading.Lock()
        self.racing = threading.Event()
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def write_one(self) -> None:
        with self.writing:
            self._write_one()

    def pause(self) -> None:
        """Stop racing; returns once no write is under way."""
        self.racing.clear()
        with self.writing:
            pass

    def _write_one(self) -> None:
        with self.lock:
            self.count += 1
            data = f"a = 1\nb = {self.count}\nc = 3\n# agent version {self.count}\n{BODY}".encode()
            self.versions.add(data)
        if self.atomic:
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".agent-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, self.path)
        else:
            with open(self.path, "wb") as fh:
                fh.write(data[: len(data) // 2])
                fh.flush()
                fh.write(data[len(data) // 2 :])

    def _run(self) -> None:
        while not self.stop.is_set():
            if self.racing.wait(0.05):
                try:
                    with self.writing:
                        if self.racing.is_set():
                            self._write_one()
                except OSError as exc:  # (never expected: the server only ever renames over the file)
                    self.errors.append(repr(exc))


class Reader:
    """Reads the file over and over from its own thread and keeps what it saw that was no known version."""

    def __init__(self, path: Path, agent: AgentWriter, person: set[bytes]) -> None:
        self.path = path
        self.agent = agent
        self.person = person
        self.unknown: list[bytes] = []
        self.reads = 0
        self.stop = threading.Event()
        self.active = threading.Event()
        """Reads only while a round is under way (a spinning reader would slow the server down)."""
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            if not self.active.wait(0.05):
                continue
            data = self.path.read_bytes()
            self.reads += 1
            with self.agent.lock:  # (versions are added before they are written)
                if data not in self.agent.versions and data not in self.person:
                    self.unknown.append(data)


def answers(request_id: str) -> Callable[[Message], bool]:
    return lambda m: m.get("request_id") == request_id


@pytest.mark.parametrize("atomic", [True, False], ids=["atomic", "in_place"])
def test_agent_and_person_edit_the_same_file(env: Env, atomic: bool) -> None:
    path = env.repo.root / "app.py"
    agent = AgentWriter(path, atomic)
    agent.write_one()
    person_versions: set[bytes] = set()
    reader = Reader(path, agent, person_versions)
    outcomes: dict[str, list[str]] = {"paused": [], "between": [], "racing": []}
    agent.thread.start()
    if atomic:
        reader.thread.start()
    try:
        with env.connect() as ws:
            start(ws)
            for n in range(ROUNDS):
                kind = ("paused", "between", "racing")[n % 3]
                reader.active.set()
                if kind == "racing":
                    agent.racing.set()
                ws.send_json({"type": "open_file", "request_id": f"o{n}", "path": "app.py"})
                opened, _ = receive_until(ws, answers(f"o{n}"))
                assert opened["type"] == "file_content", opened
                content = opened["content"] + f"# person edit {n}\n"
                if kind == "between":
                    agent.write_one()
                with agent.lock:
                    person_versions.add(content.encode())
                edit: Message = {"type": "edit", "client_id": f"e{n}", "path": "app.py",
                                 "base_hash": opened["hash"], "content": content}
                ws.send_json(edit)
                result = answer(ws, f"e{n}")
                agent.pause()
                reader.active.clear()
                outcomes[kind].append(result["type"] if result["type"] == "ack" else result["code"])
    finally:
        agent.stop.set()
        reader.stop.set()
        agent.thread.join(TIMEOUT_S)
        if atomic:
            reader.thread.join(TIMEOUT_S)

    assert not agent.errors
    assert set(outcomes["paused"]) == {"ack"}, outcomes
    assert set(outcomes["between"]) == {"edit_conflict"}, outcomes
    assert set(outcomes["racing"]) <= {"ack", "edit_conflict"}, outcomes
    final = path.read_bytes()
    assert final in agent.versions | person_versions, "the file is not one of the versions written"
    if atomic:
        assert reader.reads > 0 and reader.unknown == [], "a reader saw a mix or a truncation"
    leftovers = [p.name for p in path.parent.iterdir() if p.name.startswith(".app.py.")]
    assert leftovers == [], leftovers
    # The page converges to the file as it ended.
    final_lines = final.decode().splitlines()[:4]
    with env.connect() as page:
        snapshot = start(page)
        current = {f["path"]: f for f in snapshot["files"]}.get("app.py")

        def shows_final(file: Message) -> bool:
            new = [ln["text"] for h in file["hunks"] for ln in h["lines"] if ln["kind"] != "del"]
            return new[:4] == final_lines

        if current is None or not shows_final(current):
            receive_until(page, lambda m: m["type"] == "file" and m["file"]["path"] == "app.py"
                          and shows_final(m["file"]))
