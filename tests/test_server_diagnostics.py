"""Diagnostics end to end: every code on code that has the problem, and none on correct code."""

from __future__ import annotations

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
    published,
    server_fixture,
)

client = server_fixture("diagnostics")


def project(client: LanguageClient, name: str) -> Path:
    return client.root / name  # type: ignore[attr-defined]


pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_correct_handler_has_no_diagnostics(client: LanguageClient):
    path = project(client, "py39") / "index.py"
    assert await diagnose(client, path, path.read_text()) == []


async def test_python27_handler_is_accepted_under_python27(client: LanguageClient):
    path = project(client, "py27") / "index.py"
    assert await diagnose(client, path, path.read_text(encoding="utf-8")) == []


async def test_initializer_and_global_logger_are_accepted(client: LanguageClient):
    path = project(client, "withinit") / "main.py"
    assert await diagnose(client, path, path.read_text()) == []


# (code, project, source, expected (line, character) of the first diagnostic with that code)
POSITIVE = [
    ("syntax-error", "py39", "def handler(event, context):\n    return (1,\n", None),
    ("syntax-error", "py39", "def handler(event, context):\n    x = = 1\n    return x\n", (1, 8)),
    ("python2-syntax", "py39", 'def handler(event, context):\n    print "hi"\n    return 1\n', (1, 4)),
    ("runtime-syntax", "py36", "def handler(event, context):\n    if (n := 1):\n        return n\n", (1, 8)),
    (
        "runtime-syntax",
        "py39",
        "def handler(event, context):\n    match event:\n        case _:\n            return 1\n",
        (1, 4),
    ),
    ("runtime-syntax", "py27", "def handler(event, context):\n    return f'{event}'\n", (1, 11)),
    ("missing-coding", "py27", "# 注释\ndef handler(event, context):\n    return 1\n", (0, 2)),
    # Python 2.7.18's rule (fglocal.py2source): a line-2 declaration counts only after a comment line,
    # and only for the bytes after it.
    (
        "missing-coding",
        "py27",
        "x = 1\n# coding: utf-8\n# 注释\ndef handler(event, context):\n    return 1\n",
        (2, 2),
    ),
    (
        "missing-coding",
        "py27",
        "# 注释\n# -*- coding: utf-8 -*-\ndef handler(event, context):\n    return 1\n",
        (0, 2),
    ),
    ("reload-sys", "py27", "import sys\nreload(sys)\ndef handler(event, context):\n    return 1\n", (1, 0)),
    (
        "background-command",
        "py39",
        "import os\ndef handler(event, context):\n    os.system('sleep 5 &')\n",
        (2, 4),
    ),
    ("handler-signature", "py39", "def handler(event):\n    return 1\n", (0, 4)),
    ("handler-signature", "py39", "def handler(event, context, extra):\n    return 1\n", (0, 4)),
    ("handler-signature", "py39", "async def handler(event, context):\n    return 1\n", (0, 10)),
    ("handler-signature", "py39", "class handler:\n    pass\n", (0, 6)),
    ("handler-signature", "py39", "handler = lambda event, context: 1\n", (0, 0)),
    ("entry-not-found", "py39", "def handle(event, context):\n    return 1\n", (0, 0)),
    ("unknown-method", "py39", "def handler(event, context):\n    return context.getRequestId()\n", (1, 19)),
    (
        "unknown-method",
        "py39",
        "def handler(event, ctx):\n    log = ctx.getLogger()\n    log.inf('x')\n",
        (2, 8),
    ),
    ("wrong-arguments", "py39", "def handler(event, context):\n    return context.getUserData()\n", (1, 11)),
    (
        "wrong-arguments",
        "py39",
        "def handler(event, context):\n    return context.getUserData('a', 'b', 'c')\n",
        (1, 11),
    ),
    (
        "wrong-arguments",
        "py39",
        "def handler(event, context):\n    return context.getRequestID(1)\n",
        (1, 11),
    ),
    (
        "deprecated-method",
        "py39",
        "def handler(event, context):\n    return context.getAccessKey()\n",
        (1, 19),
    ),
    ("sensitive-logged", "py39", "def handler(event, context):\n    print(context.getToken())\n", (1, 10)),
    (
        "sensitive-logged",
        "py39",
        "def handler(event, context):\n    sk = context.getSecuritySecretKey()\n    msg = f'sk={sk}'\n"
        "    context.getLogger().info(msg)\n",
        (3, 29),
    ),
    (
        "sensitive-logged",
        "py39",
        "import logging\ndef handler(event, context):\n    logging.warning('t %s', context.getSecurityToken())\n",
        (2, 28),
    ),
    ("return-not-json", "py39", "def handler(event, context):\n    return {1, 2}\n", (1, 11)),
    ("return-not-json", "py39", "def handler(event, context):\n    return {'data': b'raw'}\n", (1, 20)),
    ("return-not-json", "py39", "def handler(event, context):\n    yield 1\n", (0, 4)),
    (
        "apig-response",
        "py39",
        "def handler(event, context):\n    return {'statusCode': '200', 'body': 'x'}\n",
        (1, 26),
    ),
    (
        "apig-response",
        "py39",
        "def handler(event, context):\n    return {'statusCode': 200, 'body': {'a': 1}}\n",
        (1, 39),
    ),
]


@pytest.mark.parametrize(
    ("code", "folder", "source", "where"), POSITIVE, ids=[f"{c[0]}-{i}" for i, c in enumerate(POSITIVE)]
)
async def test_each_code_is_reported_where_the_problem_is(
    client: LanguageClient, code, folder, source, where
):
    diagnostics = await diagnose(client, project(client, folder) / "index.py", source)
    found = [d for d in diagnostics if d.code == code]
    assert found, f"expected {code}, got {codes(diagnostics)}"
    first = found[0]
    assert first.source == "functiongraph"
    assert first.message and first.severity in (
        types.DiagnosticSeverity.Error,
        types.DiagnosticSeverity.Warning,
    )
    if where is not None:
        assert (first.range.start.line, first.range.start.character) == where, first


NEGATIVE = [
    ("python2-syntax", "py27", 'def handler(event, context):\n    print "hi"\n    return 1\n'),
    ("runtime-syntax", "py39", "def handler(event, context):\n    if (n := 1):\n        return n\n"),
    ("missing-coding", "py39", "# 注释\ndef handler(event, context):\n    return 1\n"),
    (
        "missing-coding",
        "py27",
        "#!/usr/bin/env python\n# coding: utf-8\n# 注释\ndef handler(event, context):\n    return 1\n",
    ),
    (
        "reload-sys",
        "py39",
        "import importlib, sys\nimportlib.reload(sys)\ndef handler(event, context):\n    return 1\n",
    ),
    ("background-command", "py39", "import os\ndef handler(event, context):\n    os.system('a && b')\n"),
    ("handler-signature", "py39", "def handler(event, context=None, *args, **kwargs):\n    return 1\n"),
    ("handler-signature", "py39", "from app import handler\n"),
    (
        "unknown-method",
        "py39",
        "def handler(event, context):\n    other = event.context\n    return other.getRequestId()\n",
    ),
    (
        "unknown-method",
        "py39",
        "def helper(context):\n    return context.whatever()\ndef handler(event, c):\n    return 1\n",
    ),
    (
        "wrong-arguments",
        "py39",
        "def handler(event, context):\n    return context.getUserData('k', default='d')\n",
    ),
    (
        "sensitive-logged",
        "py39",
        "def handler(event, context):\n    token = context.getToken()\n    print('token set:', len(token) > 0 and 'yes')\n    return {'ok': bool(token)}\n",
    ),
    (
        "return-not-json",
        "py39",
        "def helper():\n    return {1, 2}\ndef handler(event, context):\n    return sorted({1, 2})\n",
    ),
    (
        "apig-response",
        "py39",
        "import json\ndef handler(event, context):\n    return {'statusCode': 404, 'body': json.dumps({})}\n",
    ),
]


@pytest.mark.parametrize(
    ("code", "folder", "source"), NEGATIVE, ids=[f"{c[0]}-{i}" for i, c in enumerate(NEGATIVE)]
)
async def test_no_false_positive(client: LanguageClient, code, folder, source):
    diagnostics = await diagnose(client, project(client, folder) / "index.py", source)
    assert code not in codes(diagnostics), diagnostics


INITIALIZER_CASES = [
    ("def init(a, b):\n    pass\n", "initializer-signature", (0, 4)),
    ("async def init(context):\n    pass\n", "initializer-signature", (0, 10)),
    ("def init():\n    pass\n", "initializer-signature", (0, 4)),
    ("init = lambda context: None\n", "initializer-signature", (0, 0)),
    ("def setup(context):\n    pass\n", "entry-not-found", (0, 0)),
]


@pytest.mark.parametrize(("source", "code", "where"), INITIALIZER_CASES)
async def test_initializer_checks(client: LanguageClient, source: str, code: str, where):
    handler = "\n\ndef handler(evt, c):\n    return 1\n"
    diagnostics = await diagnose(client, project(client, "withinit") / "main.py", source + handler)
    assert [(d.code, (d.range.start.line, d.range.start.character)) for d in diagnostics] == [(code, where)]


async def test_initializer_with_default_parameters_is_accepted(client: LanguageClient):
    source = "def init(context, retries=3):\n    pass\n\ndef handler(evt, c, *rest):\n    return 1\n"
    assert await diagnose(client, project(client, "withinit") / "main.py", source) == []


async def test_valid_config_file_has_no_diagnostics(client: LanguageClient):
    config = project(client, "withinit") / "fglocal.json"
    try:
        assert await open_document(client, config, config.read_text(), language="json") == []
    finally:
        await close_document(client, config)


async def test_stdlib_shadowing_in_folder(client: LanguageClient):
    folder = project(client, "py39")
    (folder / "json.py").write_text("X = 1\n")
    (folder / "lib").mkdir()
    try:
        source = (folder / "index.py").read_text()
        diagnostics = await diagnose(client, folder / "index.py", source)
        shadowing = [d for d in diagnostics if d.code == "stdlib-shadowing"]
        assert {d.range.start.line for d in shadowing} == {
            0,
            2,
        }  # the entry module's first line, `import json`
        assert "lib/" in shadowing[0].message
        own = await diagnose(client, folder / "json.py", "X = 1\n")
        assert codes(own) == ["stdlib-shadowing"]
    finally:
        (folder / "json.py").unlink()
        (folder / "lib").rmdir()
    assert "stdlib-shadowing" not in codes(await diagnose(client, folder / "index.py", source))


async def test_missing_entry_files_are_reported_in_fglocal_json(client: LanguageClient):
    folder = project(client, "missing")
    config_uri = (folder / "fglocal.json").as_uri()
    diagnostics = await diagnose(client, folder / "app.py", (folder / "app.py").read_text())
    assert "entry-not-found" in codes(diagnostics)  # app.py defines handle, not main
    config = client.diagnostics[config_uri]
    # app.py exists (its missing function is reported in app.py); setup.py does not.
    assert [(d.range.start.line, d.range.start.character, d.code) for d in config] == [
        (2, 17, "entry-not-found")
    ]
    assert "setup.py" in config[0].message


async def test_config_error_is_reported_at_the_field(client: LanguageClient):
    folder = project(client, "missing")
    config = folder / "fglocal.json"
    original = config.read_text()
    config.write_text('{\n  "handler": "app.main",\n  "runtime": "python4.0"\n}\n')
    try:
        diagnostics = await open_document(client, config, config.read_text(), language="json")
        assert [(d.code, d.range.start.line) for d in diagnostics] == [("config-error", 2)]
        assert "python4.0" in diagnostics[0].message
    finally:
        config.write_text(original)


async def test_diagnostics_follow_changes_and_saves(client: LanguageClient):
    path = project(client, "py39") / "index.py"
    uri = path.as_uri()
    good = path.read_text()
    assert await open_document(client, path, good, version=1) == []
    before = published(client, uri)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=good + "\nx = context.\n")],
        )
    )
    changed = await next_diagnostics(client, uri, before)
    assert codes(changed) == ["syntax-error"]
    assert changed[0].range.start.line == len(good.splitlines()) + 1
    before = published(client, uri)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=good)],
        )
    )
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert await next_diagnostics(client, uri, before) == []
    before = published(client, uri)
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert await next_diagnostics(client, uri, before) == []
