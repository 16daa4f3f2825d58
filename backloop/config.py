"""Frozen settings of one backloop process."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DATABASE = "backloop.db"
"""The SQLite file in the state directory: reviews, comments and their state."""
MAX_IDS_PER_REQUEST = 200
"""The most review ids one ``/api/reviews`` request may ask about (``backloop list`` asks in batches of this)."""


def default_state_dir() -> Path:
    """Per-user state directory (``$XDG_STATE_HOME/backloop``, ``~/.local/state/backloop``)."""
    override = os.environ.get("BACKLOOP_STATE_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "backloop"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 0
    """0 picks a free port."""
    state_dir: Path = Path()

    @property
    def url_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def database(self) -> Path:
        return self.state_dir / DATABASE

    def base_url(self, port: int) -> str:
        return f"http://{self.url_host}:{port}"
