"""The review page's static files under /static/v/<version>/: cached for good, the same bytes as /static/, and a
new version whenever a file changes."""

from __future__ import annotations

import os
import re
from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.testclient import TestClient

from backloop.web.assets import IMMUTABLE, PREFIX, Assets, Versioned
from tests.conftest import MakeRepo
from tests.support import LIVE_QUERY
from tests.web.conftest import Served


def test_the_version_changes_with_any_file(tmp_path: Path) -> None:
    (tmp_path / "render").mkdir()
    (tmp_path / "app.js").write_text("one")
    (tmp_path / "render" / "files.js").write_text("two")
    assets = Assets(tmp_path)
    first = assets.version()
    assert assets.version() == first
    (tmp_path / "render" / "files.js").write_text("three")
    os.utime(tmp_path / "render" / "files.js", ns=(1, 1))
    second = assets.version()
    assert second != first
    (tmp_path / "render" / "new.js").write_text("")
    assert assets.version() not in (first, second)


def test_the_review_page_loads_everything_from_the_current_version(make_repo: MakeRepo, served: Served) -> None:
    review = served.review(make_repo({"a.txt": "a\n"}).root)
    page = served.get(f"/review/{review.id}/view?{LIVE_QUERY}")
    assert page.headers["cache-control"] == "no-store"
    urls = re.findall(r'(?:src|href)="(/static/[^"]*)"', page.text)
    assert urls
    versions = {re.match(r"/static/v/([0-9a-f]+)/", url).group(1) for url in urls}  # type: ignore[union-attr]
    assert len(versions) == 1
    version = versions.pop()
    for url in urls:
        cached = served.get(url)
        assert cached.status_code == 200, url
        assert cached.headers["cache-control"] == IMMUTABLE, url
        plain = served.get(url.replace(f"/v/{version}/", "/"))
        assert cached.content == plain.content, url
    # a module's relative imports stay under the version
    assert served.get(f"/static/v/{version}/render/files.js").headers["cache-control"] == IMMUTABLE


def test_another_version_answers_but_is_revalidated(served: Served) -> None:
    old = served.get("/static/v/0123456789abcdef/app.js")
    assert old.status_code == 200
    assert old.headers["cache-control"] == "no-cache"
    assert old.content == served.get("/static/app.js").content
    assert served.get("/static/v/0123456789abcdef/pygments.css").headers.get("cache-control") is None
    assert served.get("/static/v/0123456789abcdef/nope.js").status_code == 404


def test_nothing_outside_the_directory_is_served(tmp_path: Path) -> None:
    root = tmp_path / "frontend"
    root.mkdir()
    (root / "app.js").write_text("ok")
    (tmp_path / "secret.txt").write_text("secret")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    assets = Assets(root)
    app = Starlette(routes=[Mount(PREFIX + "{version}", Versioned(StaticFiles(directory=root), assets))])
    with TestClient(app) as client:
        base = f"{PREFIX}{assets.current}"
        assert client.get(f"{base}/app.js").text == "ok"
        assert client.get(f"{base}/link.txt").status_code == 404
        assert client.get(f"{base}/%2e%2e/secret.txt").status_code == 404
        assert client.get(f"{base}/..%2fsecret.txt").status_code == 404


FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
STYLESHEET = re.compile(r'<link rel="?stylesheet"? href="?([^" >]+)"?>')


def _served_stylesheets(served: Served, page: str) -> list[str]:
    """The stylesheets ``page`` links, each fetched: versioned, cached for good, CSS."""
    html = served.get(page).text
    urls = STYLESHEET.findall(html)
    assert urls, page
    for url in urls:
        assert re.match(rf"{PREFIX}[0-9a-f]+/", url), f"{url} is not under the versioned path"
        response = served.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith("text/css"), url
        assert response.headers["cache-control"] == IMMUTABLE, url
        assert response.text.strip(), url
    return [re.sub(rf"^{PREFIX}[0-9a-f]+/", "", url) for url in urls]


def test_each_render_module_has_its_stylesheet_linked_and_served(make_repo: MakeRepo, served: Served) -> None:
    review = served.review(make_repo({"a.txt": "a\n"}).root)
    linked = _served_stylesheets(served, f"/review/{review.id}/view?{LIVE_QUERY}")
    assert linked[0] == "base.css"  # (first in the cascade: the theme and the shared controls)
    assert linked[-1] == "pygments.css"  # (last: token colours over the diff's)
    sheets = sorted(p.relative_to(FRONTEND).as_posix() for p in (FRONTEND / "render").glob("*.css"))
    assert sheets
    for sheet in sheets:
        assert (FRONTEND / sheet).with_suffix(".js").is_file(), f"{sheet} stands beside no module"
        assert sheet in linked, f"review.html does not link {sheet}"
    assert len(linked) == len(set(linked))
    # the index page: the shared base and its own
    assert _served_stylesheets(served, "/") == ["base.css", "home.css"]


def test_error_pages_link_the_base_stylesheet(served: Served) -> None:
    page = served.get("/review/nope/view")
    assert page.status_code == 404
    (url,) = re.findall(r"<link rel=stylesheet href=(\S+?)>", page.text)
    sheet = served.get(url)
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith("text/css")
    assert ".error-page" in sheet.text
