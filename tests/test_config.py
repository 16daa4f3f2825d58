"""Allowed host names: what ``--allow-host`` and ``BACKLOOP_ALLOW_HOST`` accept, and the MCP server's settings
carrying them to its web server."""

from __future__ import annotations

import http.client
import logging
from pathlib import Path

import anyio
import pytest

from backloop.config import allow_hosts_from_env, host_name
from backloop.runtime import Runtime


@pytest.mark.parametrize(("value", "name"), [("devbox.test", "devbox.test"), ("DevBox.Example", "devbox.example"),
                                              ("name-52267.app.github.dev", "name-52267.app.github.dev"),
                                              ("localhost", "localhost"), ("10.0.0.5", "10.0.0.5"), ("x", "x")])
def test_plain_host_names(value: str, name: str) -> None:
    assert host_name(value) == name


@pytest.mark.parametrize("value", ["", " ", "devbox.test:8000", "http://devbox.test", "devbox.test/x", "*.test",
                                   "-devbox.test", "devbox-.test", "devbox..test", "devbox.test.", "[::1]", "::1",
                                   "dev box", "dev_box.test", "a" * 64 + ".test", "user@devbox.test",
                                   ("a" * 60 + ".") * 5 + "test", "d\u00e9vbox.test"])
def test_anything_else_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="is not a plain host name"):
        host_name(value)


def test_the_environment_variable(caplog: pytest.LogCaptureFixture) -> None:
    assert allow_hosts_from_env({}) == ()
    with caplog.at_level(logging.WARNING):
        found = allow_hosts_from_env({"BACKLOOP_ALLOW_HOST": " devbox.test, ,Other.Example,bad:1,devbox.test"})
    assert found == ("devbox.test", "other.example")
    assert [r.getMessage() for r in caplog.records] == [
        "BACKLOOP_ALLOW_HOST: 'bad:1' is not a plain host name (such as devbox.example; no scheme, port, path or "
        "wildcard); left out"]


def status(port: int, host: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", "/api/reviews", skip_host=True)
        conn.putheader("Host", host)
        conn.endheaders()
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@pytest.mark.anyio
async def test_the_mcp_servers_web_server_answers_to_the_allowed_names(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from backloop.mcp.early import settings_from_env

    monkeypatch.setenv("BACKLOOP_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("BACKLOOP_ALLOW_HOST", "devbox.test,other.example")
    settings = settings_from_env()
    assert settings.allow_hosts == ("devbox.test", "other.example")
    runtime = Runtime(settings)
    try:
        port = await runtime.start_web()
        for host, expected in ((f"devbox.test:{port}", 200), ("other.example", 200), (f"127.0.0.1:{port}", 200),
                               (f"evil.example:{port}", 403)):
            assert await anyio.to_thread.run_sync(status, port, host) == expected, host
    finally:
        await runtime.close()
