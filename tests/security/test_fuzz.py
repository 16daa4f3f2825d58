"""Protocol fuzzing over a real websocket: thousands of generated and mutated client frames (wrong types, huge
strings, deep nesting, unknown types and fields, broken JSON, invalid UTF-8, binary frames) and frames past the size
limit. Every frame gets its answer (an ``error`` with a documented code, or the reply a valid request gets) or a
close with a documented code; afterwards the server is up, a client connected all along is unaffected, and every
stored entry was acknowledged and is well-formed (nothing half-written)."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backloop.config import DATABASE
from backloop.protocol import (
    CLOSE_BAD_VIEW,
    CLOSE_FORBIDDEN,
    CLOSE_UNKNOWN_REVIEW,
    ClientMessage,
    CommentMsg,
    DeleteCommentMsg,
    EditCommentMsg,
    Expand,
    LoadFile,
    OpenFile,
    Ping,
    ProtocolError,
    ReplyMsg,
    SetViewedMsg,
    decode_client,
)
from backloop.review.entry import Entry, threads
from backloop.review.model import Comment
from backloop.review.store import _entry as entry_of_row
from backloop.web.serve import MAX_CLIENT_FRAME
from tests.security.conftest import Backloop, Client, send_oversized_frame
from tests.support import ROOT, GitRepo, Message, init_repo

DOCS = ROOT / "docs" / "protocol.md"
DIFF_PATH = "a.txt"
KNOWN = "<a comment id>"
"""In generated messages: the id of a comment acknowledged earlier in the run (so replies and resolves can land)."""
FRESH = "<a fresh client id>"
"""In generated messages: a client_id used once (so each answer can be told apart)."""
MIN_FRAMES = 1_500

settings.register_profile(
    "security-fuzz",
    max_examples=80,
    deadline=None,  # a real server over a real socket: latency follows the machine's load
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
FUZZ = settings.get_profile("security-fuzz")


def documented(heading: str) -> set[str]:
    """The codes in the first column of the table under ``heading`` in docs/protocol.md."""
    section = DOCS.read_text().split(heading, 1)[1].split("\n#", 1)[0]
    return set(re.findall(r"^\| `?(\w+)`? \|", section, re.M)) - {"code"}


ERROR_CODES = documented("### `error`")
CLOSE_CODES = {int(c) for c in documented("## Close codes")}


# ---- what is sent --------------------------------------------------------------------------------------------

scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats() | st.text(max_size=30))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=10)
texts = st.text(max_size=24)
odd_paths = ["missing.txt", "../a.txt", "/etc/passwd", ".git/config", "", "a.txt\0", "a.txt/", "./a.txt", "A.TXT"]
paths = st.just(DIFF_PATH) | st.just(DIFF_PATH) | st.sampled_from(odd_paths) | texts
bodies = st.sampled_from(["", " ", "\n\t ", "Looks fine.", "<img src=x onerror=alert(1)>", "x" * 65_537]) | texts
numbers = (st.none() | st.integers(min_value=-3, max_value=40)
           | st.sampled_from([0, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1]))
comment_ids = st.just(KNOWN) | texts
client_ids = st.just(FRESH) | st.just(FRESH) | st.sampled_from(["", "same", "fuzz-1"])
"""Mostly fresh (so that answers can be told apart), sometimes one used before, by any kind of message."""

TEMPLATES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "expand": st.fixed_dictionaries({"request_id": texts, "path": paths, "start": numbers, "end": numbers}),
    "load_file": st.fixed_dictionaries({"path": paths}),
    "ping": st.fixed_dictionaries({}, optional={"nonce": texts}),
    "comment": st.fixed_dictionaries(
        {"client_id": client_ids, "path": paths, "body": bodies},
        optional={"side": st.sampled_from(["new", "old"]) | texts, "line": numbers, "end_line": numbers,
                  "pending": st.booleans()}),
    "reply": st.fixed_dictionaries({"client_id": client_ids, "comment_id": comment_ids, "body": bodies}),
    "resolve": st.fixed_dictionaries({"client_id": client_ids, "comment_id": comment_ids}),
    "open_file": st.fixed_dictionaries({"request_id": texts, "path": paths}),
    "edit": st.fixed_dictionaries({"client_id": client_ids, "path": paths, "base_hash": texts, "content": bodies}),
    "approve": st.fixed_dictionaries({"client_id": client_ids}, optional={"body": bodies}),
    "request_changes": st.fixed_dictionaries({"client_id": client_ids, "body": bodies}),
    "edit_comment": st.fixed_dictionaries({"client_id": client_ids, "comment_id": comment_ids, "body": bodies}),
    "delete_comment": st.fixed_dictionaries({"client_id": client_ids, "comment_id": comment_ids}),
    "submit_review": st.fixed_dictionaries(
        {"client_id": client_ids},
        optional={"body": bodies, "verdict": st.sampled_from(["comment", "request_changes", "approve"]) | texts}),
    "set_viewed": st.fixed_dictionaries({"client_id": client_ids, "path": paths, "viewed": st.booleans()}),
}
Mutation = tuple[Any, ...]
mutations: st.SearchStrategy[Mutation] = st.one_of(
    *[st.tuples(st.just("none"))] * 5,  # valid shapes too, so that requests reach the store and the files
    st.tuples(st.just("drop"), st.integers(0, 6)),  # a required field missing
    st.tuples(st.just("unknown_field"), st.text(max_size=8), json_values),
    st.tuples(st.just("retype"), st.integers(0, 6), json_values),  # a field of the wrong type
    st.tuples(st.just("type"), json_values),  # an unknown (or non-string) type
    st.tuples(st.just("no_type")),
    # Deep nesting, before or after the type tag. Depths well clear of Python's recursion limit (1,000, less
    # what is on the stack), which this process and the server's reach at slightly different depths.
    st.tuples(st.just("deep"), st.integers(0, 6), st.sampled_from([2, 50, 400, 5_000, 100_000]),
              st.sampled_from(["[", "{"]), st.booleans()),
    st.tuples(st.just("huge"), st.integers(0, 6), st.sampled_from([65_537, 1 << 20, 3 << 20])),
    st.tuples(st.just("truncate"), st.integers(0, 400)),
    st.tuples(st.just("splice"), st.integers(0, 400), st.text(min_size=1, max_size=3)),
    st.tuples(st.just("flip_byte"), st.integers(0, 400), st.integers(0, 255)),  # may break UTF-8
    st.tuples(st.just("binary")),
    st.tuples(st.just("top_level"), json_values),  # not an object at all
)


@dataclass(frozen=True)
class Plan:
    """A message to build at send time (ids are filled in then) and how to break it."""

    kind: str
    fields: dict[str, Any]
    mutation: Mutation


@dataclass(frozen=True)
class Raw:
    """Bytes or text sent as they are."""

    payload: str | bytes
    as_text: bool


plans = st.sampled_from(list(TEMPLATES)).flatmap(
    lambda kind: st.builds(Plan, st.just(kind), TEMPLATES[kind], mutations))
bodies_with_text = st.text(min_size=1, max_size=60).filter(str.strip)
valid_threads = st.builds(Plan, st.just("comment"), st.fixed_dictionaries(
    {"client_id": client_ids, "path": st.just(DIFF_PATH), "body": bodies_with_text},
    optional={"line": st.integers(1, 29), "side": st.sampled_from(["new", "old"])}), st.just(("none",))) | st.builds(
    Plan, st.just("reply"), st.fixed_dictionaries({"client_id": client_ids, "comment_id": st.just(KNOWN),
                                                   "body": bodies_with_text}), st.just(("none",)))
"""Requests that are stored: the store must end up holding exactly what was acknowledged."""
raws = st.builds(Raw, st.text(max_size=200), st.just(True)) | st.builds(Raw, st.binary(max_size=200), st.booleans())
frames = st.integers(0, 19).flatmap(lambda n: valid_threads if n == 0 else raws if n <= 4 else plans)
"""One in twenty is a comment or reply to be stored (each costs an fsync), a fifth raw bytes, the rest messages."""

DEEP = "\x00deep\x00"


def build(plan: Plan, client_id: str, known: str) -> Raw:
    """The frame for ``plan``: its message, then its mutation."""
    fields = {k: (client_id if v == FRESH else known if v == KNOWN else v) for k, v in plan.fields.items()}
    message: dict[str, Any] = {"type": plan.kind, **fields}
    keys = list(fields) or ["type"]
    op, *args = plan.mutation
    deep = ""
    if op == "drop":
        message.pop(keys[args[0] % len(keys)], None)
    elif op == "unknown_field":
        message[args[0] if args[0] not in message else f"{args[0]}_x"] = args[1]
    elif op == "retype":
        message[keys[args[0] % len(keys)]] = args[1]
    elif op == "type":
        message["type"] = f"{args[0]}_x" if isinstance(args[0], str) and args[0] in TEMPLATES else args[0]
    elif op == "no_type":
        del message["type"]
    elif op == "deep":
        key, depth, bracket, first = keys[args[0] % len(keys)], args[1], args[2], args[3]
        message[key] = DEEP
        if first:  # before the tag: the decoder must get past it to learn the type
            message = {key: DEEP, **{k: v for k, v in message.items() if k != key}}
        deep = "[" * depth + "]" * depth if bracket == "[" else '{"a":' * depth + "1" + "}" * depth
    elif op == "huge":
        message[keys[args[0] % len(keys)]] = "x" * args[1]
    elif op == "top_level":
        return Raw(json.dumps(args[0]), True)
    text = json.dumps(message)
    if deep:
        text = text.replace(json.dumps(DEEP), deep)
    if op == "truncate":
        return Raw(text[: args[0] % max(1, len(text))], True)
    if op == "splice":
        at = args[0] % (len(text) + 1)
        return Raw(text[:at] + args[1] + text[at:], True)
    if op == "flip_byte":
        data = bytearray(text.encode())
        data[args[0] % len(data)] = args[1]
        return Raw(bytes(data), True)
    if op == "binary":
        return Raw(text.encode(), False)
    return Raw(text, True)


# ---- the server, its two clients and what they were told -------------------------------------------------------


@dataclass
class Target:
    server: Backloop
    repo: GitRepo
    observer: Client
    """Connected before the fuzzing and left unread through it: it must not notice anything."""
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    fuzzer: Client | None = None
    acked: set[str] = field(default_factory=set)
    """Every id the server acknowledged a message that stores an entry with."""
    deleted: set[str] = field(default_factory=set)
    """Pending comments acknowledged as deleted."""
    comments: list[str] = field(default_factory=list)
    frames: int = 0
    closes: int = 0
    next_id: int = 0

    def connect(self) -> Client:
        self.stack.close()
        self.stack = contextlib.ExitStack()
        self.fuzzer = self.stack.enter_context(self.server.connect())
        self.fuzzer.start()
        return self.fuzzer

    def client(self) -> Client:
        """The fuzzing connection (a new one if the last was closed: after a failure, so that replays start
        from a connection in the same state)."""
        if self.fuzzer is None or not self.fuzzer.is_open():
            return self.connect()
        return self.fuzzer

    def fresh_id(self) -> str:
        self.next_id += 1
        return f"fuzz-{self.next_id}"


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory, serve: Callable[..., Backloop]) -> Iterator[Target]:
    lines = "".join(f"line {n}\n" for n in range(1, 30))
    repo = init_repo(tmp_path_factory.mktemp("fuzz") / "repo", {DIFF_PATH: lines})
    repo.write(DIFF_PATH, lines.replace("line 5\n", "line five\n"))
    server = serve(repo.root)
    with server.connect() as observer:
        observer.start()
        target = Target(server, repo, observer)
        try:
            yield target
        finally:
            target.stack.close()


def expected_answer(message: ClientMessage) -> Callable[[Message], bool]:
    """Recognises the server's answer to a message that decoded (the fuzzer sends one frame at a time)."""
    if isinstance(message, Ping):
        return lambda m: m == {"type": "pong", "nonce": message.nonce}
    if isinstance(message, Expand | OpenFile):
        kind = "lines" if isinstance(message, Expand) else "file_content"
        return lambda m: m["type"] == "error" or (m["type"] == kind and m["request_id"] == message.request_id)
    if isinstance(message, LoadFile):
        return lambda m: m["type"] == "error" or (m["type"] == "file" and m["file"]["path"] == message.path)
    client_id = message.client_id
    return lambda m: m["type"] in ("ack", "error") and m.get("client_id") == client_id


def exchange(target: Target, raw: Raw) -> None:
    """Send one frame and check its answer."""
    client = target.client()
    client.seen.clear()  # answers can be megabytes: keep only this frame's
    target.frames += 1
    if not raw.as_text:
        client.send(raw.payload, text=False)
        check_error(client.until(lambda m: m["type"] == "error"), "binary_frame")
        return
    if isinstance(raw.payload, bytes):
        try:
            text = raw.payload.decode("utf-8")
        except UnicodeDecodeError:  # a text frame that is not UTF-8 breaks the websocket protocol itself
            client.send(raw.payload, text=True)
            closed = client.closed()
            assert closed.code == 1007 and closed.code in CLOSE_CODES, closed
            target.closes += 1
            target.connect()
            return
    else:
        text = raw.payload
    try:
        message = decode_client(text)
    except ProtocolError as exc:
        client.send(text)
        check_error(client.until(lambda m: m["type"] == "error"), exc.code)
        return
    except Exception:  # what the protocol promises for any frame it cannot decode
        client.send(text)
        check_error(client.until(lambda m: m["type"] == "error"), "invalid_json")
        return
    if isinstance(message, LoadFile) and message.path == DIFF_PATH:
        text = json.dumps({"type": "ping", "nonce": "load_file"})  # answered only when the file is too large
        message = decode_client(text)
    client.send(text)
    answer = client.until(expected_answer(message))
    if answer["type"] == "error":
        check_error(answer, None)
    elif isinstance(message, DeleteCommentMsg):
        target.deleted.add(answer["id"])
    elif answer["type"] == "ack" and not isinstance(message, EditCommentMsg | SetViewedMsg):  # (no entry of their own)
        target.acked.add(answer["id"])
        if isinstance(message, CommentMsg):
            target.comments.append(answer["id"])
    if isinstance(message, CommentMsg | ReplyMsg) and answer["type"] == "ack":
        assert len(message.body) <= 65_536 and message.body.strip()


def check_error(message: Message, code: str | None) -> None:
    assert message["type"] == "error", message
    assert message["code"] in ERROR_CODES, f"undocumented error code: {message}"
    assert message["code"] != "internal_error", f"a bug: {message}"
    if code is not None:
        assert message["code"] == code, message


def test_documented_codes_are_found() -> None:
    """The premise: the fuzzer checks against the tables in docs/protocol.md."""
    assert {"invalid_json", "unknown_type", "invalid_message", "binary_frame", "not_in_diff"} <= ERROR_CODES
    assert {1009, CLOSE_BAD_VIEW, CLOSE_FORBIDDEN, CLOSE_UNKNOWN_REVIEW} <= CLOSE_CODES


def test_fuzzed_frames_get_documented_answers(target: Target) -> None:
    @FUZZ
    @given(st.lists(frames, min_size=15, max_size=30))
    def run(batch: list[Plan | Raw]) -> None:
        for item in batch:
            known = target.comments[-1] if target.comments else KNOWN
            raw = build(item, target.fresh_id(), known) if isinstance(item, Plan) else item
            exchange(target, raw)

    # Hypothesis decides how many examples it runs (fewer when it meets duplicates): go on until enough frames.
    for _ in range(4):
        run()
        if target.frames >= MIN_FRAMES:
            break
    assert target.frames >= MIN_FRAMES, target.frames
    assert target.comments, "no generated comment was valid: the fuzzer never reached the store"
    assert_unaffected(target, "after the fuzzing")
    assert_store_consistent(target)


def test_a_client_id_reused_for_another_kind_of_message_is_refused(target: Target) -> None:
    """Found by the fuzzer: the comment was "acknowledged" with the approval's id, and a thread of kind "approve"
    (which the protocol does not have) went out to every client."""
    client = target.client()
    client_id = target.fresh_id()
    client.send({"type": "approve", "client_id": client_id})
    assert client.until(lambda m: m.get("client_id") == client_id)["type"] == "ack"
    client.send({"type": "comment", "client_id": client_id, "path": DIFF_PATH, "body": "same id, another message"})
    check_error(client.until(lambda m: m.get("client_id") == client_id), "client_id_reused")
    client.ping()  # every frame since decoded as a protocol message (Client checks each)
    assert_unaffected(target, "after a reused client_id")


def test_a_line_number_too_big_to_store_is_refused(target: Target) -> None:
    """Found by the fuzzer: ``end_line`` 2**63 got past the decoder and failed the store's INSERT in the middle of
    its transaction (``internal_error``), which stayed open: the next write, anyone's, failed too."""
    client = target.client()
    for line, end_line in ((1, 2**63), (2**64, None), (1, 2**31), (0, None), (-1, 3)):
        client_id = target.fresh_id()
        client.send({"type": "comment", "client_id": client_id, "path": DIFF_PATH, "body": "far away",
                     "line": line, "end_line": end_line})
        check_error(client.until(lambda m: m["type"] == "error"), "invalid_message")  # from the decoder: no id
    client_id = target.fresh_id()
    client.send({"type": "comment", "client_id": client_id, "path": DIFF_PATH, "body": "near", "line": 1,
                 "end_line": 2})
    assert client.until(lambda m: m.get("client_id") == client_id)["type"] == "ack"


def test_deep_nesting_before_the_type_gets_an_error(target: Target) -> None:
    """Found by the fuzzer: the decoder ran out of recursion skipping a deep value in front of the ``type`` tag
    and the connection died with 1011."""
    depth = 100_000
    for frame in ('{"x": ' + "[" * depth + "]" * depth + ', "type": "ping"}',
                  '{"nonce": ' + '{"a":' * depth + "1" + "}" * depth + ', "type": "ping"}'):
        exchange(target, Raw(frame, True))
    assert_unaffected(target, "after deep nesting")


def test_a_10_mb_frame_is_closed_with_1009(target: Target) -> None:
    closed = send_oversized_frame(target.server, 10 * 1024 * 1024)
    assert closed.code == 1009 and closed.code in CLOSE_CODES, closed
    assert MAX_CLIENT_FRAME < 10 * 1024 * 1024
    assert_unaffected(target, "after a 10 MB frame")


def test_no_compression_is_negotiated(target: Target) -> None:
    """No permessage-deflate, so no frame inflates past what its header says (a few kilobytes of deflate can
    carry 10 MB): the size limit above is the whole story. Should a server upgrade start to negotiate it, this
    fails, and the limit must then be shown to hold for inflated frames too."""
    with target.server.connect(compression="deflate") as client:
        assert client.ws.request is not None and client.ws.response is not None
        assert "permessage-deflate" in client.ws.request.headers["Sec-WebSocket-Extensions"]
        assert "Sec-WebSocket-Extensions" not in client.ws.response.headers
        assert client.ws.protocol.extensions == []
        client.start()
        client.ping()


def test_invalid_utf8_text_frame_is_closed_with_1007(target: Target) -> None:
    with target.server.connect() as broken:
        broken.start()
        broken.send(b'{"type": "ping", "nonce": "\xff\xfe"}', text=True)
        closed = broken.closed()
    assert closed.code == 1007 and closed.code in CLOSE_CODES, closed
    assert_unaffected(target, "after invalid UTF-8")


def test_a_frame_just_under_the_limit_is_answered(target: Target) -> None:
    nonce = "n" * (MAX_CLIENT_FRAME - 64)
    with target.server.connect() as client:
        client.start()
        client.send({"type": "ping", "nonce": nonce})
        assert client.until(lambda m: m["type"] == "pong")["nonce"] == nonce


# ---- afterwards ----------------------------------------------------------------------------------------------


def assert_unaffected(target: Target, when: str) -> None:
    """The server is up and the observer, connected all along, still gets pongs and live file updates."""
    assert target.server.alive(), f"the server died {when}:\n{''.join(target.server.output)}"
    target.observer.ping()
    target.frames += 1
    marker = f"observer check {target.frames}"
    target.repo.write(DIFF_PATH, (target.repo.root / DIFF_PATH).read_text() + marker + "\n")
    target.observer.until(lambda m: m["type"] == "file" and m["file"]["path"] == DIFF_PATH
                          and any(ln["text"] == marker for h in m["file"]["hunks"] for ln in h["lines"]))
    assert not unexpected_errors(target.server.output), unexpected_errors(target.server.output)


def unexpected_errors(output: list[str]) -> list[str]:
    """What the server logged as errors, except uvicorn's report of the invalid UTF-8 frames sent on purpose (it
    logs a traceback, then closes that connection with 1007 as it should)."""
    records = re.split(r"^(?=backloop: )", "".join(output), flags=re.M)
    return [r for r in records if re.search(r"ERROR|CRITICAL|Traceback", r)
            and not r.startswith("backloop: ERROR Invalid UTF-8 sequence received from client.")]


def assert_store_consistent(target: Target) -> None:
    """Every stored entry was acknowledged (or is an approval's note) and every acknowledged one is stored; each
    thread is a well-formed protocol Comment; the page's snapshot shows exactly the stored threads."""
    db = sqlite3.connect(f"file:{target.server.state_dir / DATABASE}?mode=ro", uri=True)
    try:
        entries = [entry_of_row(r) for r in db.execute(
            "SELECT seq, id, review_id, kind, parent_id, author, path, side, line, end_line, quoted, body, state, "
            "outdated, created, delivered, pending, round FROM entries ORDER BY seq")]
    finally:
        db.close()
    ids = {e.id for e in entries}
    acked_ids = target.acked
    assert acked_ids - target.deleted <= ids, f"acknowledged but not stored: {acked_ids - target.deleted - ids}"
    assert not target.deleted & ids, f"deleted but stored: {target.deleted & ids}"
    by_seq = {e.seq: e for e in entries}

    def acknowledged(entry: Entry) -> bool:
        if entry.id in acked_ids:
            return True
        # An approval's note: a review-level comment stored with (right after) the acknowledged approval; a
        # submitted review's summary: stored right after the acknowledged submission.
        before = by_seq.get(entry.seq - 1)
        if before is None or before.id not in acked_ids:
            return False
        if before.kind == "submit":
            return entry.path is None and entry.kind in ("comment", "request_changes") and entry.body.strip() != ""
        return (entry.kind == "comment" and entry.path is None and before.kind == "approve"
                and before.body == entry.body != "")

    for entry in entries:
        assert entry.review_id == target.server.review_id
        assert entry.kind in ("comment", "reply", "request_changes", "approve", "edit", "submit"), entry
        assert entry.author == "person", entry
        assert acknowledged(entry), f"stored but never acknowledged: {entry}"
        if entry.kind in ("reply", "request_changes") or (entry.kind == "comment" and entry.path is not None):
            assert entry.body.strip() and len(entry.body) <= 65_536, entry
        if entry.kind == "comment" and entry.path is not None:
            assert entry.path == DIFF_PATH and entry.side in ("new", "old"), entry
            assert entry.line is None or (entry.line >= 1 and (entry.end_line is None or entry.end_line > entry.line))
        if entry.kind == "reply":
            assert entry.parent_id in ids, entry
    stored = threads(entries)
    for thread in stored:
        msgspec.json.decode(msgspec.json.encode(thread), type=Comment)
    with target.server.connect() as fresh:
        _, snapshot = fresh.start()
    shown = {c["id"]: c for c in snapshot["comments"]}
    assert set(shown) == {c.id for c in stored}
    for thread in stored:
        assert len(shown[thread.id].get("replies", [])) == len(thread.replies)
        assert shown[thread.id]["body"] == thread.body
