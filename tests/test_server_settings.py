"""Settings through initializationOptions and workspace/didChangeConfiguration."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from server_support import (
    close_document,
    codes,
    diagnose,
    next_diagnostics,
    open_document,
    published,
    server_fixture,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

OPTIONS = {
    "runtime": "python9.9",
    "handler": "not an entry",
    "diagnostics": {"disabledCodes": ["background-command", "no-such-code"], "debounceMs": "soon"},
}


client = server_fixture("settings", OPTIONS, {"functiongraph": {"runtime": "python3.6"}})


SOURCE = "import os\ndef handler(event, context):\n    os.system('x &')\n    if (n := 1):\n        return n\n"


async def test_invalid_options_fall_back_with_visible_warnings(client: LanguageClient):
    diagnostics = await diagnose(client, client.root / "py39" / "index.py", SOURCE)  # type: ignore[attr-defined]
    warnings = [m.message for m in client.log_messages if m.type == types.MessageType.Warning]
    assert any("python9.9" in w for w in warnings), warnings
    assert any("not an entry" in w for w in warnings), warnings
    assert any("no-such-code" in w for w in warnings), warnings
    assert any("debounceMs" in w for w in warnings), warnings
    # The valid part was applied (background-command off); the invalid runtime fell back to fglocal.json's.
    assert codes(diagnostics) == []


async def change_configuration(client: LanguageClient, settings) -> None:
    path = client.root / "py39" / "index.py"  # type: ignore[attr-defined]
    uri = path.as_uri()
    before = published(client, uri)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=settings))
    await next_diagnostics(client, uri, before)


async def test_pushed_settings_change_runtime_and_enabled_codes(client: LanguageClient):
    path = client.root / "py39" / "index.py"  # type: ignore[attr-defined]
    await open_document(client, path, SOURCE)
    try:
        await change_configuration(
            client, {"functiongraph": {"runtime": "python3.6", "diagnostics": {"disabledCodes": []}}}
        )
        assert codes(client.diagnostics[path.as_uri()]) == ["background-command", "runtime-syntax"]
        await change_configuration(client, {"diagnostics": {"enabled": False}})
        assert codes(client.diagnostics[path.as_uri()]) == []
        # An empty notification makes the server pull `functiongraph` with workspace/configuration.
        await change_configuration(client, None)
        assert codes(client.diagnostics[path.as_uri()]) == ["background-command", "runtime-syntax"]
    finally:
        await close_document(client, path)


async def test_handler_setting_overrides_config(client: LanguageClient):
    path = client.root / "py39" / "index.py"  # type: ignore[attr-defined]
    await open_document(client, path, "def main(event, context):\n    return 1\n")
    try:
        await change_configuration(client, {"handler": "index.main"})
        assert codes(client.diagnostics[path.as_uri()]) == []
        await change_configuration(client, {"handler": "index.other"})
        assert codes(client.diagnostics[path.as_uri()]) == ["entry-not-found"]
    finally:
        await close_document(client, path)
