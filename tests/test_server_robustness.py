"""The server never dies: huge files, binary garbage, half-typed code, rapid edits, missing folders."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from server_support import (
    close_document,
    codes,
    diagnose,
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
        before = published(client, uri)
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
        diagnostics = await next_diagnostics(client, uri, before)
        while client.__dict__["publish_versions"][uri] != version:
            diagnostics = await next_diagnostics(client, uri, published(client, uri))
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
