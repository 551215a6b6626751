"""Work done once, right after ``initialized``, so that the first real request is as fast as later ones.

cattrs generates lsprotocol's (un)structure functions on first use of each message type, and the
analysis imports and compiles a few things lazily; together that is tens of milliseconds the first
``didOpen`` would otherwise pay.
"""

from __future__ import annotations

import gc
from typing import Any

from lsprotocol import types

from server.analysis import completion, diagnostics, hover, signature_help
from server.analysis.model import ModuleContext, Roles
from server.analysis.text import split_lines

_SAMPLE = (
    "import json, os\n"
    "def handler(event, context):\n"
    "    log = context.getLogger()\n"
    "    log.info('%s', context.getToken())\n"
    "    context.getRequestId()\n"
    "    context.getAccessKey()\n"
    "    os.system('x &')\n"
    "    return {'statusCode': '200', 'body': {1}}\n"
)
_POSITION = {"line": 0, "character": 0}
_RANGE = {"start": _POSITION, "end": _POSITION}
_IDENTIFIER = {"uri": "file:///warmup.py"}
_REQUESTS: Any = (
    (
        {"textDocument": {**_IDENTIFIER, "languageId": "python", "version": 1, "text": ""}},
        types.DidOpenTextDocumentParams,
    ),
    (
        {"textDocument": {**_IDENTIFIER, "version": 2}, "contentChanges": [{"range": _RANGE, "text": "x"}]},
        types.DidChangeTextDocumentParams,
    ),
    ({"textDocument": _IDENTIFIER}, types.DidSaveTextDocumentParams),
    ({"textDocument": _IDENTIFIER, "position": _POSITION}, types.CompletionParams),
    ({"textDocument": _IDENTIFIER, "position": _POSITION}, types.HoverParams),
    ({"textDocument": _IDENTIFIER, "position": _POSITION}, types.SignatureHelpParams),
    ({"textDocument": _IDENTIFIER}, types.CodeLensParams),
)


def warm_up(converter: Any) -> None:
    """Exercise the converters and the analysis once on a small sample."""
    for data, kind in _REQUESTS:
        converter.structure(data, kind)
    lines = split_lines(_SAMPLE)
    roles = Roles(handler="handler")
    findings = diagnostics.analyze(_SAMPLE, ModuleContext(roles=roles, module_name="index"))
    completion.complete(lines, 2, 18, roles)
    hover.hover(lines, 2, 18, roles)
    signature_help.signature_help(lines, 3, 13, roles)
    diagnostic = types.Diagnostic(
        range=types.Range(types.Position(0, 0), types.Position(0, 1)),
        message=findings[0].message if findings else "",
        severity=types.DiagnosticSeverity.Warning,
        code="x",
        source="functiongraph",
        tags=[types.DiagnosticTag.Deprecated],
        data={"fixes": []},
    )
    converter.unstructure(
        types.PublishDiagnosticsParams(uri="file:///warmup.py", diagnostics=[diagnostic], version=1)
    )
    item = types.CompletionItem(
        label="x",
        kind=types.CompletionItemKind.Method,
        documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=""),
        tags=[types.CompletionItemTag.Deprecated],
        insert_text_format=types.InsertTextFormat.Snippet,
    )
    converter.unstructure(types.CompletionList(is_incomplete=False, items=[item]))
    # Everything built so far (modules, lsprotocol's classes, cattrs' functions: ~50,000 objects)
    # lives as long as the server: out of the cyclic collector's sight, a full collection no longer
    # walks them all (tens of milliseconds, at a random request). No collection first: the garbage
    # at this point is a handful of objects, which then stay.
    gc.freeze()
