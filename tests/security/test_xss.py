"""XSS in a real Chromium: hostile file contents, file names, commit messages, review titles, comments, replies and
review summaries (Markdown with raw HTML, ``javascript:`` links, ``onerror`` images, ``<svg onload>``) are shown
as text. Each page is checked with the Content-Security-Policy on and with it bypassed, so the escaping itself is
what holds: no payload runs (``window.__pwned`` stays undefined), no dialog opens, no element carries an event
handler attribute, and no link points anywhere but http(s), mailto or the page itself."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.conftest import EXPECT_TIMEOUT_MS
from tests.security.conftest import Backloop, Client
from tests.support import GitRepo, init_repo

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

PAYLOADS = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1;alert(1)">',
    '<svg onload="window.__pwned=1;alert(2)"></svg>',
    "<svg><script>window.__pwned=1</script></svg>",
    '<iframe srcdoc="<script>parent.__pwned=1;alert(3)</script>"></iframe>',
    '"><img src=x onerror=alert(4)>',
    "'><svg/onload=alert(5)>",
    "</span></td></tr><img src=x onerror=alert(6)>",
    '<a href="javascript:window.__pwned=1">click</a>',
    "[click me](javascript:window.__pwned=1)",
    "[click](JaVaScRiPt:alert(7))",
    "[spaced]( javascript:alert(8) )",
    "[entity](javascript&#58;alert(9))",
    "[data](data:text/html,<script>alert(10)</script>)",
    "<javascript:alert(11)>",
    '![image](x" onerror="alert(12))',
    "![image](javascript:alert(13))",
    "<details open ontoggle=alert(14)>",
    "<b onmouseover=alert(15)>hover</b><style>*{}</style>",
    "&lt;img src=x onerror=alert(16)&gt;",
]
TITLE = '<img src=x onerror="window.__pwned=1;alert(\'title\')"> review'
SUBJECT = '<svg onload="window.__pwned=1;alert(\'subject\')"> commit'
HOSTILE_NAMES = ["<img src=x onerror=alert(21)>.txt", "<svg onload=alert(22)>.html", "javascript:alert(23).md",
                 '"><script>alert(24)<\\script>.py']
RENAMED = "<svg onload=alert(25)> renamed.txt"

# Everything that may be in the page afterwards: no on* attribute anywhere, scripts only the page's own modules,
# no frames, no images (the page has none of its own here), links in the body only to http(s), mailto or the page
# itself.
DOM_PROBLEMS = """() => {
  const problems = [];
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      if (attr.name.startsWith("on")) problems.push(`${el.tagName} has ${attr.name}=${attr.value}`);
    }
  }
  for (const s of document.querySelectorAll("script")) {
    if (!s.src || new URL(s.src).origin !== location.origin) problems.push(`script ${s.outerHTML.slice(0, 200)}`);
  }
  for (const f of document.querySelectorAll("iframe, frame, object, embed")) problems.push(`frame ${f.outerHTML}`);
  for (const img of document.querySelectorAll("img, image")) problems.push(`image ${img.outerHTML.slice(0, 200)}`);
  for (const a of document.body.querySelectorAll("[href], [*|href]")) {
    const href = a.getAttribute("href") ?? a.getAttributeNS("http://www.w3.org/1999/xlink", "href") ?? "";
    const url = new URL(href, location.href);
    const own = url.origin === location.origin;
    if (!own && !["http:", "https:", "mailto:"].includes(url.protocol)) problems.push(`link to ${href}`);
  }
  return problems;
}"""


def payload_lines() -> str:
    return "".join(f"{p}\n" for p in PAYLOADS)


@dataclass
class Stage:
    server: Backloop
    repo: GitRepo
    markers: list[str] = field(default_factory=list)
    """Text in each comment and reply: seeing them all means every thread was rendered."""


def post(client: Client, message: dict[str, Any]) -> str:
    client.send(message)
    answer = client.until(lambda m: m.get("client_id") == message["client_id"])
    assert answer["type"] == "ack", answer
    return str(answer["id"])


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory, serve: Callable[..., Backloop]) -> Stage:
    repo = init_repo(tmp_path_factory.mktemp("xss") / "repo")
    notes = [f"line {n}\n" for n in range(1, 61)]
    notes[40] = "<script>window.__pwned=1</script> (unchanged: shown by expanding the context)\n"
    repo.write("notes.txt", "".join(notes))
    repo.write("page.html", "<p>safe</p>\n")
    repo.write("old name.txt", "".join(f"to be renamed {n}\n" for n in range(12)))
    repo.commit("initial")
    # HEAD: a commit whose message is hostile (shown in the commit= view's header) and whose diff is too.
    repo.write("page.html", "<p>safe</p>\n" + payload_lines())
    repo.write(HOSTILE_NAMES[0], payload_lines())
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", f"{SUBJECT}\n\n{payload_lines()}")
    # The work tree: every kind of file the live view shows, each carrying the payloads.
    notes[2] = '<img src=x onerror="alert(30)">\n'  # changed, paired with line 3: word marks inside the payload
    notes[55] = "changed line 56\n"
    repo.write("notes.txt", "".join(notes))
    repo.write("page.html", "<p>safe</p>\n" + payload_lines().replace("alert(", "confirm("))
    repo.write("script.py", "".join(f"s = {p!r}  # {p}\n" for p in PAYLOADS))
    repo.write("readme.md", payload_lines())
    for name in HOSTILE_NAMES[1:]:
        repo.write(name, payload_lines())
    repo.git("mv", "old name.txt", RENAMED)
    repo.write(RENAMED, "".join(f"to be renamed {n}\n" for n in range(12)) + PAYLOADS[7] + "\n")
    server = serve(repo.root, "--title", TITLE)
    stage = Stage(server, repo)
    with server.connect() as client:
        client.start()
        for n, payload in enumerate(PAYLOADS):
            marker = f"M{n}:"
            stage.markers.append(marker)
            comment_id = post(client, {"type": "comment", "client_id": f"c{n}", "path": "notes.txt", "line": 56,
                                       "body": f"{marker} {payload}\n\n- {payload}\n> {payload}"})
            stage.markers.append(f"R{n}:")
            post(client, {"type": "reply", "client_id": f"r{n}", "comment_id": comment_id,
                          "body": f"R{n}: {payload}"})
        stage.markers.append("whole file:")
        post(client, {"type": "comment", "client_id": "file", "path": HOSTILE_NAMES[1],
                      "body": "whole file: " + " ".join(PAYLOADS)})
        stage.markers.append("summary:")
        post(client, {"type": "request_changes", "client_id": "rc", "body": "summary: " + "\n".join(PAYLOADS)})
    return stage


@dataclass
class Watched:
    page: Page
    bypass_csp: bool
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def assert_nothing_ran(self) -> None:
        page = self.page
        assert page.evaluate("typeof window.__pwned") == "undefined", "a payload ran"
        assert page.evaluate("typeof parent.__pwned") == "undefined"
        assert not self.dialogs, f"a dialog opened: {self.dialogs}"
        assert not self.errors, f"the page failed on hostile input: {self.errors}"
        problems = page.evaluate(DOM_PROBLEMS)
        assert not problems, problems

    def visit_every_file(self) -> None:
        """Bring each file into view, so its rows are rendered (the page builds only what is near the viewport
        and drops what is far), and check the page each time."""
        from playwright.sync_api import expect

        sections = self.page.locator("section.file")
        for n in range(sections.count()):
            sections.nth(n).scroll_into_view_if_needed()
            expect(sections.nth(n).locator("td.code").first).to_be_attached()
            self.assert_nothing_ran()

    def assert_injection_would_be_seen(self) -> None:
        """The premise of the checks: in this context an event handler that got into the DOM would run (CSP
        bypassed) or be blocked and reported (CSP on). Call last: it adds one such element itself."""
        page = self.page
        page.evaluate("""() => {
          document.addEventListener("securitypolicyviolation", () => { window.__blocked = 1; });
          const probe = document.createElement("div");
          probe.innerHTML = '<img src="data:," onerror="window.__probe = 1">';
          document.body.append(probe);
        }""")
        # (Functions, not expressions: Playwright polls an expression with eval, which the CSP would refuse.)
        page.wait_for_function("() => window.__probe === 1" if self.bypass_csp else "() => window.__blocked === 1")


@pytest.fixture(params=[False, True], ids=["csp", "csp-bypassed"])
def watched(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Watched]:
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    context = browser.new_context(bypass_csp=request.param, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(EXPECT_TIMEOUT_MS)
    watched = Watched(page, request.param)

    def on_dialog(dialog: Any) -> None:
        watched.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    try:
        yield watched
    finally:
        context.close()


def open_view(watched: Watched, url: str) -> Page:
    from playwright.sync_api import expect

    page = watched.page
    page.goto(url)
    expect(page.locator("[data-connection]")).to_have_attribute("data-connection", "open")
    return page


def section(page: Page, path: str) -> Any:
    escaped = path.replace("\\", "\\\\").replace('"', '\\"')
    return page.locator(f'section.file[data-path="{escaped}"]')


def test_live_view(stage: Stage, watched: Watched) -> None:
    from playwright.sync_api import expect

    page = open_view(watched, stage.server.url)
    expect(page.locator(".review-title")).to_have_text(TITLE)
    assert TITLE in page.title()
    for name in [*HOSTILE_NAMES[1:], RENAMED]:  # the first is in HEAD (see the commit view)
        expect(section(page, name)).to_be_visible()
        expect(section(page, name).get_by_role("heading")).to_contain_text(name)
    expect(page.locator("#sidebar")).to_contain_text(HOSTILE_NAMES[1])
    watched.visit_every_file()
    for path, text in (("page.html", PAYLOADS[1].replace("alert(", "confirm(")), ("script.py", PAYLOADS[2]),
                       ("readme.md", PAYLOADS[9]), (HOSTILE_NAMES[2], PAYLOADS[5])):
        section(page, path).scroll_into_view_if_needed()
        expect(section(page, path)).to_contain_text(text)
    expect(section(page, "notes.txt").locator('tr[data-key="n3"]')).to_contain_text('onerror="alert(30)"')
    for marker in stage.markers:
        expect(page.locator("body")).to_contain_text(marker)
    expect(page.locator("body")).to_contain_text("[click me](javascript:window.__pwned=1)")
    # Expanded context goes through another path (the server's `lines` reply).
    notes = section(page, "notes.txt")
    notes.scroll_into_view_if_needed()
    expect(notes.locator('tr[data-key="n41"]')).to_have_count(0)
    notes.get_by_role("button", name="Expand 20 lines up").first.click()
    expect(notes.locator('tr[data-key="n41"]')).to_contain_text("<script>window.__pwned=1</script>")
    watched.assert_nothing_ran()
    watched.assert_injection_would_be_seen()


def test_commit_view_split(stage: Stage, watched: Watched) -> None:
    from playwright.sync_api import expect

    base = stage.server.url.split("?")[0]
    page = open_view(watched, f"{base}?commit=HEAD&view=split")
    expect(page.locator(".review-compare")).to_contain_text(SUBJECT)
    watched.visit_every_file()
    for path, text in ((HOSTILE_NAMES[0], PAYLOADS[3]), ("page.html", PAYLOADS[0])):
        section(page, path).scroll_into_view_if_needed()
        expect(section(page, path)).to_contain_text(text)
    watched.assert_nothing_ran()
    watched.assert_injection_would_be_seen()


def test_index_page(stage: Stage, watched: Watched) -> None:
    from playwright.sync_api import expect

    page = open_view(watched, stage.server.url)  # the index page lists the reviews this browser has opened
    page.goto(f"http://127.0.0.1:{stage.server.port}/")
    expect(page.locator("#reviews")).to_contain_text(TITLE)
    expect(page.get_by_role("combobox", name="Review")).to_contain_text(TITLE)
    watched.assert_nothing_ran()
    watched.assert_injection_would_be_seen()


def test_live_updates_and_typed_comments(stage: Stage, watched: Watched) -> None:
    """What arrives while the page is open (a new file, a comment from elsewhere) and what the person types
    (rendered by the page itself before and after the server has it) go through the same escaping."""
    from playwright.sync_api import expect

    page = open_view(watched, stage.server.url)
    expect(page.locator("body")).to_contain_text(stage.markers[-1])
    name = f"<img src=x onerror=alert(40)> live {watched.bypass_csp}.txt"
    stage.repo.write(name, payload_lines())
    section(page, name).scroll_into_view_if_needed()
    expect(section(page, name)).to_contain_text(PAYLOADS[4])
    marker = f"live comment {watched.bypass_csp}:"
    with stage.server.connect() as client:
        client.start()
        post(client, {"type": "comment", "client_id": f"live-{watched.bypass_csp}", "path": name,
                      "body": f"{marker} " + "\n".join(PAYLOADS)})
    expect(section(page, name)).to_contain_text(marker)

    typed = f"typed {watched.bypass_csp}: {PAYLOADS[1]} {PAYLOADS[9]}"
    notes = section(page, "notes.txt")
    notes.scroll_into_view_if_needed()
    notes.get_by_role("button", name="Comment on line 3", exact=True).click()
    page.get_by_role("textbox", name="Comment").fill(typed)
    page.get_by_role("button", name="Add single comment").click()
    expect(notes).to_contain_text(typed)
    watched.assert_nothing_ran()
    watched.assert_injection_would_be_seen()
