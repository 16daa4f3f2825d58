"""Stands in for ``backloop.mcp.server`` in the launcher's loader thread: the import finishes only once the test
writes to the named pipe ``BACKLOOP_TEST_GATE``, so a test can see what the launcher does while the SDK loads."""

from __future__ import annotations

import os
from pathlib import Path

Path(os.environ["BACKLOOP_TEST_GATE"]).read_bytes()  # blocks until the test opens the gate

import backloop.mcp.server  # noqa: E402,F401
