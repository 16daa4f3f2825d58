"""Frozen settings of one backloop process."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DATABASE = "backloop.db"
"""The SQLite file in the state directory: reviews, comments and their state."""
MAX_IDS_PER_REQUEST = 200
"""The most review ids one ``/api/reviews`` request may ask about (``backloop list`` asks in batches of this)."""

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")

log = logging.getLogger(__name__)


def default_state_dir() -> Path:
    """Per-user state directory (``$XDG_STATE_HOME/backloop``, ``~/.local/state/backloop``)."""
    override = os.environ.get("BACKLOOP_STATE_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "backloop"


def host_name(value: str) -> str:
    """``value`` as a plain host name (lower case), for ``--allow-host``; ValueError for anything else (a port, a
    scheme, a path, a wildcard, an IPv6 literal): the name is matched on its own, with any port."""
    name = value.strip().lower()
    if len(name) > 253 or not _HOST_NAME.fullmatch(name):
        raise ValueError(f"{value!r} is not a plain host name (such as devbox.example; no scheme, port, path or "
                         f"wildcard)")
    return name


def allow_hosts_from_env(environ: Mapping[str, str] = os.environ) -> tuple[str, ...]:
    """``BACKLOOP_ALLOW_HOST`` (comma-separated names) for ``backloop-mcp``. A name that is not valid is left out
    with a warning on stderr: the agent's server keeps running without it."""
    names: list[str] = []
    for part in environ.get("BACKLOOP_ALLOW_HOST", "").split(","):
        if not part.strip():
            continue
        try:
            names.append(host_name(part))
        except ValueError as exc:
            log.warning("BACKLOOP_ALLOW_HOST: %s; left out", exc)
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 0
    """0 picks a free port."""
    state_dir: Path = Path()
    allow_hosts: tuple[str, ...] = ()
    """Further host names the pages may be asked for under (a forwarded dev-container or codespace address), with
    any port; see web/security.py."""
    agent_api: bool = False
    """Serve the agent API (``backloop review``) and write its token to the state directory (``backloop server``;
    the MCP server's agent has MCP)."""

    @property
    def url_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def database(self) -> Path:
        return self.state_dir / DATABASE

    def base_url(self, port: int) -> str:
        return f"http://{self.url_host}:{port}"
