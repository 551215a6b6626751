"""Random edit sequences: the server stays alive and its view of the document matches the client's."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pytest_lsp import LanguageClient
from server_support import (
    FIXTURES,
    close_document,
    diagnostics_of_version,
    next_diagnostics,
    open_document,
    published,
    server_fixture,
)

from server.analysis.diagnostics import analyze
from server.project import find_project
from server.settings import Settings

pytestmark = pytest.mark.asyncio(loop_scope="module")

BASE = (FIXTURES / "projects" / "py39" / "index.py").read_text()
PIECES = [
    "context.",
    "context.getUserData(",
    "ctx.getRequestId()",
    "def handler(event):\n",
    "\n    ",
    "print(context.getToken())\n",
    "return {1, 2}\n",
    "(",
    ")",
    ":",
    '"',
    "'''",
    "\t",
    "中文",
    "😀",
    "\\",
    "\n",
    "async ",
    "match x:\n    case 1:\n",
]


@st.composite
def edits(draw, text_size: int):
    """One incremental edit: (start offset, end offset, replacement)."""
    start = draw(st.integers(0, text_size))
    end = draw(st.integers(start, min(text_size, start + 40)))
    # Typed text: any character but the control and separator characters editors do not insert.
    typed = st.text(
        st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")) | st.sampled_from("\n\t"), max_size=8
    )
    replacement = draw(st.one_of(st.sampled_from(PIECES), typed))
    return start, end, replacement


client = server_fixture("hypothesis", {"diagnostics": {"debounceMs": 0}})


def position(text: str, offset: int) -> types.Position:
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return types.Position(line, len(text[start:offset].encode("utf-16-le")) // 2)


def expected_diagnostics(path: Path, text: str) -> list:
    project = find_project(path, [path.parent.parent], Settings())
    module = project.module_context(path)
    return sorted((f.span.line, f.code) for f in analyze(text, module))


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
async def test_random_edits_keep_server_alive_and_consistent(client: LanguageClient, data):
    path = client.root / "py39" / "index.py"  # type: ignore[attr-defined]
    uri = path.as_uri()
    text = BASE
    await open_document(client, path, text)
    try:
        version = 1
        for _ in range(data.draw(st.integers(1, 12))):
            start, end, replacement = data.draw(edits(len(text)))
            change = types.TextDocumentContentChangePartial(
                range=types.Range(position(text, start), position(text, end)), text=replacement
            )
            text = text[:start] + replacement + text[end:]
            version += 1
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[change],
                )
            )
            offset = data.draw(st.integers(0, len(text)))
            await client.text_document_completion_async(
                types.CompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri), position=position(text, offset)
                )
            )
            await client.text_document_hover_async(
                types.HoverParams(
                    text_document=types.TextDocumentIdentifier(uri=uri), position=position(text, offset)
                )
            )
        before = published(client, uri)
        client.text_document_did_save(
            types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        await next_diagnostics(client, uri, before)  # the save's (or the last change's) publish
        diagnostics = await diagnostics_of_version(client, uri, version)
        expected = expected_diagnostics(path, text)
        got = sorted((d.range.start.line, str(d.code)) for d in diagnostics)
        assert got == expected
        errors = [m.message for m in client.log_messages if m.type == types.MessageType.Error]
        assert errors == []
    finally:
        await close_document(client, path)  # waits for the close's [] and checks nothing follows it
