"""Entries end to end: inferred when nothing configures them, every handler of the folder checked.

The fixtures under tests/fixtures/server/projects (rds, example, timer27, userinfo, srcapp, srcuri)
are written here in the shapes of handlers published for FunctionGraph: entries in non-``index``
modules, ``src/`` layouts, Python 2.7 with print statements and Chinese comments.
"""

from __future__ import annotations

from pathlib import Path
from typing import List

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

client = server_fixture("entries")


def root(client: LanguageClient) -> Path:
    return client.root  # type: ignore[attr-defined]


PUBLISHED = [
    "rds/startrds.py",
    "example/example.py",
    "timer27/timer_sample.py",
    "userinfo/GetUserInfo.py",
    "srcapp/src/app.py",
    "srcuri/src/main.py",
]


@pytest.mark.parametrize("relative", PUBLISHED)
async def test_published_shapes_have_no_diagnostics(client: LanguageClient, relative: str):
    path = root(client) / relative
    assert await diagnose(client, path, path.read_text(encoding="utf-8")) == []


async def lenses(client: LanguageClient, path: Path, text: str) -> List[types.CodeLens]:
    await open_document(client, path, text)
    try:
        found = await client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=path.as_uri()))
        )
    finally:
        await close_document(client, path)
    return list(found or [])


@pytest.mark.parametrize(
    ("relative", "entry", "code_dir"),
    [
        ("rds/startrds.py", "startrds.handler", "rds"),
        ("userinfo/GetUserInfo.py", "GetUserInfo.handler", "userinfo"),
        ("srcapp/src/app.py", "app.handler", "srcapp/src"),
        ("srcuri/src/main.py", "main.main_handler", "srcuri/src"),
        ("timer27/timer_sample.py", "timer_sample.handler", "timer27"),
    ],
)
async def test_inferred_entry_in_code_lens(client: LanguageClient, relative: str, entry: str, code_dir: str):
    path = root(client) / relative
    found = await lenses(client, path, path.read_text(encoding="utf-8"))
    assert [lens.command.title for lens in found] == ["▶ Run locally", "Debug"]
    argument = found[0].command.arguments[0]
    assert argument["entry"] == entry
    assert argument["codeRoot"] == str((root(client) / code_dir).resolve())


async def test_every_handler_shaped_module_is_a_candidate(client: LanguageClient):
    folder = root(client) / "rds"
    other = folder / "stoprds.py"
    found = await lenses(client, other, "def handler(event, context):\n    return 'stopped'\n")
    assert [lens.command.arguments[0]["entry"] for lens in found] == ["stoprds.handler"] * 2


@pytest.mark.parametrize(
    "text",
    ["def handler(event):\n    return 1\n", "async def handler(event, context):\n    return 1\n"],
    ids=["one-parameter", "async"],
)
@pytest.mark.parametrize("folder", ["py39", "noconfig"], ids=["configured", "without-config"])
async def test_wrong_handler_beside_the_entry_is_flagged(client: LanguageClient, folder: str, text: str):
    base = root(client) / folder
    base.mkdir(exist_ok=True)
    index = base / "index.py"
    if not index.exists():
        index.write_text("def handler(event, context):\n    return 1\n")
    diagnostics = await diagnose(client, base / "bad.py", text)
    assert codes(diagnostics) == ["handler-signature"]
    assert diagnostics[0].range.start.line == 0


async def test_initializer_name_is_checked_in_other_modules(client: LanguageClient):
    path = root(client) / "withinit" / "jobs.py"
    assert codes(await diagnose(client, path, "def init():\n    pass\n")) == ["initializer-signature"]
    assert await diagnose(client, path, "def init(context):\n    pass\n") == []


async def test_other_functions_and_subpackages_are_not_checked(client: LanguageClient):
    base = root(client) / "py39"
    assert await diagnose(client, base / "helpers.py", "def handle(request):\n    return request\n") == []
    (base / "pkg").mkdir(exist_ok=True)
    assert await diagnose(client, base / "pkg" / "views.py", "def handler(request):\n    return 1\n") == []


async def test_missing_index_is_an_error_only_when_named(client: LanguageClient):
    # Without config, example.py's folder has no index.py and no error (see the published shapes);
    # named_missing's fglocal.json names index.handler explicitly.
    config = root(client) / "named_missing" / "fglocal.json"
    path = root(client) / "named_missing" / "startrds.py"
    uri = config.as_uri()
    before = published(client, uri)
    assert await open_document(client, path, path.read_text()) == []
    try:
        found = await next_diagnostics(client, uri, before)
    finally:
        await close_document(client, path)
    assert codes(found) == ["entry-not-found"]
    assert "index.py" in found[0].message
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=found[0].range,
            context=types.CodeActionContext(diagnostics=found),
        )
    )
    titles = [a.title for a in actions or []]
    assert titles == ["Set `startrds.handler` as this function's entry"]
    edits = actions[0].edit.changes[uri]
    assert [e.new_text for e in edits] == ['"startrds.handler"']


def _apply(text: str, edit: types.TextEdit) -> str:
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    start = offsets[edit.range.start.line] + edit.range.start.character
    end = offsets[edit.range.end.line] + edit.range.end.character
    return text[:start] + edit.new_text + text[end:]


async def entry_actions(client: LanguageClient, path: Path, text: str, line: int) -> List[types.CodeAction]:
    await open_document(client, path, text)
    try:
        found = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
                range=types.Range(types.Position(line, 4), types.Position(line, 4)),
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
    finally:
        await close_document(client, path)
    return [a for a in found or [] if a.title.startswith("Set ")]


async def test_set_entry_creates_fglocal_json(client: LanguageClient):
    path = root(client) / "example" / "example.py"
    actions = await entry_actions(client, path, path.read_text(), 4)
    assert [a.title for a in actions] == ["Set `example.handler` as this function's entry"]
    changes = actions[0].edit.document_changes
    config_uri = (root(client) / "example" / "fglocal.json").as_uri()
    assert isinstance(changes[0], types.CreateFile) and changes[0].uri == config_uri
    assert isinstance(changes[1], types.TextDocumentEdit)
    text = _apply("", changes[1].edits[0])
    assert text == '{\n  "handler": "example.handler"\n}\n'
    # Nothing offered away from a handler's def line.
    assert await entry_actions(client, path, path.read_text(), 0) == []


async def test_set_entry_edits_existing_config(client: LanguageClient):
    folder = root(client) / "withinit"
    path = folder / "other.py"
    actions = await entry_actions(client, path, "def handler(event, context):\n    return 1\n", 0)
    assert [a.title for a in actions] == ["Set `other.handler` as this function's entry"]
    change = actions[0].edit.document_changes[0]
    assert isinstance(change, types.TextDocumentEdit)
    config = (folder / "fglocal.json").read_text()
    updated = _apply(config, change.edits[0])
    assert '"handler": "other.handler"' in updated and '"initializer": "main.init"' in updated
    # The configured entry itself is not offered again.
    main = folder / "main.py"
    line = next(i for i, t in enumerate(main.read_text().split("\n")) if t.startswith("def handler("))
    assert await entry_actions(client, main, main.read_text(), line) == []


async def test_entry_not_found_in_module_offers_its_handlers(client: LanguageClient):
    path = root(client) / "missing" / "app.py"
    diagnostics = await open_document(client, path, path.read_text())
    try:
        target = [d for d in diagnostics if d.code == "entry-not-found"]
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
    titles = [a.title for a in actions or []]
    assert "Set `app.handle` as this function's entry" in titles


async def test_an_entry_in_a_package_init_names_that_file(client: LanguageClient):
    """Entry ``pkg.handler`` lives in ``pkg/__init__.py`` (contract.entry_files): the message says so."""
    folder = root(client) / "pkginit"
    (folder / "pkg").mkdir(parents=True)
    (folder / "fglocal.json").write_text('{"handler": "pkg.handler"}\n', encoding="utf-8")
    path = folder / "pkg" / "__init__.py"
    text = "def other(event, context):\n    return 1\n"
    path.write_text(text, encoding="utf-8")
    diagnostics = await diagnose(client, path, text)
    assert codes(diagnostics) == ["entry-not-found"], diagnostics
    message = diagnostics[0].message
    assert "which pkg/__init__.py does not define" in message, message
