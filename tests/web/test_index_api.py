"""``GET /api/reviews?id=…``, the index page's data: it describes the reviews whose ids it is given, and lists none."""

from __future__ import annotations

from typing import Any

from backloop.config import MAX_IDS_PER_REQUEST
from backloop.review.session import Review
from tests.conftest import MakeRepo
from tests.web.conftest import Served


def ask(served: Served, *ids: str) -> list[dict[str, Any]]:
    response = served.get("/api/reviews", params=[("id", i) for i in ids])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    answer: list[dict[str, Any]] = response.json()
    return answer


def test_reviews_are_described_only_when_asked_for(make_repo: MakeRepo, served: Served) -> None:
    root = make_repo({"a.txt": "a\n"}).root
    first = served.review(root, title="first")
    second = served.review(root, {"commit": "HEAD"}, title="second")
    assert ask(served) == []
    assert served.get("/api/reviews?all=1").json() == []
    assert [r["id"] for r in ask(served, second.id)] == [second.id]
    # In the order asked, each once; ids the server does not serve are left out.
    assert [r["id"] for r in ask(served, second.id, "f" * 24, first.id, second.id)] == [second.id, first.id]
    assert ask(served, "f" * 24, first.id[:-1], first.id.upper()) == []


def test_a_summary_says_what_the_index_page_shows(make_repo: MakeRepo, served: Served) -> None:
    root = make_repo({"a.txt": "a\n"}).root
    (root / "a.txt").write_text("a\nb\n")
    review = served.review(root, title="<b>title</b>")

    async def discuss(r: Review) -> None:
        one = await served.reviews.comment(r.id, "c1", body="why?", path="a.txt", line=2)
        await served.reviews.comment(r.id, "c2", body="and?", path="a.txt")
        await served.reviews.resolve(r.id, one.id, reply="because")
        await served.reviews.request_changes(r.id, "r1", "please fix")

    served.client.portal.call(discuss, review)  # type: ignore[union-attr]
    assert ask(served, review.id) == [{
        "id": review.id, "title": "<b>title</b>", "repo": str(root),
        "url": f"/review/{review.id}/view?since=HEAD&live=true", "view": "changes since HEAD (live work tree)",
        "state": "changes_requested", "agent": "idle", "threads": 3, "open_threads": 2,
    }]


def test_too_many_ids_at_once_are_refused(make_repo: MakeRepo, served: Served) -> None:
    review = served.review(make_repo({"a.txt": "a\n"}).root)
    response = served.get("/api/reviews", params=[("id", review.id)] * (MAX_IDS_PER_REQUEST + 1))
    assert response.status_code == 400
    assert review.id not in response.text
    assert len(ask(served, *[review.id] * MAX_IDS_PER_REQUEST)) == 1
