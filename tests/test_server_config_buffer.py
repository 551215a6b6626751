"""An open fglocal.json is diagnosed as the editor holds it, saved or not; a closed one from disk (pytest-lsp).

The extension sends fglocal.json to the server (its document selector has a ``**/fglocal.json``
pattern), so a runtime typed in and not yet saved is diagnosed at once; the function's modules
are still checked with the saved config (what ``fglocal invoke`` runs) until it is saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from server_support import (
    close_config,
    close_document,
    codes,
    diagnostics_of_version,
    history,
    open_document,
    position_of,
    published,
    server_fixture,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

client = server_fixture("configbuffer", {"diagnostics": {"debounceMs": 0}})

SAVED = '{\n  "handler": "index.handler",\n  "runtime": "python4.0"\n}\n'
FIXED = SAVED.replace("python4.0", "python3.9")
TYPED = SAVED.replace("python4.0", "python9.9")
INDEX = "def handler(event, context):\n    return 1\n"


def change(client: LanguageClient, path: Path, version: int, text: str) -> None:
    """Replace the whole buffer (not saved)."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def runtime_errors(diagnostics: List[types.Diagnostic], text: str) -> List[str]:
    """The config errors placed on the ``runtime`` key, by the runtime they name."""
    start = position_of(text, '"runtime"', -len('"runtime"'))
    found = []
    for d in diagnostics:
        assert d.code == "config-error", diagnostics
        assert (d.range.start.line, d.range.start.character) == (start.line, start.character), d
        found += [name for name in ("python4.0", "python9.9") if name in d.message]
    return found


async def test_unsaved_config_edits_are_diagnosed_and_the_disk_copy_once_closed(client: LanguageClient):
    fn = client.root / "buffered"  # type: ignore[attr-defined]
    fn.mkdir(exist_ok=True)
    config = fn / "fglocal.json"
    config.write_text(SAVED)
    (fn / "index.py").write_text(INDEX)
    shown = await open_document(client, config, SAVED, language="json")
    assert runtime_errors(shown, SAVED) == ["python4.0"]

    change(client, config, 2, FIXED)  # fixed in the buffer: the disk copy still names python4.0
    assert await diagnostics_of_version(client, config.as_uri(), 2) == []
    change(client, config, 3, TYPED)
    assert runtime_errors(await diagnostics_of_version(client, config.as_uri(), 3), TYPED) == ["python9.9"]
    assert config.read_text() == SAVED  # nothing was written

    # A module of the function published meanwhile (checked with the saved config) leaves them as they are.
    before = published(client, config.as_uri())
    await open_document(client, fn / "index.py", INDEX)
    for version, diagnostics in history(client, config.as_uri())[before:]:
        assert version == 3 and runtime_errors(diagnostics, TYPED) == ["python9.9"]
    assert runtime_errors(client.diagnostics[config.as_uri()], TYPED) == ["python9.9"]
    await close_document(client, fn / "index.py")

    # Closed without saving: the disk copy's diagnostics again.
    assert runtime_errors(await close_config(client, config), SAVED) == ["python4.0"]


async def test_an_unsaved_env_file_name_is_checked_against_the_disk(client: LanguageClient):
    """What the buffer names (an envFile) is looked up on disk, as the saved config's would be."""
    fn = client.root / "buffered"  # type: ignore[attr-defined]
    fn.mkdir(exist_ok=True)
    config = fn / "fglocal.json"
    (fn / "dev.env").write_text("A=1\n")
    config.write_text(FIXED)
    assert await open_document(client, config, FIXED, language="json") == []
    missing = FIXED.replace('"runtime"', '"envFile": "gone.env",\n  "runtime"')
    change(client, config, 2, missing)
    shown = await diagnostics_of_version(client, config.as_uri(), 2)
    assert codes(shown) == ["config-error"] and "gone.env" in shown[0].message, shown
    change(client, config, 3, missing.replace("gone.env", "dev.env"))
    assert await diagnostics_of_version(client, config.as_uri(), 3) == []
    assert await close_config(client, config) == []


async def test_the_python_features_leave_an_open_config_alone(client: LanguageClient):
    """Completion, hover, signature help and lenses are for modules: none in fglocal.json (the JSON support's)."""
    fn = client.root / "buffered"  # type: ignore[attr-defined]
    config = fn / "fglocal.json"
    fn.mkdir(exist_ok=True)
    # Text a module would get lenses and completions in (a paste into the wrong file, say).
    text = 'def handler(event, context):\n    context.\n    event["\n'
    config.write_text(text)
    await open_document(client, config, text, language="json")
    document = types.TextDocumentIdentifier(uri=config.as_uri())
    for marker in ("context.", 'event["', "def handler("):
        position = position_of(text, marker)
        assert await client.text_document_completion_async(types.CompletionParams(document, position)) is None
        assert await client.text_document_hover_async(types.HoverParams(document, position)) is None
    assert await client.text_document_code_lens_async(types.CodeLensParams(document)) is None
    await close_config(client, config)
