"""A first startreview answered before the SDK has loaded (early.py) gets the SDK's own answer, field for field, and
only plain calls are taken."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import pytest
from mcp_types import version as sdk_versions

from backloop.config import Settings
from backloop.mcp import early, handshake, tools, tools_json
from tests.conftest import MakeRepo
from tests.support import ROOT

INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def init(version: str = "2025-06-18") -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}


def call(arguments: Any, request_id: Any = 2, **params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call",
            "params": {"name": "startreview", "arguments": arguments, **params}}


def sdk_result(arguments: dict[str, Any], version: str = "2025-06-18") -> dict[str, Any]:
    (answer,) = [a for a in tools_json.sdk_answers(init(version), INITIALIZED, call(arguments)) if a.get("id") == 2]
    result: dict[str, Any] = answer["result"]
    return result


def early_result(arguments: dict[str, str | None], state: Path) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        runtime = await early.open_runtime(Settings(state_dir=state), state)
        try:
            return await early.startreview(runtime, state, arguments)
        finally:
            await runtime.close()

    return anyio.run(run)


def normalised(result: dict[str, Any]) -> dict[str, Any]:
    """Without what differs from one start to the next: the review's id and the web server's port."""
    text = json.dumps(result)
    structured = result.get("structuredContent")
    if structured is not None:
        text = text.replace(structured["review_id"], "<id>")
        text = text.replace(f":{urlsplit(structured['url']).port}/", ":<port>/")
    normal: dict[str, Any] = json.loads(text)
    return normal


@pytest.fixture
def repo(make_repo: MakeRepo) -> Path:
    made = make_repo({"app.py": "a = 1\n"})
    made.write("app.py", "a = 2\n")
    return made.root


@pytest.mark.parametrize(("arguments", "refused"), [
    ({"since": "HEAD", "title": "my change"}, False),
    ({"commit": "HEAD", "since": None}, False),
    ({}, True),  # exactly one of since, commit or range
    ({"since": "no-such-branch"}, True),
    ({"range": "main"}, True),
    ({"since": "--output=/tmp/x"}, True),
])
def test_the_early_startreview_is_the_sdks(arguments: dict[str, str | None], refused: bool, repo: Path,
                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    arguments = {**arguments, "repo": str(repo)}  # (the SDK's server here runs in a directory of its own)
    early_answer = early_result(arguments, tmp_path_factory.mktemp("state"))
    assert early_answer["isError"] is refused
    assert normalised(early_answer) == normalised(sdk_result(arguments))


def test_outside_a_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    arguments: dict[str, str | None] = {"since": "HEAD", "repo": str(plain)}
    answer = early_result(arguments, tmp_path / "state")
    assert answer["isError"] and "not inside a git work tree" in answer["content"][0]["text"]
    assert answer == sdk_result(arguments)


@pytest.mark.parametrize("version", sdk_versions.HANDSHAKE_PROTOCOL_VERSIONS)
def test_every_version_gets_the_same_answer(version: str, repo: Path, tmp_path: Path) -> None:
    arguments: dict[str, str | None] = {"since": "HEAD", "repo": str(repo)}
    assert normalised(early_result(arguments, tmp_path)) == normalised(sdk_result(arguments, version))


def test_a_crash_says_no_more_than_the_sdk(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def crash(*args: object, **kwargs: object) -> tools.StartedReview:
        raise RuntimeError("internal detail")

    monkeypatch.setattr(tools, "start_review", crash)
    arguments: dict[str, str | None] = {"since": "HEAD", "repo": str(repo)}
    answer = early_result(arguments, tmp_path)
    assert answer == sdk_result(arguments) and "internal detail" not in json.dumps(answer)


def test_the_early_parameters_are_the_tools() -> None:
    (start,) = [tool for tool in handshake.tools_result()["tools"] if tool["name"] == "startreview"]
    assert set(start["inputSchema"]["properties"]) == handshake.START_PARAMS


@pytest.mark.parametrize(("message", "taken"), [
    (call({"since": "HEAD"}), (2, {"since": "HEAD"})),
    (call({"since": "HEAD", "title": None, "repo": "/r"}, "c-1"), ("c-1", {"since": "HEAD", "title": None,
                                                                          "repo": "/r"})),
    ({**call({}), "params": {"name": "startreview"}}, (2, {})),
    (call({"since": 1}), None),  # the SDK's validation says what is wrong
    (call({"since": ["HEAD"]}), None),
    (call({"since": "HEAD", "other": "x"}), None),
    (call(None), None),
    (call({"since": "HEAD"}, _meta={"progressToken": 1}), None),
    (call({"since": "HEAD"}, True), None),
    ({**call({"since": "HEAD"}), "params": {"name": "await_comments", "arguments": {}}}, None),
    ({**call({"since": "HEAD"}), "method": "tools/list"}, None),
    ({key: value for key, value in call({"since": "HEAD"}).items() if key != "id"}, None),  # a notification
])
def test_only_plain_calls_are_taken(message: dict[str, Any], taken: tuple[Any, ...] | None) -> None:
    assert handshake.startreview_call(json.dumps(message).encode()) == taken


def test_the_early_path_imports_no_sdk() -> None:
    """What answers a first startreview loads without the SDK (tools.py included): that is where its speed is."""
    code = ("import sys, backloop.mcp.early, backloop.mcp.launch; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mcp', 'mcp_types')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
