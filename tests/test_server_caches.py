"""What the server keeps between requests follows what it was computed from, end to end.

Test events: the key rows of ``event["`` are computed once per load of ``events/`` and per selected
event; an edited, added or removed event file (``workspace/didChangeWatchedFiles``, or a saved JSON
document) changes what is offered. Documents: positions are converted on lines split once per text,
so every edit (incremental, with characters UTF-16 counts twice) moves ranges and diagnostics.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Callable, List

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from server_support import (
    WAIT_LIMIT,
    codes,
    next_diagnostics,
    open_document,
    position_of,
    published,
    server_fixture,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

client = server_fixture("caches")

HANDLER = 'def handler(event, context):\n    x = event["'
NESTED = 'def handler(event, context):\n    x = event["headers"]["'


def folder(client: LanguageClient) -> Path:
    return client.root / "withevents"  # type: ignore[attr-defined]


def events_dir(client: LanguageClient) -> Path:
    return folder(client) / "events"


_opened: List[str] = []


async def complete(client: LanguageClient, text: str, marker: str) -> List[str]:
    """Labels offered just after ``marker`` in ``text``, opened as a new module of the folder."""
    path = folder(client) / ("mod%d.py" % len(_opened))
    _opened.append(path.name)
    await open_document(client, path, text)
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()), position=position_of(text, marker)
        )
    )
    assert result is None or isinstance(result, types.CompletionList)
    return [item.label for item in result.items] if result else []


def files_changed(client: LanguageClient, *changes: types.FileEvent) -> None:
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=list(changes)))


def select(client: LanguageClient, event: str) -> None:
    selections = {str(folder(client)): str(events_dir(client) / event)} if event else {}
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"functiongraph": {"testEvents": selections}})
    )


def edit_json(path: Path, **changes: object) -> None:
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


async def test_event_files_edited_added_and_removed_change_the_keys(client: LanguageClient):
    apig = events_dir(client) / "apig.json"
    timer_keys = list(json.loads((events_dir(client) / "timer.json").read_text()))
    first = await complete(client, HANDLER, 'event["')
    assert "httpMethod" in first and "trigger_type" in first
    assert "addedKey" not in first
    assert first == await complete(client, HANDLER, 'event["')  # served again from the same rows

    edit_json(apig, addedKey=[1, 2])
    files_changed(client, types.FileEvent(uri=apig.as_uri(), type=types.FileChangeType.Changed))
    assert "addedKey" in await complete(client, HANDLER, 'event["')

    added = events_dir(client) / "zz_new.json"
    added.write_text(json.dumps({"freshKey": True, "headers": {"x-fresh": "1"}}))
    files_changed(client, types.FileEvent(uri=added.as_uri(), type=types.FileChangeType.Created))
    labels = await complete(client, HANDLER, 'event["')
    assert labels[-1] == "freshKey" and "addedKey" in labels
    assert "x-fresh" in await complete(client, NESTED, '["headers"]["')  # rows per path, new ones too

    apig.unlink()
    files_changed(client, types.FileEvent(uri=apig.as_uri(), type=types.FileChangeType.Deleted))
    assert await complete(client, HANDLER, 'event["') == [*timer_keys, "freshKey", "headers"]
    assert await complete(client, NESTED, '["headers"]["') == ["x-fresh"]


async def test_the_selected_event_is_reread_when_it_changes(client: LanguageClient):
    timer = events_dir(client) / "timer.json"
    select(client, "timer.json")
    try:
        before = await complete(client, HANDLER, 'event["')
        assert "trigger_type" in before and "retries" not in before
        edit_json(timer, retries=3)
        # A JSON document saved in the editor drops the cached events too.
        uri = timer.as_uri()
        await open_document(client, timer, timer.read_text(), language="json")
        client.text_document_did_save(
            types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        after = await complete(client, HANDLER, 'event["')
        assert after == [*before, "retries"]
        select(client, "zz_new.json")
        assert await complete(client, HANDLER, 'event["') == ["freshKey", "headers"]
    finally:
        select(client, "")


def change(
    uri: str, version: int, line: int, start: int, end: int, text: str
) -> types.DidChangeTextDocumentParams:
    return types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[
            types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(line, start), types.Position(line, end)), text=text
            )
        ],
    )


async def test_edits_move_diagnostics_and_completion_ranges(client: LanguageClient):
    # Columns are UTF-16 units: the emoji counts twice, so a stale line split would show here.
    text = (
        'def handler(event, context):\n    s = "😀"; context.getUserDat("x")\n    t = "😀😀"; v = event[""]\n'
    )
    path = folder(client) / "edited.py"
    uri = path.as_uri()
    diagnostics = await open_document(client, path, text)
    assert codes(diagnostics) == ["unknown-method"]
    assert diagnostics[0].range.start == position_of(text, "context.")

    async def edit(version: int, line: int, start: int, end: int, new: str) -> List[types.Diagnostic]:
        before = published(client, uri)
        client.text_document_did_change(change(uri, version, line, start, end, new))
        return await next_diagnostics(client, uri, before)

    # Replace the emoji (UTF-16 columns 9..11) by three ASCII letters: the method moves by one unit.
    diagnostics = await edit(2, 1, 9, 11, "abc")
    edited = text.replace('"😀";', '"abc";', 1)
    assert codes(diagnostics) == ["unknown-method"]
    assert diagnostics[0].range.start == position_of(edited, "context.")

    async def event_range() -> types.Range:
        result = await client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=position_of(edited, 'event["')
            )
        )
        assert isinstance(result, types.CompletionList) and result.items
        item = result.items[0]
        assert isinstance(item.text_edit, types.TextEdit)
        return item.text_edit.range

    assert (await event_range()).start == position_of(edited, 'event["')
    # Drop one of the two emoji on line 2: the key's range moves by two units.
    await edit(3, 2, 9, 11, "")
    edited = edited.replace('"😀😀"', '"😀"', 1)
    assert (await event_range()).start == position_of(edited, 'event["')
    # Fix the method name: the diagnostic goes; break it again: it is back, where it is now.
    assert (
        await edit(
            4, 1, len('    s = "abc"; context.getUserDat'), len('    s = "abc"; context.getUserDat'), "a"
        )
        == []
    )
    again = await edit(
        5, 1, len('    s = "abc"; context.'), len('    s = "abc"; context.getUserData'), "getUser"
    )
    assert codes(again) == ["unknown-method"]
    assert again[0].range.start.character == len('    s = "abc"; context.')


async def test_code_lenses_and_entry_actions_follow_edits(client: LanguageClient):
    # Function headers are parsed once per document version for lenses and code actions alike.
    text = "def handler(event, context):\n    return 1\n"
    path = folder(client) / "lenses.py"
    uri = path.as_uri()
    await open_document(client, path, text)

    async def lens_lines() -> List[int]:
        lenses = await client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        return sorted({lens.range.start.line for lens in lenses or []})

    async def entry_titles(line: int) -> List[str]:
        actions = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(types.Position(line, 0), types.Position(line, 0)),
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
        return [a.title for a in actions or [] if isinstance(a, types.CodeAction)]

    assert await lens_lines() == [0]
    assert await lens_lines() == [0]
    before = published(client, uri)
    client.text_document_did_change(change(uri, 2, 2, 0, 0, "def main_handler(evt, ctx):\n    return 2\n"))
    await next_diagnostics(client, uri, before)
    assert await lens_lines() == [0, 2]
    assert await entry_titles(2) == ["Set `lenses.main_handler` as this function's entry"]
    before = published(client, uri)
    client.text_document_did_change(
        change(uri, 3, 2, 0, len("def main_handler(evt, ctx)"), "def helper(a, b, c)")
    )
    await next_diagnostics(client, uri, before)
    assert await lens_lines() == [0]
    assert await entry_titles(2) == []


async def test_method_items_converted_once_stay_per_kind(client: LanguageClient):
    # Items without a range are converted once and shared: each kind keeps its own, unchanged.
    text = "def handler(event, context):\n    log = context.getLogger()\n    log.\n    context.\n"
    first = await complete(client, text, "    context.")
    logger = await complete(client, text, "    log.")
    assert "getRequestID" in first and "getRequestID" not in logger
    assert "info" in logger and "info" not in first
    assert await complete(client, text, "    context.") == first


async def test_events_changed_without_a_notification_are_read_again(client: LanguageClient):
    # A client that watches no files: the server notices the change itself (names, sizes and times
    # of events/*.json, checked off the loop at most once a second); later requests see it.
    changed = events_dir(client) / "zz_polled.json"
    changed.write_text(json.dumps({"polledKey": 1}))
    files_changed(client, types.FileEvent(uri=changed.as_uri(), type=types.FileChangeType.Created))
    before = await complete(client, HANDLER, 'event["')
    assert "polledKey" in before and "unnotified" not in before
    path = folder(client) / "polled.py"
    await open_document(client, path, HANDLER)
    params = types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
        position=position_of(HANDLER, 'event["'),
    )

    async def labels_once(done: Callable[[List[str]], bool]) -> List[str]:
        while True:  # no timing asserted: polled until the change shows (WAIT_LIMIT: a hung server)
            result = await client.text_document_completion_async(params)
            assert isinstance(result, types.CompletionList)
            labels = [item.label for item in result.items]
            if done(labels):
                return labels
            await asyncio.sleep(0.2)

    edit_json(changed, unnotified="yes")
    seen = await asyncio.wait_for(labels_once(lambda labels: "unnotified" in labels), WAIT_LIMIT)
    assert seen == [*before, "unnotified"]
    changed.unlink()
    gone = await asyncio.wait_for(labels_once(lambda labels: "polledKey" not in labels), WAIT_LIMIT)
    assert gone == [label for label in before if label != "polledKey"]
