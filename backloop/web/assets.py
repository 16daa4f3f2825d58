"""The static client's files under a versioned path, cached for good by browsers: ``/static/v/<version>/…``,
where the version changes whenever any file does. The review page points there, so a reload fetches none of its
modules again (a module's relative imports stay under the same version)."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import stat
from pathlib import Path

import anyio
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

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
    """Serves ``/static/v/{version}/…`` (``files`` is a StaticFiles mounted there). The current version's files
    come from memory, read once (a page's two dozen module requests then cost the server next to nothing: with
    six connections to a host, each request the server takes its time over delays the next), cached for good by
    the browser. An older version's URL still answers, through ``files``, with the current file, revalidated."""

    def __init__(self, files: StaticFiles, assets: Assets) -> None:
        self.files = files
        self.assets = assets
        self.version = ""
        self.read: dict[str, tuple[bytes, str]] = {}
        """The current version's files read so far: body and media type by path."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        current = scope.get("path_params", {}).get("version") == self.assets.current
        if current and scope["method"] == "GET":
            found = await self.lookup(self.files.get_path(scope))
            if found is not None:
                body, media = found
                await Response(body, media_type=media, headers={"cache-control": IMMUTABLE})(scope, receive, send)
                return

        async def send_cached(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                MutableHeaders(scope=message)["cache-control"] = IMMUTABLE if current else REVALIDATE
            await send(message)

        await self.files(scope, receive, send_cached)

    async def lookup(self, path: str) -> tuple[bytes, str] | None:
        """The body and media type of a file of the current version (None: not a file of the directory)."""
        if self.version != self.assets.current:
            self.version = self.assets.current
            self.read.clear()
        found = self.read.get(path)
        if found is None:
            full, status = self.files.lookup_path(path)  # (which keeps the path inside the directory)
            if status is None or not stat.S_ISREG(status.st_mode):
                return None
            body = await anyio.to_thread.run_sync(Path(full).read_bytes)
            found = self.read[path] = (body, mimetypes.guess_type(full)[0] or "application/octet-stream")
        return found
