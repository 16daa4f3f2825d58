"""What a view shows: the query parameters of ``/review/{id}/view`` and ``/review/{id}/ws``, validated.

Everything here comes from a URL, so it is validated before it can reach a ``git`` command line.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlencode

import msgspec

Layout = Literal["unified", "split"]
MAX_CONTEXT = 10_000
MAX_ROUND = 1_000_000

# A revision expression as a person types it: names, ~, ^, @{...}, :/ excluded on purpose (no searches).
_REV = re.compile(r"^[A-Za-z0-9_@][A-Za-z0-9_./@{}~^+-]{0,255}$")


class ViewError(ValueError):
    """The view parameters are not valid; the message says which and why."""


class ViewSpec(msgspec.Struct, frozen=True, omit_defaults=True):
    """Exactly one of ``since``, ``commit`` and ``range`` is set."""

    since: str | None = None
    commit: str | None = None
    range: str | None = None
    live: bool = False
    layout: Layout = msgspec.field(default="unified", name="view")
    ws: bool = False
    """Ignore whitespace changes."""
    context: int = 3
    round: int | None = None
    """Changes since the end of this round of the review (1 and up): per file, what was recorded then against now."""

    def diff_key(self) -> ViewSpec:
        """The part of the spec that decides the diff (layout is presentation only)."""
        return msgspec.structs.replace(self, layout="unified")

    def query(self) -> str:
        params: dict[str, str] = {}
        for name in ("since", "commit", "range"):
            value = getattr(self, name)
            if value is not None:
                params[name] = value
        params["live"] = "true" if self.live else "false"
        if self.layout != "unified":
            params["view"] = self.layout
        if self.ws:
            params["ws"] = "1"
        if self.context != 3:
            params["context"] = str(self.context)
        if self.round is not None:
            params["round"] = str(self.round)
        return urlencode(params)

    def whole(self) -> ViewSpec:
        """The same view without ``round``: all the changes."""
        return msgspec.structs.replace(self, round=None)

    def describe(self) -> str:
        if self.round is not None:
            return f"{self.whole().describe()}, changes since round {self.round}"
        if self.since is not None:
            return f"changes since {self.since}" + (" (live work tree)" if self.live else " (staged)")
        if self.commit is not None:
            return f"commit {self.commit}"
        return f"range {self.range}"


def validate_rev(rev: str, what: str = "revision") -> str:
    if not _REV.fullmatch(rev) or ".." in rev:
        raise ViewError(f"{what} {rev!r} is not a valid git revision")
    return rev


def split_range(value: str) -> tuple[str, str, bool]:
    """``A..B`` → (A, B, False); ``A...B`` → (A, B, True) for a merge-base diff. Empty sides mean HEAD."""
    if "..." in value:
        left, _, right = value.partition("...")
        merge_base = True
    elif ".." in value:
        left, _, right = value.partition("..")
        merge_base = False
    else:
        raise ViewError(f"range {value!r} must have the form A..B or A...B")
    left = validate_rev(left or "HEAD", "range start")
    right = validate_rev(right or "HEAD", "range end")
    return left, right, merge_base


def _flag(params: Mapping[str, str], name: str, default: bool) -> bool:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ViewError(f"{name}={raw!r} must be true or false")


def parse_view(params: Mapping[str, str]) -> ViewSpec:
    """Build a ViewSpec from query parameters, or raise ViewError naming the bad parameter."""
    given = [name for name in ("since", "commit", "range") if params.get(name)]
    if len(given) != 1:
        got = f" (got {', '.join(given)})" if given else ""
        raise ViewError(f"give exactly one of since=REV, commit=REV or range=A..B{got}")
    since = params.get("since") or None
    commit = params.get("commit") or None
    rng = params.get("range") or None
    if since is not None:
        validate_rev(since, "since")
    if commit is not None:
        validate_rev(commit, "commit")
    if rng is not None:
        split_range(rng)
    live = _flag(params, "live", False)
    if live and since is None:
        raise ViewError("live=true works only with since=REV (commits and ranges do not change with the work tree)")
    layout = params.get("view") or "unified"
    if layout not in ("unified", "split"):
        raise ViewError(f"view={layout!r} must be unified or split")
    raw_context = params.get("context") or "3"
    if not (raw_context.isascii() and raw_context.isdigit()) or len(raw_context) > 6 or int(raw_context) > MAX_CONTEXT:
        raise ViewError(f"context={raw_context!r} must be a whole number from 0 to {MAX_CONTEXT}")
    raw_round = params.get("round") or None
    if raw_round is not None and not (raw_round.isascii() and raw_round.isdigit() and len(raw_round) <= 7
                                      and 1 <= int(raw_round) <= MAX_ROUND):
        raise ViewError(f"round={raw_round!r} must be a round number from 1 to {MAX_ROUND}")
    return ViewSpec(
        since=since,
        commit=commit,
        range=rng,
        live=live,
        layout="split" if layout == "split" else "unified",
        ws=_flag(params, "ws", False),
        context=int(raw_context),
        round=int(raw_round) if raw_round is not None else None,
    )


def add_view_arguments(parser: argparse.ArgumentParser) -> None:
    """The command-line flags that choose what a new review shows: one of --since (live), --commit, --range."""
    spec = parser.add_mutually_exclusive_group()
    spec.add_argument("--since", help="review changes since REV, live (default: HEAD)")
    spec.add_argument("--commit", help="review the change one commit introduced")
    spec.add_argument("--range", help="review a range A..B (or A...B against the merge base)")
