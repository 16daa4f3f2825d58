"""The ``backloop server`` processes of a state directory, each with the token of its agent API: how ``backloop
review`` finds a server and may use it.

Each server writes ``servers/PORT.json`` (its address, process id and a random token, 0600 in the owner-only
state directory) once it listens, and removes it when it stops. The token is new at every start, so a file left
behind by a killed server names a token that nothing accepts any more. Before sending the token (or a review id)
to an address, a client has the server prove that it holds the token (``proof``): a port freed by a killed server
may have been taken by another user's process since.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

SERVERS = "servers"
"""The directory, in the state directory, of the running servers' files."""
TOKEN_BYTES = 32


@dataclass(frozen=True)
class ServerFile:
    port: int
    address: str
    """``HOST:PORT`` (``[HOST]:PORT`` for IPv6), where the server listens."""
    token: str
    pid: int


def new_token() -> str:
    return secrets.token_hex(TOKEN_BYTES)


def proof(token: str, nonce: str) -> str:
    """What the server holding ``token`` answers to ``nonce``: a MAC, which tells nothing of the token."""
    return hmac.new(token.encode(), f"backloop agent api: {nonce}".encode(), hashlib.sha256).hexdigest()


def write(state_dir: Path, server: ServerFile) -> Path:
    """Write (replace) the file of ``server``, readable by its owner only whatever the umask; the files of servers
    whose process has gone (killed: no one removed them) go."""
    folder = state_dir / SERVERS
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    for old in listed(state_dir):
        if not _alive(old.pid):
            remove(state_dir, old)
    path = folder / f"{server.port}.json"
    partial = folder / f".{server.port}.{server.pid}.{secrets.token_hex(4)}"
    fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(asdict(server), out)
        os.replace(partial, path)  # whole or not at all, for a reader
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise
    return path


def remove(state_dir: Path, server: ServerFile) -> None:
    """Remove the file of ``server``, unless another server has written its own there since."""
    path = state_dir / SERVERS / f"{server.port}.json"
    if read(path) == server:
        with contextlib.suppress(OSError):
            path.unlink()


def read(path: Path) -> ServerFile | None:
    try:
        data = json.loads(path.read_text())
        found = ServerFile(port=int(data["port"]), address=str(data["address"]), token=str(data["token"]),
                           pid=int(data["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # (another user's: alive)
        return True
    return True


def listed(state_dir: Path) -> list[ServerFile]:
    """Every server file of ``state_dir``, the newest first (a file may outlive its server: ask before use)."""
    try:
        paths = list((state_dir / SERVERS).glob("*.json"))
    except OSError:
        return []
    paths.sort(key=_written, reverse=True)
    return [found for found in map(read, paths) if found is not None]


def _written(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # (removed meanwhile: its server stopped)
        return 0.0


def at_port(state_dir: Path, port: int) -> ServerFile | None:
    return read(state_dir / SERVERS / f"{port}.json")
