"""Quick fixes and CodeLens end to end: each fix applied to the text gives code without the problem."""

from __future__ import annotations

from typing import List

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from server_support import (
    close_document,
    codes,
    diagnose,
    open_document,
    server_fixture,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


client = server_fixture("actions")


def apply_edits(text: str, edits: List[types.TextEdit]) -> str:
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)

    def offset(position: types.Position) -> int:
        return offsets[position.line] + position.character  # ASCII fixtures: UTF-16 == characters

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


FIXES = [
    (
        "py39",
        "unknown-method",
        "def handler(event, context):\n    return context.getRequestId()\n",
        "Change to 'getRequestID'",
        "def handler(event, context):\n    return context.getRequestID()\n",
    ),
    (
        "py39",
        "deprecated-method",
        "def handler(event, context):\n    return bool(context.getSecretKey())\n",
        "Replace with 'getSecuritySecretKey'",
        "def handler(event, context):\n    return bool(context.getSecuritySecretKey())\n",
    ),
    (
        "py39",
        "handler-signature",
        "def handler(event):\n    return 1\n",
        "Change the signature to (event, context)",
        "def handler(event, context):\n    return 1\n",
    ),
    (
        "py39",
        "handler-signature",
        "def handler(\n    evt,\n    ctx,\n    extra,\n):\n    return 1\n",
        "Change the signature to (evt, ctx)",
        "def handler(evt, ctx):\n    return 1\n",
    ),
    (
        "py39",
        "entry-not-found",
        "import json\n",
        "Add function 'handler(event, context)'",
        "import json\n\n\ndef handler(event, context):\n    pass\n",
    ),
    (
        "py27",
        "missing-coding",
        "# 注释\ndef handler(event, context):\n    return 1\n",
        "Add '# -*- coding: utf-8 -*-'",
        "# -*- coding: utf-8 -*-\n# 注释\ndef handler(event, context):\n    return 1\n",
    ),
    (
        "py39",
        "apig-response",
        "def handler(event, context):\n    return {'statusCode': 200, 'body': {'a': 1}}\n",
        "Wrap in json.dumps(...)",
        "import json\ndef handler(event, context):\n    return {'statusCode': 200, 'body': json.dumps({'a': 1})}\n",
    ),
    (
        "withinit/main.py",
        "initializer-signature",
        "def init():\n    pass\n\ndef handler(evt, c):\n    return 1\n",
        "Change the signature to (context)",
        "def init(context):\n    pass\n\ndef handler(evt, c):\n    return 1\n",
    ),
    (
        "py39",
        "python2-syntax",
        "def handler(event, context):\n    print 'hi'\n    return 1\n",
        "Convert to print(...)",
        "def handler(event, context):\n    print('hi')\n    return 1\n",
    ),
]


@pytest.mark.parametrize(
    ("folder", "code", "before", "title", "after"), FIXES, ids=[f"{f[1]}-{i}" for i, f in enumerate(FIXES)]
)
async def test_quick_fix(client: LanguageClient, folder: str, code: str, before: str, title: str, after: str):
    relative = folder if folder.endswith(".py") else folder + "/index.py"
    path = client.root / relative  # type: ignore[attr-defined]
    diagnostics = await open_document(client, path, before)
    try:
        target = [d for d in diagnostics if d.code == code]
        assert target, codes(diagnostics)
        actions = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
                range=target[0].range,
                context=types.CodeActionContext(diagnostics=target),
            )
        )
    finally:
        await close_document(client, path)
    by_title = {a.title: a for a in actions or []}
    assert title in by_title, list(by_title)
    action = by_title[title]
    assert action.kind == types.CodeActionKind.QuickFix
    edits = action.edit.changes[path.as_uri()]
    fixed = apply_edits(before, edits)
    assert fixed == after
    assert code not in codes(await diagnose(client, path, fixed))


async def test_no_actions_for_foreign_diagnostics(client: LanguageClient):
    path = client.root / "py39" / "index.py"  # type: ignore[attr-defined]
    foreign = types.Diagnostic(
        range=types.Range(types.Position(0, 0), types.Position(0, 1)),
        message="x",
        source="other",
        data={"fixes": []},
    )
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
            range=foreign.range,
            context=types.CodeActionContext(diagnostics=[foreign]),
        )
    )
    assert not actions


async def lenses(client: LanguageClient, folder: str, name: str, text: str):
    path = client.root / folder / name  # type: ignore[attr-defined]
    await open_document(client, path, text)
    try:
        return await client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=path.as_uri()))
        )
    finally:
        await close_document(client, path)


async def test_code_lens_above_handler_and_initializer(client: LanguageClient):
    folder = client.root / "withinit"  # type: ignore[attr-defined]
    result = await lenses(client, "withinit", "main.py", (folder / "main.py").read_text())
    titles = [(lens.range.start.line, lens.command.title, lens.command.command) for lens in result]
    assert titles == [
        (3, "▶ Run locally", "functiongraph.runHandler"),
        (3, "Debug", "functiongraph.debugHandler"),
        (9, "▶ Run locally", "functiongraph.runHandler"),
        (9, "Debug", "functiongraph.debugHandler"),
    ]
    init_argument = result[0].command.arguments[0]
    assert init_argument["role"] == "initializer"
    assert init_argument["entry"] == "main.handler"
    assert init_argument["initializer"] == "main.init"
    assert init_argument["codeDir"] == str(folder.resolve())
    assert init_argument["configFile"] == str((folder / "fglocal.json").resolve())
    assert init_argument["runtime"] == "python3.10"
    assert result[2].command.arguments[0]["role"] == "handler"
    assert result[2].command.arguments[0]["uri"] == (folder / "main.py").as_uri()


async def test_code_lens_on_handler_shaped_functions_only(client: LanguageClient):
    text = "def other(event, context):\n    return 1\n\ndef helper(x):\n    return x\n"
    result = await lenses(client, "py39", "extra.py", text)
    assert [(lens.range.start.line, lens.command.arguments[0]["entry"]) for lens in result] == [
        (0, "extra.other"),
        (0, "extra.other"),
    ]
