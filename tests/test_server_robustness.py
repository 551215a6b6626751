"""The server never dies or goes silent: huge files, garbage, unreadable workspace files, invalid params."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import random
import uuid
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcInvalidRequest, JsonRpcMethodNotFound
from pygls.protocol import JsonRPCNotification, JsonRPCRequestMessage
from pytest_lsp import LanguageClient
from server_support import (
    close_document,
    codes,
    diagnose,
    diagnostics_of_version,
    next_diagnostics,
    open_document,
    position_of,
    published,
    server_fixture,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


client = server_fixture("robust", {"diagnostics": {"debounceMs": 50}})


async def completion_labels(client: LanguageClient, uri: str, position: types.Position) -> list:
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position)
    )
    return [] if result is None else [i.label for i in result.items]


async def assert_alive(client: LanguageClient) -> None:
    """A request on a fresh document still gets a correct answer."""
    path = client.root / "py39" / "alive.py"  # type: ignore[attr-defined]
    text = "def handler(event, context):\n    context.\n"
    await open_document(client, path, text)
    try:
        assert "getRequestID" in await completion_labels(client, path.as_uri(), position_of(text, "context."))
    finally:
        await close_document(client, path)


async def test_huge_file_is_skipped_not_fatal(client: LanguageClient):
    body = "def handler(event, context):\n    context.\n" + "x = 1  # padding padding padding\n" * 70_000
    path = client.root / "py39" / "huge.py"  # type: ignore[attr-defined]
    assert await open_document(client, path, body) == []
    try:
        assert any("too large" in m.message for m in client.log_messages)
        labels = await completion_labels(client, path.as_uri(), position_of(body, "context."))
        assert "getUserData" in labels
    finally:
        await close_document(client, path)
    await assert_alive(client)


async def test_binary_garbage(client: LanguageClient):
    rng = random.Random(4)
    garbage = bytes(rng.randrange(256) for _ in range(20_000)).decode("latin-1")
    diagnostics = await diagnose(client, client.root / "py39" / "blob.py", garbage)  # type: ignore[attr-defined]
    assert "syntax-error" in codes(diagnostics)
    await assert_alive(client)


async def test_half_typed_code_still_completes(client: LanguageClient):
    text = (
        "import json\n\ndef handler(event, context):\n    data = json.loads(event['body'\n"
        "    user = context.getUserData(\n    context.get\n\ndef other(:\n"
    )
    path = client.root / "py39" / "index.py"  # type: ignore[attr-defined]
    diagnostics = await open_document(client, path, text)
    try:
        assert codes(diagnostics)[:1] == ["syntax-error"]
        labels = await completion_labels(client, path.as_uri(), position_of(text, "context.get"))
        assert "getFunctionName" in labels
    finally:
        await close_document(client, path)


async def test_rapid_edits_end_with_the_final_version(client: LanguageClient):
    path = client.root / "py39" / "index.py"  # type: ignore[attr-defined]
    uri = path.as_uri()
    text = "def handler(event, context):\n    return 1\n"
    await open_document(client, path, text)
    try:
        typed = "    x = context.getRequestId()\n"
        version = 1
        for i, char in enumerate(typed):  # one keystroke per change, no pause
            version += 1
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[
                        types.TextDocumentContentChangePartial(
                            range=types.Range(types.Position(1, i), types.Position(1, i)), text=char
                        )
                    ],
                )
            )
        diagnostics = await diagnostics_of_version(client, uri, version)
        assert codes(diagnostics) == ["unknown-method"]
        assert diagnostics[0].range.start == types.Position(1, 16)
    finally:
        await close_document(client, path)


async def test_missing_folder_and_untitled_documents(client: LanguageClient):
    missing = Path("/nonexistent-fg-folder/sub/index.py")
    text = "def handler(event, context):\n    return context.getRequestId()\n"
    assert codes(await diagnose(client, missing, text)) == ["unknown-method"]
    uri = "untitled:Untitled-1"
    before = published(client, uri)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        )
    )
    assert codes(await next_diagnostics(client, uri, before)) == ["unknown-method"]
    assert "getUserData" in await completion_labels(client, uri, position_of(text, "context."))
    await assert_alive(client)


async def test_uri_with_escaped_characters(client: LanguageClient):
    folder = client.root / "with space é"  # type: ignore[attr-defined]
    folder.mkdir()
    (folder / "index.py").write_text("def handler(event, context):\n    return 1\n")
    path = folder / "index.py"
    text = "def handler(event, context):\n    context.getRequestId()\n    context.\n"
    assert "%20" in path.as_uri()
    diagnostics = await open_document(client, path, text)
    try:
        assert codes(diagnostics) == ["unknown-method", "syntax-error"]
        assert "getUserData" in await completion_labels(
            client, path.as_uri(), position_of(text, "    context.")
        )
    finally:
        await close_document(client, path)


# -- files a workspace names: only regular files under the cap, never a blocking read -------------------
HANDLER = "def handler(event, context):\n    return context.getRequestID()\n"


def function_folder(client: LanguageClient, name: str, config: str | bytes | None = None) -> Path:
    """A new function folder in the workspace with index.py and (optionally) this fglocal.json."""
    folder = client.root / name  # type: ignore[attr-defined]
    folder.mkdir()
    (folder / "index.py").write_text(HANDLER)
    if isinstance(config, str):
        (folder / "fglocal.json").write_text(config)
    elif config is not None:
        (folder / "fglocal.json").write_bytes(config)
    return folder


async def config_diagnostics(client: LanguageClient, folder: Path) -> list:
    """Open index.py; the messages of the config-error diagnostics on fglocal.json and on index.py."""
    own = await diagnose(client, folder / "index.py", HANDLER)
    on_config = client.diagnostics.get((folder / "fglocal.json").as_uri(), [])
    return [(where, d.message) for where, ds in (("config", on_config), ("module", own)) for d in ds]


@pytest.mark.parametrize(
    "name, make, problem",
    [
        ("fifo", lambda path: os.mkfifo(path), "is a FIFO (named pipe), not a regular file"),
        ("stdin", lambda path: path.symlink_to("/dev/stdin"), "not a regular file"),
        ("device", lambda path: path.symlink_to("/dev/zero"), "is a character device, not a regular file"),
        ("folder", lambda path: path.mkdir(), "is a folder, not a regular file"),
        ("loop", lambda path: path.symlink_to(path), "a symbolic link loop"),
        ("huge", lambda path: path.write_text("A=1\n" * 300_000), "over the 1,000,000-byte limit"),
        ("latin1", lambda path: path.write_bytes(b"NAME=caf\xe9\n"), "is not UTF-8 text (byte 0xe9"),
        ("absent", lambda path: None, "does not exist"),
    ],
)
async def test_env_file_that_is_not_a_small_regular_file_is_a_diagnostic(
    client: LanguageClient, name: str, make, problem: str
):
    folder = function_folder(client, "env-" + name, '{\n  "envFile": "app.env"\n}\n')
    make(folder / "app.env")
    found = await config_diagnostics(client, folder)
    assert len(found) == 1, found
    where, message = found[0]
    assert where == "config"  # placed in fglocal.json, at the envFile field
    assert "invalid 'envFile'" in message and problem in message
    assert str(folder / "app.env") in message
    await assert_alive(client)


@pytest.mark.parametrize(
    "name, make, problem",
    [
        ("fifo", lambda path: os.mkfifo(path), "is a FIFO (named pipe), not a regular file"),
        ("loop", lambda path: path.symlink_to(path), "a symbolic link loop"),
        ("dangling", lambda path: path.symlink_to(path.parent / "gone.json"), "does not exist"),
        ("huge", lambda path: path.write_text(" " * 1_000_001 + "{}"), "over the 1,000,000-byte limit"),
        ("binary", lambda path: path.write_bytes(b'{"handler": "\xff"}'), "is not UTF-8 text (byte 0xff"),
    ],
)
async def test_unreadable_fglocal_json_is_a_diagnostic_on_the_module(
    client: LanguageClient, name: str, make, problem: str
):
    folder = function_folder(client, "config-" + name)
    make(folder / "fglocal.json")
    found = await config_diagnostics(client, folder)
    assert [where for where, _ in found] == ["module"], found
    assert "invalid 'config file'" in found[0][1] and problem in found[0][1]
    await assert_alive(client)


async def test_deeply_nested_fglocal_json_is_a_diagnostic(client: LanguageClient):
    folder = function_folder(client, "config-nested", "[" * 100_000 + "]" * 100_000)
    found = await config_diagnostics(client, folder)
    assert [where for where, _ in found] == ["config"], found
    assert "invalid 'config file'" in found[0][1]
    await assert_alive(client)


async def test_save_of_a_fifo_the_client_never_opened_does_not_block(client: LanguageClient):
    folder = function_folder(client, "save-fifo")
    fifo = folder / "pipe.py"
    os.mkfifo(fifo)
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=fifo.as_uri()))
    )
    await assert_alive(client)
    assert fifo.as_uri() not in client.diagnostics  # nothing was read from it


# -- every request gets an answer -----------------------------------------------------------------------
async def raw_request(client: LanguageClient, method: str, params: object) -> object:
    """Send ``params`` as they are (the client's lsprotocol types would refuse them) and await the answer."""
    msg_id = str(uuid.uuid4())
    future: concurrent.futures.Future = concurrent.futures.Future()
    client.protocol._request_futures[msg_id] = future
    client.protocol._send_data(JsonRPCRequestMessage(id=msg_id, method=method, jsonrpc="2.0", params=params))
    return await asyncio.wait_for(asyncio.wrap_future(future), 60)


def raw_notify(client: LanguageClient, method: str, params: object) -> None:
    """Send a notification with ``params`` as they are."""
    client.protocol._send_data(JsonRPCNotification(method=method, jsonrpc="2.0", params=params))


@pytest.mark.parametrize(
    "params, field",
    [
        ({"textDocument": {"uri": "file:///x.py"}, "position": {"line": -1, "character": 0}}, "position"),
        ({"textDocument": {"uri": "file:///x.py"}, "position": {"line": 2**40, "character": 0}}, "position"),
        ({"position": {"line": 0, "character": 0}}, "text_document"),
        ({"textDocument": {"uri": "file:///x.py"}, "position": {"line": "one", "character": 0}}, "line"),
        ({"textDocument": "file:///x.py", "position": [0, 0]}, "text_document"),
        (None, "params"),
        ("hover", "params"),
    ],
)
async def test_request_with_invalid_params_gets_invalid_params(client: LanguageClient, params, field):
    with pytest.raises(JsonRpcInvalidParams) as caught:
        await raw_request(client, types.TEXT_DOCUMENT_HOVER, params)
    assert "textDocument/hover" in str(caught.value) and field in str(caught.value)
    await assert_alive(client)


async def test_position_past_the_end_is_answered(client: LanguageClient):
    path = client.root / "py39" / "short.py"  # type: ignore[attr-defined]
    text = "def handler(event, context):\n    context.\n"
    await open_document(client, path, text)
    try:
        for line, character in ((1, 500), (40, 0), (2**31 - 1, 2**31 - 1)):
            position = {"line": line, "character": character}
            params = {"textDocument": {"uri": path.as_uri()}, "position": position}
            for method in (types.TEXT_DOCUMENT_HOVER, types.TEXT_DOCUMENT_COMPLETION):
                await raw_request(client, method, params)  # an answer (null or items), not silence
    finally:
        await close_document(client, path)
    await assert_alive(client)


async def test_unknown_method_and_notification_method_as_request(client: LanguageClient):
    with pytest.raises(JsonRpcMethodNotFound):
        await raw_request(client, "functiongraph/noSuchThing", {})
    with pytest.raises(JsonRpcInvalidRequest) as caught:  # found here: no answer before
        await raw_request(client, types.TEXT_DOCUMENT_DID_CLOSE, {"textDocument": {"uri": "file:///x"}})
    assert "is a notification" in str(caught.value)
    raw_notify(client, types.TEXT_DOCUMENT_DID_OPEN, {"textDocument": 42})  # logged, dropped
    raw_notify(client, "functiongraph/unknownNotification", [1, 2])
    await assert_alive(client)
    assert any("ignored textDocument/didOpen with invalid params" in m.message for m in client.log_messages)


async def test_test_events_that_cannot_be_read_are_skipped_not_fatal(client: LanguageClient):
    folder = function_folder(client, "events-bad")
    events = folder / "events"
    events.mkdir()
    (events / "good.json").write_text('{"body": "hello", "headers": {}}')
    (events / "deep.json").write_text("[" * 100_000 + "]" * 100_000)  # found here: crashed completion
    (events / "latin1.json").write_bytes(b'{"name": "caf\xe9"}')
    (events / "huge.json").write_text('{"pad": "%s"}' % ("x" * 1_000_001))
    os.mkfifo(events / "pipe.json")
    text = 'def handler(event, context):\n    x = event["'
    path = folder / "index.py"
    await open_document(client, path, text)
    try:
        result = await client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
                position=position_of(text, 'event["'),
            )
        )
    finally:
        await close_document(client, path)
    assert result is not None and [i.label for i in result.items] == ["body", "headers"]
    assert not [m for m in client.log_messages if m.type == types.MessageType.Error]
