"""Reviews: what a review is (id, title, repository, default view) and the registry of open ones."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from backloop.git.repo import Repo
from backloop.protocol import ReviewState
from backloop.viewspec import ViewSpec

ID_BYTES = 12
"""96 random bits: review ids are the capability to see a review, so they must not be guessable."""


def new_review_id() -> str:
    return secrets.token_hex(ID_BYTES)


@dataclass
class Review:
    id: str
    repo: Repo
    view: ViewSpec
    title: str
    state: ReviewState = "open"

    def url_path(self, spec: ViewSpec | None = None) -> str:
        return f"/review/{self.id}/view?{(spec or self.view).query()}"


@dataclass
class Reviews:
    """The reviews this process serves, by id."""

    by_id: dict[str, Review] = field(default_factory=dict)

    def create(self, repo: Repo, view: ViewSpec, title: str | None = None) -> Review:
        review = Review(id=new_review_id(), repo=repo, view=view, title=title or f"{repo.root.name}: {view.describe()}")
        self.by_id[review.id] = review
        return review

    def get(self, review_id: str) -> Review | None:
        return self.by_id.get(review_id)

    def all(self) -> list[Review]:
        return list(self.by_id.values())
