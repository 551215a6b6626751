"""What the client is shown over a document's life: every publish is for the document as it is, none
follows a close's ``[]``, and a save re-checks the other open modules it affects.

The client sends each sequence without waiting in between (as an editor does when the user types,
saves and closes quickly), so the close arrives while the analyses of the earlier versions are still
running. The assertions are on the whole sequence of notifications the client received, whatever the
timing was: the test waits for messages (with a generous limit), it never asserts that anything is fast.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from server_support import (
    FIXTURES,
    close_config,
    close_document,
    codes,
    history,
    next_diagnostics,
    open_document,
    published,
    server_fixture,
    wait_until,
)

from server.analysis.diagnostics import analyze
from server.project import find_project
from server.settings import Settings

pytestmark = pytest.mark.asyncio(loop_scope="module")

BASE = (FIXTURES / "projects" / "py39" / "index.py").read_text()
CYCLES = 8
CHANGES = 6

client = server_fixture("publish", {"diagnostics": {"debounceMs": 0}})


def version_text(cycle: int, version: int) -> str:
    """A text whose only diagnostic (a syntax error) is on a line unique to this cycle and version."""
    return BASE + "\n" * (cycle * (CHANGES + 2) + version) + "x = (\n"


def expected(path: Path, text: str) -> List[Tuple[int, str]]:
    project = find_project(path, [path.parent.parent], Settings())
    return sorted((f.span.line, f.code) for f in analyze(text, project.module_context(path)))


def shown(diagnostics: List[types.Diagnostic]) -> List[Tuple[int, str]]:
    return sorted((d.range.start.line, str(d.code)) for d in diagnostics)


def open_params(uri: str, text: str, version: int = 1) -> types.DidOpenTextDocumentParams:
    return types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)
    )


def change_params(uri: str, text: str, version: int) -> types.DidChangeTextDocumentParams:
    return types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
    )


def save_params(uri: str) -> types.DidSaveTextDocumentParams:
    return types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))


def close_index(entries: List[Tuple[Optional[int], list]], start: int) -> Optional[int]:
    """Where the first close's ``[]`` (no version) is in ``entries``, from ``start``."""
    return next((i for i in range(start, len(entries)) if entries[i] == (None, [])), None)


def reopened_shown(client: LanguageClient, uri: str, start: int) -> bool:
    """Whether, since ``start``, a close's ``[]`` came and then diagnostics of a (re)opened version 1."""
    entries = history(client, uri)
    closed = close_index(entries, start)
    return closed is not None and any(v == 1 for v, _ in entries[closed + 1 :])


async def test_close_during_analysis_then_reopen_shows_only_the_new_text(client: LanguageClient):
    path = client.root / "py39" / "index.py"  # type: ignore[attr-defined]
    uri = path.as_uri()
    for cycle in range(CYCLES):
        start = published(client, uri)
        texts: Dict[int, str] = {1: version_text(cycle, 1)}
        client.text_document_did_open(open_params(uri, texts[1]))
        for version in range(2, CHANGES + 2):
            texts[version] = version_text(cycle, version)
            client.text_document_did_change(change_params(uri, texts[version], version))
        client.text_document_did_save(save_params(uri))
        client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        reopened = version_text(cycle, CHANGES + 2)  # a line no version before it had
        client.text_document_did_open(open_params(uri, reopened))

        await wait_until(client, functools.partial(reopened_shown, client, uri, start))
        # One more round: the reopened document's save. An older analysis still under way would
        # publish before it (the server analyses one document at a time, in order).
        before = published(client, uri)
        client.text_document_did_save(save_params(uri))
        await next_diagnostics(client, uri, before)

        entries = history(client, uri)
        closed = close_index(entries, start)
        assert closed is not None
        versions = [v for v, _ in entries[start:closed]]
        assert all(v is not None for v in versions), versions
        assert versions == sorted(v or 0 for v in versions), "publishes out of order: %s" % versions
        for number, diagnostics in entries[start:closed]:
            assert number in texts, (number, versions)
            assert shown(diagnostics) == expected(path, texts[number or 0]), number
        after = entries[closed + 1 :]
        assert after, "nothing published for the reopened document"
        for number, diagnostics in after:
            assert number == 1 and shown(diagnostics) == expected(path, reopened), (cycle, number)
        assert list(client.diagnostics[uri]) == after[-1][1]
        await close_document(client, path)  # its [] and nothing after it
    errors = [m.message for m in client.log_messages if m.type == types.MessageType.Error]
    assert errors == []


async def test_a_config_file_closed_while_read_shows_its_disk_diagnostics_last(client: LanguageClient):
    config = client.root / "py39" / "fglocal.json"  # type: ignore[attr-defined]
    uri = config.as_uri()
    original = config.read_text()
    text = original.replace("python3.9", "python4.0")  # a config error, shown when published
    config.write_text(text)
    buffer = "\n\n" + text  # the buffer's error is two lines further down than the disk's
    try:
        for _ in range(CYCLES):
            before = published(client, uri)
            client.text_document_did_open(
                types.DidOpenTextDocumentParams(
                    text_document=types.TextDocumentItem(uri=uri, language_id="json", version=1, text=buffer)
                )
            )
            disk = await close_config(client, config)
            assert [(d.code, d.range.start.line) for d in disk] == [("config-error", 2)]
            # Whatever came before the close is for the open buffer; the disk's diagnostics are the last.
            for version, diagnostics in history(client, uri)[before:-1]:
                assert version == 1, (version, diagnostics)
                assert [(d.code, d.range.start.line) for d in diagnostics] == [("config-error", 4)]
        # A full round trip on another function's document afterwards: nothing more for the config file.
        after = published(client, uri)
        other = client.root / "example" / "example.py"  # type: ignore[attr-defined]
        await open_document(client, other, other.read_text())
        await close_document(client, other)
        assert history(client, uri)[after:] == []
    finally:
        config.write_text(original)


async def test_saving_a_module_rechecks_the_other_open_modules_of_its_folder(client: LanguageClient):
    # No config: the entry is inferred from the modules on disk (app.main), and a function of that
    # name in any other top-level module is checked as a handler too.
    folder = client.root / "inferred_resave"  # type: ignore[attr-defined]
    folder.mkdir()
    app, other = folder / "app.py", folder / "other.py"
    app.write_text("def main(event, context):\n    return 1\n")
    other.write_text("def main(event):\n    return 1\n")
    try:
        await open_document(client, app, app.read_text())
        assert codes(await open_document(client, other, other.read_text())) == ["handler-signature"]
        # app.py renamed its handler and was saved: main is no longer the entry's function name.
        renamed = "def run(event, context):\n    return 1\n"
        before = published(client, other.as_uri())
        client.text_document_did_change(change_params(app.as_uri(), renamed, 2))
        app.write_text(renamed)
        client.text_document_did_save(save_params(app.as_uri()))
        assert await next_diagnostics(client, other.as_uri(), before) == []
        # And back: saved with the old name, other.py's main is checked again.
        before = published(client, other.as_uri())
        app.write_text("def main(event, context):\n    return 1\n")
        client.text_document_did_change(change_params(app.as_uri(), app.read_text(), 3))
        client.text_document_did_save(save_params(app.as_uri()))
        assert codes(await next_diagnostics(client, other.as_uri(), before)) == ["handler-signature"]
    finally:
        await close_document(client, other)
        await close_document(client, app)
