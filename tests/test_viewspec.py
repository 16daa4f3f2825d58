"""View parameters from URLs: validated before anything reaches git, and round-tripped through query strings."""

from __future__ import annotations

from urllib.parse import parse_qsl

import msgspec
import pytest

from backloop.viewspec import MAX_CONTEXT, ViewError, ViewSpec, parse_view, split_range, validate_rev


def test_defaults() -> None:
    spec = parse_view({"since": "HEAD"})
    assert spec == ViewSpec(since="HEAD")
    assert (spec.live, spec.layout, spec.ws, spec.context) == (False, "unified", False, 3)


def test_all_parameters() -> None:
    spec = parse_view({"since": "main~2", "live": "true", "view": "split", "ws": "1", "context": "10"})
    assert spec == ViewSpec(since="main~2", live=True, layout="split", ws=True, context=10)
    assert parse_view({"commit": "abc123"}).commit == "abc123"
    assert parse_view({"range": "a...b"}).range == "a...b"


@pytest.mark.parametrize("spec", [
    ViewSpec(since="HEAD", live=True),
    ViewSpec(since="v1.0", layout="split", ws=True, context=0),
    ViewSpec(commit="HEAD@{1}"),
    ViewSpec(range="main...feature/x", context=MAX_CONTEXT),
    ViewSpec(range="..HEAD"),
])
def test_query_round_trip(spec: ViewSpec) -> None:
    assert parse_view(dict(parse_qsl(spec.query()))) == spec


def test_layout_is_called_view_on_the_wire_and_in_the_store() -> None:
    spec = ViewSpec(since="HEAD", live=True, layout="split")
    assert msgspec.json.encode(spec) == b'{"since":"HEAD","live":true,"view":"split"}'
    assert msgspec.json.decode(b'{"since":"HEAD","view":"split"}', type=ViewSpec).layout == "split"


def test_diff_key_ignores_layout() -> None:
    unified = parse_view({"since": "HEAD", "view": "unified"})
    split = parse_view({"since": "HEAD", "view": "split"})
    assert unified != split and unified.diff_key() == split.diff_key()
    assert unified.diff_key() != parse_view({"since": "HEAD", "ws": "1"}).diff_key()


def test_describe() -> None:
    assert parse_view({"since": "HEAD", "live": "1"}).describe() == "changes since HEAD (live work tree)"
    assert parse_view({"since": "HEAD"}).describe() == "changes since HEAD (staged)"
    assert parse_view({"commit": "abc"}).describe() == "commit abc"
    assert parse_view({"range": "a..b"}).describe() == "range a..b"


@pytest.mark.parametrize(("params", "message"), [
    ({}, "give exactly one of since=REV, commit=REV or range=A..B"),
    ({"since": ""}, "give exactly one of"),
    ({"since": "HEAD", "commit": "HEAD"}, r"\(got since, commit\)"),
    ({"since": "HEAD", "range": "a..b"}, r"\(got since, range\)"),
    ({"since": "--output=/tmp/x"}, "since '--output=/tmp/x' is not a valid git revision"),
    ({"commit": "-p"}, "commit '-p' is not a valid git revision"),
    ({"since": "a..b"}, "not a valid git revision"),
    ({"since": "HEAD:file"}, "not a valid git revision"),
    ({"since": ":/search"}, "not a valid git revision"),
    ({"since": "a b"}, "not a valid git revision"),
    ({"since": "$(id)"}, "not a valid git revision"),
    ({"range": "HEAD"}, "must have the form A..B or A...B"),
    ({"range": "--output=/tmp/x..HEAD"}, "range start '--output=/tmp/x' is not a valid git revision"),
    ({"range": "HEAD..--all"}, "range end '--all' is not a valid git revision"),
    ({"range": "a..b..c"}, "not a valid git revision"),
    ({"since": "HEAD", "live": "maybe"}, "live='maybe' must be true or false"),
    ({"since": "HEAD", "ws": "2"}, "ws='2' must be true or false"),
    ({"commit": "HEAD", "live": "true"}, "live=true works only with since=REV"),
    ({"range": "a..b", "live": "true"}, "live=true works only with since=REV"),
    ({"since": "HEAD", "view": "sideways"}, "view='sideways' must be unified or split"),
    ({"since": "HEAD", "context": "-1"}, "context='-1' must be a whole number"),
    ({"since": "HEAD", "context": "1e3"}, "must be a whole number"),
    ({"since": "HEAD", "context": "٣"}, "must be a whole number"),  # an Arabic-Indic digit: isdigit() but not ASCII
    ({"since": "HEAD", "context": str(MAX_CONTEXT + 1)}, "must be a whole number from 0 to"),
    ({"since": "HEAD", "context": "9" * 5000}, "must be a whole number"),  # int() refuses > 4300 digits
])
def test_bad_parameters(params: dict[str, str], message: str) -> None:
    with pytest.raises(ViewError, match=message):
        parse_view(params)


def test_flags() -> None:
    for raw in ("1", "true", "True", "yes", "on"):
        assert parse_view({"since": "HEAD", "live": raw}).live
    for raw in ("0", "false", "no", "off", ""):
        assert not parse_view({"since": "HEAD", "live": raw}).live


def test_split_range() -> None:
    assert split_range("a..b") == ("a", "b", False)
    assert split_range("a...b") == ("a", "b", True)
    assert split_range("..b") == ("HEAD", "b", False)
    assert split_range("a...") == ("a", "HEAD", True)


@pytest.mark.parametrize("rev", ["HEAD", "@", "main", "v1.2.3", "feature/x-y_z", "HEAD~3", "HEAD^2", "HEAD@{1}",
                                 "origin/main@{upstream}", "a1b2c3d", "0" * 40, "+x"[1:]])
def test_valid_revisions(rev: str) -> None:
    assert validate_rev(rev) == rev
