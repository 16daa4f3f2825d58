"""Host and Origin checks (DNS rebinding, cross-site websockets and posts) and security headers."""

from __future__ import annotations

import re
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backloop.config import LOOPBACK_HOSTS
from backloop.protocol import CLOSE_FORBIDDEN

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
    "font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
RAW_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
"""For raw file bytes: even if a browser renders one as a document, nothing in it can run."""

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})
"""The loopback names as they appear in a Host header."""
_AUTHORITY = re.compile(r"(\[[0-9a-f:.]+\]|[^\[\]:/?#@\s]+)(?::([0-9]{1,5}))?")
_ORIGIN = re.compile(r"https?://(.+)")


def split_host(value: str) -> tuple[str, str | None] | None:
    """A Host header, or an origin's host part, as (name in lower case, port or None); None if it is neither."""
    match = _AUTHORITY.fullmatch(value.lower())
    return (match[1], match[2]) if match else None


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    names = set(LOOPBACK_HOSTS) | {host}
    return frozenset(f"[{n}]:{port}" if ":" in n else f"{n}:{port}" for n in names)


class SecurityMiddleware:
    """Refuses requests whose Host is not ours and cross-origin websockets / state-changing requests.

    Ours: the printed address (``hosts``, exact), a loopback name with any port (a port forwarded to ours, as by
    ``ssh -L OTHER:127.0.0.1:PORT``, arrives with the browser's port; no browser sends a loopback name to our socket
    otherwise), and the ``names`` the person allowed (``--allow-host``), with any port or none. A same-origin
    request carries an Origin that is ours too: the printed one, the very address the request was sent to (through
    a forwarder), or one under an allowed name (http or https: a forwarding proxy may end TLS and rewrite Host). A
    page of another local server (``http://127.0.0.1:OTHER`` sending to our port) stays cross-origin."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str], names: Iterable[str] = ()) -> None:
        self.app = app
        self.hosts = frozenset(hosts)
        self.origins = frozenset(f"http://{h}" for h in self.hosts)
        self.names = frozenset(names)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": CLOSE_FORBIDDEN, "reason": refusal})
                return
            await PlainTextResponse(refusal, status_code=403)(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                names = {k.lower() for k, _ in raw}
                if b"content-security-policy" not in names:
                    raw.append((b"content-security-policy", PAGE_CSP.encode()))
                raw += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"cross-origin-resource-policy", b"same-origin"),
                ]
                message["headers"] = raw
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _host_allowed(self, host: str) -> bool:
        if host in self.hosts:
            return True
        parts = split_host(host)
        if parts is None:
            return False
        name, port = parts
        return (name in LOOPBACK_NAMES and port is not None) or name in self.names

    def _origin_allowed(self, origin: str, host: str) -> bool:
        if origin in self.origins or origin == f"http://{host}":
            return True
        match = _ORIGIN.fullmatch(origin)
        parts = split_host(match[1]) if match else None
        return parts is not None and parts[0] in self.names

    def _refusal(self, scope: Scope, headers: Headers) -> str | None:
        host = headers.get("host", "")
        if not self._host_allowed(host):
            return f"Host {host!r} is not allowed: backloop only answers to its loopback address"
        origin = headers.get("origin")
        if scope["type"] == "websocket":
            # Browsers always send Origin on websockets; other clients (editor plugins, TUIs) need not.
            if origin is not None and not self._origin_allowed(origin, host):
                return f"Origin {origin!r} may not open a websocket here"
        elif scope["method"] not in _SAFE_METHODS:
            fetch_site = headers.get("sec-fetch-site")
            if origin is None and fetch_site not in (None, "same-origin", "none"):
                return "cross-site request refused"
            if origin is not None and not self._origin_allowed(origin, host):
                return f"Origin {origin!r} may not change anything here"
        return None
