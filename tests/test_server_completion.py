"""Completion, hover and signature help end to end over stdio."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from server_support import (
    close_document,
    open_document,
    position_of,
    server_fixture,
)

from fglocal.catalog import CONTEXT_METHODS, LOGGER_METHODS

pytestmark = pytest.mark.asyncio(loop_scope="module")


client = server_fixture("completion")


async def complete_at(
    client: LanguageClient, text: str, marker: str, folder: str = "py39", name: str = "index.py"
):
    path = client.root / folder / name  # type: ignore[attr-defined]
    await open_document(client, path, text)
    try:
        return await client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
                position=position_of(text, marker),
            )
        )
    finally:
        await close_document(client, path)


def labels(result) -> list:
    return [] if result is None else [item.label for item in result.items]


CONTEXT_NAMES = sorted(m.name for m in CONTEXT_METHODS)
LOGGER_NAMES = sorted(m.name for m in LOGGER_METHODS)


@pytest.mark.parametrize(
    ("text", "marker"),
    [
        ("def handler(event, context):\n    context.\n", "context."),
        ("def handler(evt, ctx):\n    x = ctx.get\n", "ctx.get"),
        ("def handler(event, context):\n    c = context\n    c.\n", "    c."),
        ("def helper(ctx: 'Context'):\n    return ctx.\n", "ctx."),
        ("from fglocal.context import Context\ndef helper(a: Context):\n    a.\n", "a."),
        (
            "def handler(event, context):\n    def inner():\n        return context.\n    return inner()\n",
            "context.",
        ),
    ],
    ids=["handler-param", "any-name-prefix", "alias", "string-annotation", "annotation", "closure"],
)
async def test_context_methods_offered(client: LanguageClient, text: str, marker: str):
    result = await complete_at(client, text, marker)
    assert sorted(labels(result)) == CONTEXT_NAMES


async def test_initializer_parameter_by_config(client: LanguageClient):
    text = "def init(c):\n    c.\n\ndef handler(evt, c):\n    return 1\n"
    assert (
        sorted(labels(await complete_at(client, text, "    c.", folder="withinit", name="main.py")))
        == CONTEXT_NAMES
    )


@pytest.mark.parametrize(
    ("text", "marker"),
    [
        ("def handler(event, context):\n    log = context.getLogger()\n    log.\n", "log."),
        ("def handler(event, context):\n    context.getLogger().\n", "getLogger()."),
    ],
    ids=["variable", "chain"],
)
async def test_logger_methods_offered(client: LanguageClient, text: str, marker: str):
    assert sorted(labels(await complete_at(client, text, marker))) == LOGGER_NAMES


async def test_global_logger_set_by_the_configured_initializer(client: LanguageClient):
    text = "LOG = None\ndef init(c):\n    global LOG\n    LOG = c.getLogger()\ndef handler(evt, ctx):\n    LOG.\n"
    result = await complete_at(client, text, "    LOG.", folder="withinit", name="main.py")
    assert sorted(labels(result)) == LOGGER_NAMES


@pytest.mark.parametrize(
    ("text", "marker"),
    [
        ("def handler(event, context):\n    event.\n", "event."),
        ("def handler(event, context):\n    s = 'context.'\n", "'context."),
        ("def handler(event, context):\n    # context.\n", "# context."),
        ("def helper(a, context):\n    context.\n", "context."),
        ("import os\nos.\n", "os."),
    ],
    ids=["event", "in-string", "in-comment", "not-a-handler", "module"],
)
async def test_nothing_offered_elsewhere(client: LanguageClient, text: str, marker: str):
    assert labels(await complete_at(client, text, marker)) == []


async def test_items_carry_signature_docs_snippet_and_deprecation(client: LanguageClient):
    result = await complete_at(client, "def handler(event, context):\n    context.\n", "context.")
    items = {item.label: item for item in result.items}
    user_data = items["getUserData"]
    assert user_data.kind == types.CompletionItemKind.Method
    assert user_data.detail == "getUserData(key: str, default: Optional[str] = None) -> Optional[str]"
    assert user_data.insert_text == "getUserData(${1:key})"
    assert user_data.insert_text_format == types.InsertTextFormat.Snippet
    assert user_data.documentation.kind == types.MarkupKind.Markdown
    assert "environment variable" in user_data.documentation.value
    assert items["getRequestID"].insert_text == "getRequestID()"
    deprecated = [
        label
        for label, item in items.items()
        if item.tags and types.CompletionItemTag.Deprecated in item.tags
    ]
    assert sorted(deprecated) == ["getAccessKey", "getSecretKey"]
    ordered = sorted(items.values(), key=lambda item: item.sort_text)
    assert {item.label for item in ordered[-2:]} == {"getAccessKey", "getSecretKey"}


async def test_new_file_snippets(client: LanguageClient):
    result = await complete_at(client, "", "", folder="py39", name="new_module.py")
    assert labels(result) == ["fg-handler", "fg-initializer", "fg-apig-handler"]
    apig = result.items[2]
    assert apig.kind == types.CompletionItemKind.Snippet
    assert '"statusCode": ${3:200}' in apig.insert_text
    assert "base64.b64decode(body)" in apig.insert_text and "json.dumps(result)" in apig.insert_text


async def test_snippets_inside_a_handler_use_its_context_name(client: LanguageClient):
    text = "def handler(evt, ctx):\n    fg\n"
    result = await complete_at(client, text, "    fg")
    assert labels(result) == ["fg-apig-response", "fg-logger", "fg-userdata"]
    assert result.items[1].insert_text.startswith("logger = ctx.getLogger()")
    # Not offered for another word, and the top-level ones not inside a function.
    assert labels(await complete_at(client, "def handler(event, context):\n    ret\n", "    ret")) == []


async def hover_at(client: LanguageClient, text: str, marker: str, offset: int = -1):
    path = client.root / "py39" / "index.py"  # type: ignore[attr-defined]
    await open_document(client, path, text)
    try:
        return await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
                position=position_of(text, marker, offset),
            )
        )
    finally:
        await close_document(client, path)


async def test_hover_on_context_method(client: LanguageClient):
    text = "def handler(event, context):\n    return context.getUserData('k')\n"
    hover = await hover_at(client, text, "getUser")
    assert hover.contents.kind == types.MarkupKind.Markdown
    assert "Context.getUserData(key: str" in hover.contents.value
    assert (hover.range.start.line, hover.range.start.character, hover.range.end.character) == (1, 19, 30)


async def test_hover_on_logger_method_and_deprecated_method(client: LanguageClient):
    text = (
        "def handler(event, context):\n    context.getLogger().warn('x')\n    return context.getSecretKey()\n"
    )
    assert "Logger.warn(message" in (await hover_at(client, text, ".wa")).contents.value
    assert (
        "**Deprecated**: use `getSecuritySecretKey()`"
        in (await hover_at(client, text, "getSecretK")).contents.value
    )


async def test_hover_elsewhere_is_empty(client: LanguageClient):
    text = "def handler(event, context):\n    return event.getUserData('k')\n"
    assert await hover_at(client, text, "getUser") is None


async def signature_at(client: LanguageClient, text: str, marker: str):
    path = client.root / "py39" / "index.py"  # type: ignore[attr-defined]
    await open_document(client, path, text)
    try:
        return await client.text_document_signature_help_async(
            types.SignatureHelpParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
                position=position_of(text, marker),
            )
        )
    finally:
        await close_document(client, path)


async def test_signature_help_inside_context_call(client: LanguageClient):
    text = "def handler(event, context):\n    v = context.getUserData('bucket', )\n"
    help_ = await signature_at(client, text, "'bucket', ")
    signature = help_.signatures[0]
    assert signature.label.startswith("getUserData(key: str")
    assert help_.active_parameter == 1
    start, end = signature.parameters[1].label
    assert signature.label[start:end] == "default: Optional[str] = None"


async def test_signature_help_multiline_logger_call(client: LanguageClient):
    text = "def handler(event, context):\n    log = context.getLogger()\n    log.info(\n        'x %s',\n        "
    help_ = await signature_at(client, text, "'x %s',\n        ")
    assert help_.signatures[0].label.startswith("info(message: Any, *args: Any)")
    assert help_.active_parameter == 1


async def test_no_signature_help_outside_context_calls(client: LanguageClient):
    assert await signature_at(client, "def handler(event, context):\n    print(1, \n", "print(1, ") is None
