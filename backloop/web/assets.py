"""The static client's files under a versioned path, cached for good by browsers: ``/static/v/<version>/…``,
where the version changes whenever any file does. The review page points there, so a reload fetches none of its
modules again (a module's relative imports stay under the same version)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIX = "/static/v/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


class Assets:
    """The files of the static client (``root``) and their version."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.current = self.version()
        """The version the last page pointed at (what the files' requests are checked against)."""

    def version(self) -> str:
        """Changes when a file is added, removed or written (by path, size and mtime: a checkout edited while the
        server runs gets a new version at the next page view, and no stale module stays cached under the old
        one). About a millisecond: computed for each page, not for each file."""
        digest = hashlib.blake2b(digest_size=8)
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames.sort()
            for name in sorted(filenames):
                path = Path(dirpath, name)
                stat = path.stat()
                digest.update(f"{path.relative_to(self.root).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        return digest.hexdigest()

    def page(self, name: str) -> str:
        """The HTML file ``name`` with its ``/static/`` URLs pointing at the current version."""
        self.current = self.version()
        text = (self.root / name).read_text(encoding="utf-8")
        return text.replace('"/static/', f'"{PREFIX}{self.current}/')


class Versioned:
    """Serves ``/static/v/{version}/…`` with ``app`` (a StaticFiles mounted there), cached for good when the
    version is the current one; an older version's URL still answers, with the current file, revalidated."""

    def __init__(self, app: ASGIApp, assets: Assets) -> None:
        self.app = app
        self.assets = assets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        current = scope.get("path_params", {}).get("version") == self.assets.current

        async def send_cached(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                MutableHeaders(scope=message)["cache-control"] = IMMUTABLE if current else REVALIDATE
            await send(message)

        await self.app(scope, receive, send_cached)
