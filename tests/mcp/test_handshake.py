"""The early answers to ``initialize`` and ``tools/list`` are the SDK's own, field for field, for every request
they answer."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp_types import version as sdk_versions

from backloop.config import Settings
from backloop.mcp import handshake, tools_json
from backloop.mcp.server import build_server
from backloop.mcp.stdio import run_on
from backloop.runtime import Runtime

CLIENT = {"name": "client", "version": "1.0"}


def request(params: Any, request_id: Any = 1) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "initialize", "params": params}).encode()


def sdk_answer(line: bytes, state: Path) -> dict[str, Any]:
    """What the SDK itself answers to ``line``, through the same code path the launcher hands the wire to."""
    out = io.StringIO()

    async def run() -> None:
        runtime = Runtime(Settings(state_dir=state))
        try:
            wire = (anyio.wrap_file(io.StringIO(line.decode() + "\n")), anyio.wrap_file(out))
            await run_on(build_server(runtime, state), wire)
        finally:
            await runtime.close()

    anyio.run(run)
    (answer,) = [json.loads(text) for text in out.getvalue().splitlines()]
    assert isinstance(answer, dict)
    return answer


def test_the_negotiable_versions_are_the_sdks() -> None:
    assert handshake.HANDSHAKE_VERSIONS == sdk_versions.HANDSHAKE_PROTOCOL_VERSIONS
    assert handshake.HANDSHAKE_VERSIONS[-1] == sdk_versions.LATEST_HANDSHAKE_VERSION


CLIENTS = [
    {"protocolVersion": version, "capabilities": {}, "clientInfo": CLIENT}
    for version in (*sdk_versions.KNOWN_PROTOCOL_VERSIONS, "1999-01-01", "")
] + [
    {"protocolVersion": "2025-06-18", "capabilities": capabilities, "clientInfo": info}
    for capabilities, info in [
        ({"roots": {"listChanged": True}}, CLIENT),
        ({"roots": {}, "sampling": {}, "elicitation": {}}, {**CLIENT, "title": "Client"}),
        ({"elicitation": {"form": {}, "url": {}}, "sampling": {"context": {}, "tools": {}}}, CLIENT),
        ({"experimental": {"x": {"on": True}}, "extensions": {"io.example/y": {}}, "future": 1}, CLIENT),
        ({"tasks": {"list": {}, "cancel": {}}}, {**CLIENT, "description": "d"}),
    ]
]


@pytest.mark.parametrize("params", CLIENTS, ids=lambda params: json.dumps(params, sort_keys=True)[:60])
@pytest.mark.parametrize("request_id", [7, "req-7"])
def test_the_early_answer_is_the_sdks(params: dict[str, Any], request_id: int | str, tmp_path: Path) -> None:
    line = request(params, request_id)
    early = handshake.early_answer(line)
    assert early is not None
    assert early[0] == request_id
    assert json.loads(early[1]) == sdk_answer(line, tmp_path)


@pytest.mark.parametrize("line", [
    b"not json",
    b'{"jsonrpc":"2.0","id":1,"method":"ping"}',
    b'{"jsonrpc":"2.0","method":"initialize","params":{}}',  # a notification: nothing to answer
    request({"protocolVersion": "2025-06-18", "capabilities": {}}),
    request({"protocolVersion": 2025, "capabilities": {}, "clientInfo": CLIENT}),
    request({"protocolVersion": "2025-06-18", "capabilities": {"roots": {"listChanged": "yes"}}, "clientInfo": CLIENT}),
    request({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": CLIENT, "_meta": {}}),
    request({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": CLIENT}, request_id=True),
    request({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": CLIENT}, request_id=None),
])
def test_anything_else_is_left_to_the_sdk(line: bytes) -> None:
    assert handshake.early_answer(line) is None


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=5), inner, max_size=2),
                    max_leaves=6)
CAPABILITY = st.sampled_from(["roots", "sampling", "elicitation", "experimental", "extensions", "tasks", "other"])


# Mostly the shapes clients send, sometimes anything.
FLAG: st.SearchStrategy[Any] = st.just({}) | st.just({"on": True}) | JSON


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(capabilities=st.dictionaries(CAPABILITY, st.dictionaries(st.sampled_from(
           ["listChanged", "form", "context", "list", "x"]), FLAG | st.booleans(), max_size=2) | JSON, max_size=3),
       info=st.fixed_dictionaries({"name": st.text(max_size=3), "version": st.text(max_size=3) | JSON},
                                  optional={"title": st.text(max_size=3) | JSON, "icons": JSON}),
       version=st.sampled_from([*sdk_versions.KNOWN_PROTOCOL_VERSIONS, "x"]))
def test_whenever_it_answers_early_the_sdk_agrees(capabilities: dict[str, Any], info: dict[str, Any], version: str,
                                                  tmp_path_factory: pytest.TempPathFactory) -> None:
    line = request({"protocolVersion": version, "capabilities": capabilities, "clientInfo": info})
    early = handshake.early_answer(line)
    if early is not None:
        assert json.loads(early[1]) == sdk_answer(line, tmp_path_factory.mktemp("state"))


# ---- tools/list ----------------------------------------------------------------------------------------------------

LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def test_the_tools_file_is_current() -> None:
    """tools.json is what the SDK lists for our tools now (after changing a tool: python -m
    backloop.mcp.tools_json)."""
    assert tools_json.main(["--check"]) == 0
    assert handshake.tools_result() == tools_json.tools_result()


@pytest.mark.parametrize("version", sdk_versions.HANDSHAKE_PROTOCOL_VERSIONS)
@pytest.mark.parametrize(("listing", "request_id"), [(LIST, 2), ({**LIST, "id": "t-9", "params": {}}, "t-9")])
def test_the_early_tools_answer_is_the_sdks_for_every_version(version: str, listing: dict[str, Any],
                                                              request_id: int | str) -> None:
    init = json.loads(request({"protocolVersion": version, "capabilities": {}, "clientInfo": CLIENT}))
    answers = tools_json.sdk_answers(init, INITIALIZED, listing)
    (sdk,) = [answer for answer in answers if answer.get("id") == request_id]
    early = handshake.tools_answer(json.dumps(listing).encode())
    assert early is not None and early[0] == request_id
    assert json.loads(early[1]) == sdk


TOOLS_LIST_BUDGET = 4000
"""Bytes: every agent reads the whole tools list into its context (the workflow is in the instructions, once)."""


def test_the_tools_list_stays_small() -> None:
    """The whole tools/list answer, compact JSON as the client receives it, the SDK's and the early one alike."""
    init = json.loads(request({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": CLIENT}))
    (sdk,) = [answer for answer in tools_json.sdk_answers(init, INITIALIZED, LIST) if answer.get("id") == 2]
    assert len(json.dumps(sdk, separators=(",", ":"), ensure_ascii=False).encode()) <= TOOLS_LIST_BUDGET
    early = handshake.tools_answer(json.dumps(LIST).encode())
    assert early is not None and len(early[1].rstrip(b"\n")) <= TOOLS_LIST_BUDGET


@pytest.mark.parametrize("listing", [
    {**LIST, "params": {"cursor": "abc"}},
    {**LIST, "params": {"_meta": {"progressToken": 1}}},
    {**LIST, "params": None},
    {**LIST, "id": True},
    {**LIST, "id": None},
    {"jsonrpc": "2.0", "method": "tools/list"},  # a notification: nothing to answer
    {**LIST, "jsonrpc": "1.0"},
    {**LIST, "extra": 1},
    {**LIST, "method": "tools/call"},
])
def test_other_listings_are_left_to_the_sdk(listing: dict[str, Any]) -> None:
    assert handshake.tools_answer(json.dumps(listing).encode()) is None


def test_initialized_is_recognised() -> None:
    assert handshake.is_initialized(json.dumps(INITIALIZED).encode())
    assert not handshake.is_initialized(json.dumps({**INITIALIZED, "id": 3}).encode())
    assert not handshake.is_initialized(b"notifications/initialized")
    assert not handshake.is_initialized(json.dumps(LIST).encode())
