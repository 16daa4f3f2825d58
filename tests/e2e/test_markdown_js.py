"""frontend/markdown.js in a real Chromium: what each piece of Markdown becomes, and that nothing it is given
turns into markup (raw HTML, javascript: and other non-http(s)/mailto links, hostile nesting)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import StartServer

try:
    from playwright.sync_api import Page
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(f"the browser tests need Playwright for Python (pip install playwright): {exc}") from exc

pytestmark = pytest.mark.browser

LINK = 'rel="noopener noreferrer nofollow" target="_blank"'

CASES: dict[str, str] = {
    # blocks
    "one\ntwo": "<p>one<br>two</p>",
    "one\n\ntwo": "<p>one</p><p>two</p>",
    "```js\nlet a = '<b>';\n\n  x\n```": (
        "<pre class=\"md-code\" data-lang=\"js\"><code class=\"language-js\">let a = '&lt;b&gt;';\n\n  x</code></pre>"
    ),
    "~~~\nplain\n~~~": '<pre class="md-code"><code>plain</code></pre>',
    "```\nnever closed": '<pre class="md-code"><code>never closed</code></pre>',
    "```a<b\"c\nx\n```": '<pre class="md-code" data-lang="abc"><code class="language-abc">x</code></pre>',
    "    indented()\n    code": '<pre class="md-code"><code>indented()\ncode</code></pre>',
    "- a\n- b\n  - c": (
        '<ul class="md-tight"><li><p>a</p></li><li><p>b</p><ul class="md-tight"><li><p>c</p></li></ul></li></ul>'
    ),
    "* a\n\n* b": "<ul><li><p>a</p></li><li><p>b</p></li></ul>",
    "1. x\n2. y": '<ol class="md-tight"><li><p>x</p></li><li><p>y</p></li></ol>',
    "3) x": '<ol start="3" class="md-tight"><li><p>x</p></li></ol>',
    "- item\ncontinued": '<ul class="md-tight"><li><p>item<br>continued</p></li></ul>',
    "text\n- list": '<p>text</p><ul class="md-tight"><li><p>list</p></li></ul>',
    "> q\n> r\n\nafter": "<blockquote><p>q<br>r</p></blockquote><p>after</p>",
    "> outer\n> > inner": "<blockquote><p>outer</p><blockquote><p>inner</p></blockquote></blockquote>",
    "## Title ##": '<p class="md-heading md-h2">Title</p>',
    "a\n\n---\n\nb": "<p>a</p><hr><p>b</p>",
    # inline
    "**b** *i* `c` ~~d~~ __e__ _f_": (
        "<p><strong>b</strong> <em>i</em> <code>c</code> <del>d</del> <strong>e</strong> <em>f</em></p>"
    ),
    "**bold *and italic***": "<p><strong>bold <em>and italic</em></strong></p>",
    "snake_case_name and __init__.py": "<p>snake_case_name and <strong>init</strong>.py</p>",
    "2 * 3 * 4 and a*b": "<p>2 * 3 * 4 and a*b</p>",
    "`a **b** <i>`": "<p><code>a **b** &lt;i&gt;</code></p>",
    "``code with ` inside``": "<p><code>code with ` inside</code></p>",
    "\\*not em\\* \\[not link](/x)": "<p>*not em* [not link](/x)</p>",
    "unclosed **bold and `code": "<p>unclosed **bold and `code</p>",
    # links
    "[t](https://e.com/a?b=1&c=2)": f'<p><a href="https://e.com/a?b=1&amp;c=2" {LINK}>t</a></p>',
    '[t](<https://e.com/x y> "title")': "<p>[t](&lt;https://e.com/x y&gt; \"title\")</p>",
    '[t](https://e.com "title")': f'<p><a href="https://e.com/" {LINK}>t</a></p>',
    "[**bold** link](http://e.com)": f'<p><a href="http://e.com/" {LINK}><strong>bold</strong> link</a></p>',
    "[mail](mailto:dev@example.com)": f'<p><a href="mailto:dev@example.com" {LINK}>mail</a></p>',
    "<https://e.com/x>": f'<p><a href="https://e.com/x" {LINK}>https://e.com/x</a></p>',
    "see https://e.com/x.": f'<p>see <a href="https://e.com/x" {LINK}>https://e.com/x</a>.</p>',
    "![alt](https://e.com/i.png)": f'<p><a href="https://e.com/i.png" {LINK}>alt</a></p>',
    "[a [b](https://x.y)](https://e.com)": f'<p><a href="https://e.com/" {LINK}>a [b](https://x.y)</a></p>',
    # what must stay text
    "<b>bold</b> <img src=x onerror=alert(1)>": "<p>&lt;b&gt;bold&lt;/b&gt; &lt;img src=x onerror=alert(1)&gt;</p>",
    "[x](javascript:alert(1))": "<p>[x](javascript:alert(1))</p>",
    "[x](JaVaScRiPt:alert(1))": "<p>[x](JaVaScRiPt:alert(1))</p>",
    "[x](java\tscript:alert(1))": "<p>[x](java\tscript:alert(1))</p>",
    "[x](javascript&#58;alert(1))": "<p>[x](javascript&amp;#58;alert(1))</p>",
    "[x](data:text/html,<script>alert(1)</script>)": "<p>[x](data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;)</p>",
    "[x](vbscript:msgbox)": "<p>[x](vbscript:msgbox)</p>",
    "[x](/relative/path)": "<p>[x](/relative/path)</p>",
    "<javascript:alert(1)>": "<p>&lt;javascript:alert(1)&gt;</p>",
    "&lt;not decoded&gt; &#x3C;": "<p>&amp;lt;not decoded&amp;gt; &amp;#x3C;</p>",
}

RENDER_JS = """
async (cases) => {
  const { renderMarkdown } = await import("/static/markdown.js");
  const out = {};
  for (const source of cases) {
    const box = document.createElement("div");
    box.append(renderMarkdown(source));
    out[source] = box.innerHTML;
  }
  return out;
}
"""

HOSTILE_JS = """
async () => {
  const { renderMarkdown } = await import("/static/markdown.js");
  const inputs = [
    "*".repeat(60000), "_a".repeat(30000), "**a".repeat(20000), "`".repeat(60000), "[".repeat(60000),
    "[a](".repeat(15000), "> ".repeat(20000) + "deep", "- ".repeat(20000) + "deep", "<".repeat(60000),
    "https://".repeat(7000), "~~x".repeat(20000), "\\n".repeat(60000),
  ];
  let elements = 0, anchors = 0, text = 0;
  for (const source of inputs) {
    const box = document.createElement("div");
    box.append(renderMarkdown(source));
    elements += box.querySelectorAll("*").length;
    anchors += box.querySelectorAll("a:not([href^='https:']):not([href^='http:']):not([href^='mailto:'])").length;
    text += box.textContent.length;
  }
  return { elements, anchors, text };
}
"""


def test_markdown_renders_to_the_expected_nodes(start_server: StartServer, page: Page) -> None:
    server = start_server()
    page.goto(server.url.split("/review/")[0] + "/")
    got = page.evaluate(RENDER_JS, list(CASES))
    wrong = {source: (got[source], want) for source, want in CASES.items() if got[source] != want}
    assert not wrong, "\n".join(f"{source!r}:\n  got  {g}\n  want {w}" for source, (g, w) in wrong.items())


def test_markdown_survives_hostile_input(start_server: StartServer, page: Page) -> None:
    server = start_server()
    page.goto(server.url.split("/review/")[0] + "/")
    result = page.evaluate(HOSTILE_JS)
    assert result["anchors"] == 0
    assert result["text"] > 0
