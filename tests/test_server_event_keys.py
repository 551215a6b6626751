"""Event keys end to end: completion after ``event["``, hover on ``event["body"]``, typed events.

The fixture ``withevents`` has ``events/apig.json`` and ``events/timer.json`` (copies of the
``fglocal event new`` templates); the selected event comes as the ``testEvents`` setting.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Optional

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from server_support import close_document, codes, diagnose, open_document, position_of, server_fixture

pytestmark = pytest.mark.asyncio(loop_scope="module")

client = server_fixture("event_keys")


def folder(client: LanguageClient) -> Path:
    return client.root / "withevents"  # type: ignore[attr-defined]


def select(client: LanguageClient, event: Optional[str]) -> None:
    selections = {str(folder(client)): str(folder(client) / "events" / event)} if event else {}
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"functiongraph": {"testEvents": selections}})
    )


async def complete_at(client: LanguageClient, text: str, marker: str) -> List[types.CompletionItem]:
    path = folder(client) / "index.py"
    await open_document(client, path, text)
    try:
        result = await client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
                position=position_of(text, marker),
            )
        )
    finally:
        await close_document(client, path)
    return list(result.items) if result else []


def by_label(items: List[types.CompletionItem]) -> Dict[str, types.CompletionItem]:
    return {item.label: item for item in items}


APIG_KEYS = list(
    json.loads((Path(__file__).parent / "fixtures/server/projects/withevents/events/apig.json").read_text())
)
TIMER_KEYS = ["version", "time", "trigger_type", "trigger_name", "user_event"]


async def test_union_of_test_events_when_none_is_selected(client: LanguageClient):
    select(client, None)
    text = 'def handler(event, context):\n    x = event["'
    items = await complete_at(client, text, 'event["')
    logged = [m.message for m in client.log_messages]
    assert [i.label for i in items] == APIG_KEYS + TIMER_KEYS, logged
    method = by_label(items)["httpMethod"]
    assert method.kind == types.CompletionItemKind.Field
    assert method.detail == 'str — "POST"'
    assert "`events/apig.json`" in method.documentation.value
    assert method.text_edit.new_text == "httpMethod"
    assert method.text_edit.range.start == position_of(text, 'event["')


async def test_the_sync_record_is_not_a_test_event(client: LanguageClient):
    # events/.fglocal-sync.json (fglocal events pull/push's record) sits beside the events: hidden, not one.
    assert (folder(client) / "events" / ".fglocal-sync.json").is_file()
    select(client, None)
    items = await complete_at(client, 'def handler(event, context):\n    x = event["', 'event["')
    labels = [i.label for i in items]
    assert "functionUrn" not in labels and "events" not in labels
    assert labels == APIG_KEYS + TIMER_KEYS


async def test_selected_event_only(client: LanguageClient):
    select(client, "timer.json")
    try:
        items = await complete_at(client, "def handler(event, context):\n    x = event.get('tri", "'tri")
    finally:
        select(client, None)
    assert [i.label for i in items] == TIMER_KEYS
    edit = by_label(items)["trigger_type"].text_edit
    assert edit.range.start.character == len("    x = event.get('")  # replaces the typed "tri"


@pytest.mark.parametrize(
    ("text", "marker", "expected"),
    [
        ('def handler(event, context):\n    event["headers"]["', '["headers"]["', "content-type"),
        ("def handler(evt, ctx):\n    evt.get('requestContext', {}).get('", ".get('", "apiId"),
    ],
    ids=["subscript", "get-with-default"],
)
async def test_nested_keys(client: LanguageClient, text: str, marker: str, expected: str):
    assert text.endswith(marker)
    items = await complete_at(client, text, text.rsplit("\n", 1)[-1])
    labels = [i.label for i in items]
    assert expected in labels
    assert "httpMethod" not in labels  # keys of the nested object only


@pytest.mark.parametrize(
    "text",
    [
        'def handler(event, context):\n    data = {}\n    data["',
        'def helper(payload):\n    payload["',
        "def handler(event, context):\n    s = 'event[\"",
        'x = event["',
    ],
    ids=["other-name", "not-a-handler", "in-string", "module-level"],
)
async def test_no_event_keys_elsewhere(client: LanguageClient, text: str):
    assert await complete_at(client, text, text.rsplit("\n", 1)[-1]) == []


async def hover_at(client: LanguageClient, text: str, marker: str) -> Optional[types.Hover]:
    path = folder(client) / "index.py"
    await open_document(client, path, text)
    try:
        return await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
                position=position_of(text, marker),
            )
        )
    finally:
        await close_document(client, path)


async def test_hover_shows_the_selected_events_value(client: LanguageClient):
    text = 'def handler(event, context):\n    return event["body"]\n'
    select(client, "apig.json")
    try:
        found = await hover_at(client, text, 'event["bo')
    finally:
        select(client, None)
    assert found is not None
    assert "`events/apig.json` (selected): str" in found.contents.value
    assert "orderId" in found.contents.value
    assert found.range.start == position_of(text, "event[")
    assert (
        await hover_at(client, 'def handler(event, context):\n    return event["nothing"]\n', '["no') is None
    )


TYPED = (
    'from fglocal.events import APIGEvent\n\n\ndef handler(event: APIGEvent, context):\n    return event["'
)


async def test_annotated_event_completes_from_the_trigger_type(client: LanguageClient):
    # The folder's test events hold timer keys too; the annotation wins.
    items = await complete_at(client, TYPED, 'event["')
    assert [i.label for i in items] == APIG_KEYS
    assert by_label(items)["headers"].detail == "Dict[str, str]"
    assert "gateway's request ID" in by_label(items)["requestContext"].documentation.value
    nested = await complete_at(client, TYPED + 'requestContext"]["', 'requestContext"]["')
    assert [i.label for i in nested] == ["apiId", "requestId", "stage"]


async def test_unknown_key_of_an_annotated_event_is_a_warning(client: LanguageClient):
    path = folder(client) / "typed.py"
    text = (
        "from fglocal.events import APIGEvent\n\n\n"
        "def handler(event: APIGEvent, context):\n"
        '    body = event["bdy"]\n'
        '    agent = event["headers"].get("x-anything")\n'
        '    stage = event.get("requestContext", {}).get("stag")\n'
        "    return {'statusCode': 200, 'body': body + agent + stage}\n"
    )
    diagnostics = await open_document(client, path, text)
    try:
        found = [d for d in diagnostics if d.code == "unknown-event-key"]
        assert [d.severity for d in found] == [types.DiagnosticSeverity.Warning] * 2
        assert found[0].message == "APIGEvent has no key 'bdy'. Did you mean 'body'?"
        assert found[1].message == "APIGEvent[\"requestContext\"] has no key 'stag'. Did you mean 'stage'?"
        assert found[0].range.start == position_of(text, "event[")
        actions = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
                range=found[0].range,
                context=types.CodeActionContext(diagnostics=[found[0]]),
            )
        )
    finally:
        await close_document(client, path)
    fix = next(a for a in actions or [] if a.title == "Change to 'body'")
    assert [e.new_text for e in fix.edit.changes[path.as_uri()]] == ["body"]
    fixed = text.replace('event["bdy"]', 'event["body"]').replace('"stag"', '"stage"')
    assert "unknown-event-key" not in codes(await diagnose(client, path, fixed))
