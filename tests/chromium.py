"""The system Chromium the browser tests and the benchmarks drive under Playwright (never a downloaded one), and
how it is started. Standard library only: the benchmarks import it without pytest."""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("BACKLOOP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
