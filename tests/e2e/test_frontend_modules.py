"""The review page's modules: review.html preloads exactly the modules app.js imports statically (so they are
fetched at once, not one import level at a time), the ones loaded after the first paint are not among them, and
every import names a file that exists."""

from __future__ import annotations

import re

from tests.support import ROOT

FRONTEND = ROOT / "frontend"
STATIC_IMPORT = re.compile(r'^\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.{1,2}/[^"]+)"', re.M)
# (not a JSDoc type, `import("./store.js").Change`)
DYNAMIC_IMPORT = re.compile(r'\bimport\(\s*"(\.{1,2}/[^"]+)"\s*\)(?!\.)')


def module_name(importer: str, specifier: str) -> str:
    target = (FRONTEND / importer).parent / specifier
    return target.resolve().relative_to(FRONTEND.resolve()).as_posix()


def graph(start: str, pattern: re.Pattern[str] = STATIC_IMPORT) -> list[str]:
    """``start`` and every module it imports statically, directly or not."""
    seen: list[str] = []
    todo = [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.append(name)
        assert (FRONTEND / name).is_file(), f"{name} is imported but does not exist"
        todo.extend(module_name(name, spec) for spec in pattern.findall((FRONTEND / name).read_text("utf-8")))
    return seen


def preloaded() -> list[str]:
    html = (FRONTEND / "review.html").read_text("utf-8")
    return re.findall(r'<link rel="modulepreload" href="/static/([^"]+)">', html)


def test_review_html_preloads_the_static_import_graph_of_app_js() -> None:
    assert sorted(preloaded()) == sorted(graph("app.js"))
    assert len(set(preloaded())) == len(preloaded())


def test_modules_loaded_after_first_paint_exist_and_are_not_preloaded() -> None:
    later = {module_name(name, spec) for name in graph("app.js")
             for spec in DYNAMIC_IMPORT.findall((FRONTEND / name).read_text("utf-8"))}
    assert "extras.js" in later
    assert set(graph("extras.js")) - set(graph("app.js")) <= later, "the page should ask for all of extras.js at once"
    assert not later & set(preloaded())
