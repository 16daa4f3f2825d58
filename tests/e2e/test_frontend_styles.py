"""The page's stylesheets: one per part of the page beside the module that renders it, plus base.css; no selector
is styled in two of them, and every stylesheet is linked by a page."""

from __future__ import annotations

import re

from tests.support import ROOT

FRONTEND = ROOT / "frontend"

Rule = tuple[str, str, str]
"""(the @-rules it is inside, one selector, its declarations)"""


def _blocks(text: str) -> list[tuple[str, str]]:
    """The top-level ``prelude { body }`` blocks of CSS without comments."""
    blocks = []
    depth = 0
    start = 0
    prelude = ""
    for i, char in enumerate(text):
        if char == "{":
            if depth == 0:
                prelude, start = text[start:i].strip(), i + 1
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                blocks.append((prelude, text[start:i]))
                start = i + 1
    assert depth == 0 and not text[start:].strip(), "unbalanced braces"
    return blocks


def _selectors(prelude: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in prelude:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [" ".join(part.split()) for part in [*parts, current]]


def rules(css: str, context: str = "") -> list[Rule]:
    """Each selector of each rule with its declarations (normalised), in order."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    found: list[Rule] = []
    for prelude, body in _blocks(css):
        if prelude.startswith("@"):
            found.extend(rules(body, f"{context}{' '.join(prelude.split())} "))
            continue
        declarations = "; ".join(" ".join(d.split()) for d in body.split(";") if d.strip())
        found.extend((context.strip(), selector, declarations) for selector in _selectors(prelude))
    return found


def stylesheets() -> dict[str, str]:
    return {p.relative_to(FRONTEND).as_posix(): p.read_text("utf-8") for p in sorted(FRONTEND.rglob("*.css"))}


def test_no_selector_is_styled_in_two_stylesheets() -> None:
    owner: dict[tuple[str, str], str] = {}
    for name, text in stylesheets().items():
        for context, selector, _ in rules(text):
            other = owner.setdefault((context, selector), name)
            assert other == name, f"{selector} is styled in {other} and {name}"


def test_every_stylesheet_is_linked_by_a_page() -> None:
    linked = set()
    for page in ("review.html", "home.html"):
        linked.update(re.findall(r'<link rel="stylesheet" href="/static/([^"]+\.css)">', (FRONTEND / page).read_text()))
    assert set(stylesheets()) <= linked
    for name in stylesheets():
        if name.startswith("render/"):
            assert (FRONTEND / name).with_suffix(".js").is_file(), f"{name} stands beside no module"
