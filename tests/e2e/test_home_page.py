"""The index page in a real Chromium: it lists the reviews this browser has opened (the server lists none), with
their state as the server tells it for those ids, keeps the ones the server no longer has until forgotten, follows
other tabs, and opens new views of a known review."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
from websockets.sync.client import connect

from tests.e2e.conftest import StartServer, numbered
from tests.e2e.test_live_view import open_view, section, with_line
from tests.real_server import RealServer
from tests.support import TIMEOUT_S, GitRepo

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(f"the browser tests need Playwright for Python (pip install playwright): {exc}") from exc

pytestmark = pytest.mark.browser

STORAGE_KEY = "backloop.reviews"


def home(server: RealServer) -> str:
    return f"{server.origin}/"


def send(server: RealServer, *messages: dict[str, object]) -> None:
    """Send messages as another client of the review (the agent's side is not needed) and wait for their acks."""
    with connect(server.ws_url(), max_size=None) as ws:
        while json.loads(ws.recv(timeout=TIMEOUT_S))["type"] != "snapshot":
            pass
        for message in messages:
            ws.send(json.dumps(message))
            while True:
                answer = json.loads(ws.recv(timeout=TIMEOUT_S))
                if answer.get("client_id") == message["client_id"]:
                    assert answer["type"] == "ack", answer
                    break


def item(page: Page, server: RealServer) -> Locator:
    return page.locator(f'#reviews li[data-review="{server.review_id}"]')


@pytest.fixture
def changed(repo: GitRepo) -> GitRepo:
    repo.write("notes.txt", with_line(numbered(100), 50, "changed 50"))
    return repo


def test_a_browser_that_opened_no_review_is_shown_none(changed: GitRepo, start_server: StartServer,
                                                        page: Page) -> None:
    server = start_server()
    page.goto(home(server))
    expect(page.locator("#reviews-empty")).to_contain_text("has not opened a review on this server yet")
    expect(page.locator("#reviews-empty")).to_contain_text("backloop list")
    expect(page.locator("#reviews li")).to_have_count(0)
    expect(page.locator("#gone")).to_be_hidden()
    expect(page.get_by_role("combobox", name="Review")).to_be_disabled()
    assert server.review_id not in page.content()
    page.get_by_role("button", name="Open view").click()
    expect(page.get_by_role("alert")).to_contain_text("open a review's address first")


def test_an_opened_review_is_listed_with_its_state(changed: GitRepo, start_server: StartServer, page: Page) -> None:
    server = start_server()
    open_view(page, server.url)
    send(server, {"type": "comment", "client_id": "c1", "path": "notes.txt", "line": 50, "body": "why?"},
         {"type": "comment", "client_id": "c2", "path": "notes.txt", "body": "and this file?"})
    page.goto(home(server))
    listed = page.locator("#reviews li")
    expect(listed).to_have_count(1)
    entry = item(page, server)
    expect(entry.get_by_role("link")).to_have_text(f"{changed.root.name}: changes since HEAD (live work tree)")
    assert server.url.endswith(entry.get_by_role("link").get_attribute("href") or "?")
    expect(entry.locator(".review-state")).to_have_text("Open")
    expect(entry.locator(".review-repo")).to_have_text(str(changed.root))
    expect(entry.locator(".review-note")).to_contain_text("2 of 2 threads open")
    expect(page.locator("#reviews-empty")).to_be_hidden()

    # The state as it is now, when the person comes back to the tab.
    send(server, {"type": "approve", "client_id": "a1", "body": ""})
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(entry.locator(".review-state")).to_have_text("Approved")
    expect(entry.locator(".review-state")).to_have_attribute("data-review-state", "approved")


def test_a_review_opened_as_localhost_is_listed_at_the_printed_address(changed: GitRepo, start_server: StartServer,
                                                                       page: Page) -> None:
    server = start_server()
    assert "//127.0.0.1:" in server.url
    page.goto(server.url.replace("//127.0.0.1:", "//localhost:"))
    expect(page).to_have_url(server.url)  # (sent to the printed address: one origin, one list)
    expect(section(page, "notes.txt")).to_contain_text("changed 50")
    page.goto(home(server).replace("//127.0.0.1:", "//localhost:"))
    expect(page).to_have_url(home(server))
    expect(item(page, server)).to_have_count(1)

def test_the_link_goes_to_the_view_last_opened(changed: GitRepo, start_server: StartServer, page: Page) -> None:
    server = start_server()
    commit_view = server.url.split("?")[0] + "?commit=HEAD&live=false&view=split"
    open_view(page, commit_view)
    page.goto(home(server))
    link = item(page, server).get_by_role("link")
    expect(link).to_have_attribute("href", urlsplit(commit_view).path + "?" + urlsplit(commit_view).query)
    link.click()
    expect(page).to_have_url(commit_view)


def test_opens_a_new_view_of_a_known_review(changed: GitRepo, start_server: StartServer, page: Page) -> None:
    server = start_server()
    open_view(page, server.url)
    page.goto(home(server))
    expect(page.get_by_role("combobox", name="Review")).to_be_enabled()
    page.get_by_role("combobox", name="Compare").select_option("commit")
    page.get_by_role("textbox", name="Revision").fill("HEAD")
    page.get_by_role("button", name="Open view").click()
    expect(page).to_have_url(re.compile(rf"/review/{server.review_id}/view\?commit=HEAD&live=false$"))
    expect(section(page, "notes.txt")).to_be_visible()
    expect(section(page, "notes.txt").locator(".badge-added")).to_be_visible()


def test_another_tab_opening_a_review_updates_the_list(changed: GitRepo, start_server: StartServer,
                                                        page: Page) -> None:
    server = start_server()
    page.goto(home(server))
    expect(page.locator("#reviews-empty")).to_contain_text("has not opened a review")
    other = page.context.new_page()
    open_view(other, server.url)
    expect(item(page, server)).to_have_count(1)
    expect(page.locator("#reviews-empty")).to_be_hidden()
    expect(page.get_by_role("combobox", name="Review")).to_be_enabled()


def test_reviews_the_server_does_not_serve_stay_until_forgotten(changed: GitRepo, start_server: StartServer,
                                                                 page: Page) -> None:
    server = start_server()
    open_view(page, server.url)
    gone_id = "0" * 24
    page.evaluate("""([key, id]) => {
        const known = JSON.parse(localStorage.getItem(key));
        known.push({id, url: `/review/${id}/view?since=HEAD&live=true`, seen: Date.now() - 3 * 86400e3,
                    title: "Yesterday's refactor", repo: "/elsewhere/project"});
        localStorage.setItem(key, JSON.stringify(known));
    }""", [STORAGE_KEY, gone_id])
    page.goto(home(server))
    gone = page.locator(f'#reviews-gone li[data-review="{gone_id}"]')
    expect(page.locator("#gone")).to_be_visible()
    expect(gone).to_contain_text("Yesterday's refactor")
    expect(gone).to_contain_text("/elsewhere/project")
    expect(gone).to_contain_text("3 days ago")
    expect(gone.get_by_role("link")).to_have_count(0)
    expect(item(page, server)).to_have_count(1)  # the served one is still listed above
    expect(page.get_by_role("combobox", name="Review").locator("option")).to_have_count(1)

    gone.get_by_role("button", name="Forget Yesterday's refactor in this browser").click()
    expect(page.locator("#gone")).to_be_hidden()
    stored = page.evaluate("key => JSON.parse(localStorage.getItem(key)).map(k => k.id)", STORAGE_KEY)
    assert stored == [server.review_id]


def test_forgetting_a_served_review_and_opening_it_again(changed: GitRepo, start_server: StartServer,
                                                          page: Page) -> None:
    server = start_server()
    open_view(page, server.url)
    page.goto(home(server))
    item(page, server).get_by_role("button", name=re.compile(r"^Forget .* in this browser$")).click()
    expect(page.locator("#reviews li")).to_have_count(0)
    expect(page.locator("#reviews-empty")).to_contain_text("has not opened a review")
    open_view(page, server.url)
    page.goto(home(server))
    expect(item(page, server)).to_have_count(1)


def test_after_a_restart_the_list_shows_every_review_served_again(changed: GitRepo, start_server: StartServer,
                                                                  page: Page) -> None:
    """A restart reuses the port its reviews had (same origin, same storage): the reviews come back, and the index
    page shows the ones this browser opened, and none it did not."""
    first = start_server()
    open_view(page, first.url)
    page.goto("about:blank")  # (the review page would try to reconnect meanwhile)
    first.kill()
    second = start_server("--commit", "HEAD")  # brings the first review back and starts another
    assert home(second) == home(first)
    page.goto(home(second))
    expect(item(page, first)).to_have_count(1)
    expect(page.locator("#reviews li")).to_have_count(1)
    assert second.review_id not in page.content()
    open_view(page, second.url)
    page.goto(home(second))
    expect(page.locator("#reviews li")).to_have_count(2)
    expect(page.locator("#reviews li").first).to_have_attribute("data-review", second.review_id)
