"""Guessing: a review id is the capability to read and change a review, so ids carry ≥ 64 random bits, and a wrong
id is answered exactly like any other wrong id (a 404 page, a websocket closed with 4404, nothing in the index
page's data), byte for byte, so that nothing tells a guesser how close it came; and nothing lists the ids to a
client that knows none. Review look-up is a dict look-up, whose time does not depend on how much of the id matches;
the answers are compared for equality here rather than timed."""

from __future__ import annotations

import asyncio
import json
import random
import re
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from backloop.config import DATABASE
from backloop.git.repo import Repo
from backloop.protocol import CLOSE_UNKNOWN_REVIEW
from backloop.review.entry import new_id
from backloop.review.session import Reviews
from backloop.review.store import Store
from backloop.viewspec import parse_view
from tests.security.conftest import Backloop, Closed, raw_http, without_date
from tests.support import LIVE_QUERY, Message, init_repo

MIN_RANDOM_BITS = 64
IDS_FROM_REVIEWS = 200
IDS_FROM_GENERATOR = 20_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, serve: Callable[..., Backloop]) -> Backloop:
    repo = init_repo(tmp_path_factory.mktemp("guessing") / "repo", {"a.txt": "secret a\n"})
    repo.write("a.txt", "secret a\nsecret b\n")
    return serve(repo.root)


def random_bits(ids: list[str]) -> int:
    """How many bit positions of the (hex) ids look random: set in 30 to 70% of them."""
    width = len(ids[0]) * 4
    values = [int(i, 16) for i in ids]
    ones = [sum(v >> bit & 1 for v in values) for bit in range(width)]
    return sum(0.3 * len(ids) <= n <= 0.7 * len(ids) for n in ones)


def test_review_ids_carry_at_least_64_random_bits(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "repo").root

    async def create_many() -> list[str]:
        store = Store(tmp_path / "state" / DATABASE)
        try:
            reviews = Reviews(store)
            repo = await Repo.open(root)
            spec = parse_view({"since": "HEAD", "live": "true"})
            return [(await reviews.create(repo, spec)).id for _ in range(IDS_FROM_REVIEWS)]
        finally:
            store.close()

    ids = asyncio.run(create_many())
    assert len(set(ids)) == len(ids)
    for review_id in ids:
        assert re.fullmatch(r"[0-9a-f]{16,}", review_id), review_id  # hex: 4 bits a character
    assert len({len(i) for i in ids}) == 1
    # Bits that take both values about half the time across real reviews (a counter, a clock or a process id
    # would leave most bits fixed). With 200 ids, a fair bit lies outside 30-70% with probability ~1e-8.
    assert random_bits(ids) >= MIN_RANDOM_BITS

    # The generator itself, over many more ids: every bit fair, no repeats.
    many = [new_id() for _ in range(IDS_FROM_GENERATOR)]
    assert len(set(many)) == len(many)
    assert random_bits(many) == len(many[0]) * 4 >= MIN_RANDOM_BITS


def test_review_ids_do_not_come_from_a_seedable_generator() -> None:
    """Python's ``random`` is predictable from its outputs; ids come from the OS's CSPRNG (``secrets``)."""
    state = random.getstate()
    try:
        random.seed(1234)
        first = new_id()
        random.seed(1234)
        assert new_id() != first
    finally:
        random.setstate(state)


def wrong_ids(real: str) -> dict[str, str]:
    flipped = real[:-1] + ("0" if real[-1] != "0" else "1")
    return {
        "never existed": secrets.token_hex(len(real) // 2),
        "last character wrong": flipped,
        "first character wrong": ("0" if real[0] != "0" else "1") + real[1:],
        "one character short": real[:-1],
        "one character long": real + "0",
        "upper case": real.upper(),
        "prefix": real[:4],
        "empty-ish": "x",
    }


def get(server: Backloop, path: str) -> bytes:
    request = f"GET {path} HTTP/1.1\r\nHost: {server.host}\r\nConnection: close\r\n\r\n".encode()
    return raw_http(server.port, request)


@pytest.mark.parametrize("route", ["view?" + LIVE_QUERY, "raw?path=a.txt&side=new&" + LIVE_QUERY, "view",
                                   "comments.md"])
def test_wrong_ids_get_byte_identical_404_pages(server: Backloop, route: str) -> None:
    real = get(server, f"/review/{server.review_id}/{route}")
    assert not real.startswith(b"HTTP/1.1 404"), real[:200]  # the control: the real id is found
    answers = {name: without_date(get(server, f"/review/{rid}/{route}"))
               for name, rid in wrong_ids(server.review_id).items()}
    first = next(iter(answers.values()))
    assert first.startswith(b"HTTP/1.1 404 Not Found\r\n"), first[:200]
    for name, answer in answers.items():
        assert answer == first, f"{name}: {answer!r:.600} != {first!r:.600}"
        assert server.review_id.encode() not in answer and b"secret" not in answer


def test_wrong_ids_get_identical_websocket_closes(server: Backloop) -> None:
    with server.connect() as client:  # the control: the real id opens the review
        hello, _ = client.start()
        assert hello["review"]["id"] == server.review_id
    answers: dict[str, tuple[list[Message], Closed]] = {}
    for name, rid in wrong_ids(server.review_id).items():
        with server.connect(rid) as client:
            closed = client.closed()
            answers[name] = (client.seen, closed)
    first = next(iter(answers.values()))
    assert first[1].code == CLOSE_UNKNOWN_REVIEW
    assert [m["type"] for m in first[0]] == ["error"]
    for name, answer in answers.items():
        assert answer == first, f"{name}: {answer} != {first}"
        assert server.review_id not in repr(answer)


def test_a_client_that_knows_no_id_cannot_list_the_ids(server: Backloop) -> None:
    """Everything a local process can ask without an id: the index page and its data, the API with and without
    wrong ids, static files, error pages, websockets to wrong ids. No answer names the review."""
    with server.connect() as client:  # the control: the review exists and is being served
        client.start()
    paths = ["/", "/api/reviews", "/api/reviews?id=", "/api/reviews?all=1", "/static/home.js", "/static/known.js",
             "/static/", "/review/", "/review//view?" + LIVE_QUERY, "/nope",
             "/api/reviews?" + "&".join(f"id={rid}" for rid in wrong_ids(server.review_id).values())]
    for path in paths:
        answer = get(server, path)
        assert server.review_id.encode() not in answer, path
        assert server.review_id[:8].encode() not in answer, path
    assert without_date(get(server, "/api/reviews")).endswith(b"\r\n\r\n[]")
    for rid in ("x", "0" * 24, secrets.token_hex(12)):
        with server.connect(rid) as client:
            closed = client.closed()
        assert server.review_id not in repr((client.seen, closed))


def test_the_api_describes_only_the_ids_it_is_given(server: Backloop) -> None:
    """The index page's data: a summary for each id given that exists; a wrong id is left out, so that asking about
    wrong ids is answered byte for byte like asking about none."""
    known = get(server, f"/api/reviews?id={server.review_id}")
    assert known.startswith(b"HTTP/1.1 200 OK\r\n"), known[:200]
    summaries = json.loads(known.split(b"\r\n\r\n", 1)[1])
    assert [s["id"] for s in summaries] == [server.review_id]
    none = without_date(get(server, "/api/reviews"))
    for name, rid in wrong_ids(server.review_id).items():
        assert without_date(get(server, f"/api/reviews?id={rid}")) == none, name


def test_the_state_is_readable_only_by_its_owner(server: Backloop) -> None:
    """The database holds every review id (and the comments): another local user must not read it."""
    with server.connect() as client:  # the database exists once the server answers
        client.start()
    for path in server.state_dir.glob(f"{DATABASE}*"):
        assert path.stat().st_mode & 0o077 == 0, f"{path} is mode {path.stat().st_mode & 0o777:o}"
