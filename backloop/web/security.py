"""Host and Origin checks (DNS rebinding, cross-site websockets and posts) and security headers."""

from __future__ import annotations

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


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    names = set(LOOPBACK_HOSTS) | {host}
    return frozenset(f"[{n}]:{port}" if ":" in n else f"{n}:{port}" for n in names)


class SecurityMiddleware:
    """Refuses requests whose Host is not ours and cross-origin websockets / state-changing requests."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = frozenset(hosts)
        self.origins = frozenset(f"http://{h}" for h in self.hosts)

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

    def _refusal(self, scope: Scope, headers: Headers) -> str | None:
        host = headers.get("host", "")
        if host not in self.hosts:
            return f"Host {host!r} is not allowed: backloop only answers to its loopback address"
        origin = headers.get("origin")
        if scope["type"] == "websocket":
            # Browsers always send Origin on websockets; other clients (editor plugins, TUIs) need not.
            if origin is not None and origin not in self.origins:
                return f"Origin {origin!r} may not open a websocket here"
        elif scope["method"] not in _SAFE_METHODS:
            fetch_site = headers.get("sec-fetch-site")
            if origin is None and fetch_site not in (None, "same-origin", "none"):
                return "cross-site request refused"
            if origin is not None and origin not in self.origins:
                return f"Origin {origin!r} may not change anything here"
        return None
