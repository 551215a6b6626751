"""Conversions between the analysis' plain data and lsprotocol types (positions in client units)."""

from __future__ import annotations

import functools
import weakref
from typing import Any, Dict, List, Optional, Sequence, Tuple

from lsprotocol import types
from pygls.workspace import TextDocument
from pygls.workspace.position_codec import ServerTextPosition, ServerTextRange

from server.analysis.completion import CompletionData
from server.analysis.model import ERROR, HINT, INFORMATION, WARNING, Edit, Finding, Fix, Span

SOURCE = "functiongraph"
_SEVERITY = {
    ERROR: types.DiagnosticSeverity.Error,
    WARNING: types.DiagnosticSeverity.Warning,
    INFORMATION: types.DiagnosticSeverity.Information,
    HINT: types.DiagnosticSeverity.Hint,
}


# Per open document: its text (the very object) and pygls' lines of it. ``TextDocument.lines`` splits
# the whole text again on every access, and each position conversion reads it (twice for a range).
_CLIENT_LINES: weakref.WeakKeyDictionary[TextDocument, Tuple[str, Sequence[str]]] = (
    weakref.WeakKeyDictionary()
)


def client_lines(document: TextDocument) -> Sequence[str]:
    """``document.lines``, split once per text: kept while the document holds the same text object.

    Every edit gives the document a new text object; the old one stays referenced here until then,
    so an identity check cannot be fooled by a reused address.
    """
    source = document.source
    cached = _CLIENT_LINES.get(document)
    if cached is not None and cached[0] is source:
        return cached[1]
    lines = document.lines
    _CLIENT_LINES[document] = (source, lines)
    return lines


def from_client_position(document: TextDocument, position: types.Position) -> ServerTextPosition:
    """``document.position_from_client_units(position)``, on the lines split once per text."""
    return document.position_codec.position_from_client_units(client_lines(document), position)


def to_range(document: TextDocument, span: Span) -> types.Range:
    """A span in characters as an LSP range in the client's units (UTF-16 unless negotiated)."""
    lines = client_lines(document)
    last = max(len(lines) - 1, 0)
    start = ServerTextPosition(min(span.line, last), span.col)
    end = ServerTextPosition(min(span.end_line, last), span.end_col)
    if span.line > last or not lines:
        return types.Range(types.Position(span.line, span.col), types.Position(span.end_line, span.end_col))
    return document.position_codec.range_to_client_units(lines, ServerTextRange(start, end))


def to_diagnostic(document: TextDocument, finding: Finding) -> types.Diagnostic:
    """A finding as an LSP diagnostic; its quick fixes travel in ``data`` for ``codeAction``."""
    tags = []
    if finding.deprecated:
        tags.append(types.DiagnosticTag.Deprecated)
    data: Optional[Dict[str, Any]] = None
    if finding.fixes:
        data = {"fixes": [_fix_data(document, fix) for fix in finding.fixes]}
    return types.Diagnostic(
        range=to_range(document, finding.span),
        message=finding.message,
        severity=_SEVERITY.get(finding.severity, types.DiagnosticSeverity.Error),
        code=finding.code,
        source=SOURCE,
        tags=tags or None,
        data=data,
    )


def _fix_data(document: TextDocument, fix: Fix) -> Dict[str, Any]:
    return {
        "title": fix.title,
        "preferred": fix.preferred,
        "edits": [_edit_data(document, edit) for edit in fix.edits],
    }


def _edit_data(document: TextDocument, edit: Edit) -> Dict[str, Any]:
    rng = to_range(document, edit.span)
    return {
        "range": {
            "start": {"line": rng.start.line, "character": rng.start.character},
            "end": {"line": rng.end.line, "character": rng.end.character},
        },
        "newText": edit.new_text,
    }


def quick_fixes(uri: str, diagnostics: List[types.Diagnostic]) -> List[types.CodeAction]:
    """Code actions for our diagnostics that carry fixes (read back from their ``data``)."""
    actions = []
    for diagnostic in diagnostics:
        if diagnostic.source != SOURCE or not isinstance(diagnostic.data, dict):
            continue
        for fix in diagnostic.data.get("fixes") or []:
            try:
                edits = [
                    types.TextEdit(
                        range=types.Range(
                            types.Position(e["range"]["start"]["line"], e["range"]["start"]["character"]),
                            types.Position(e["range"]["end"]["line"], e["range"]["end"]["character"]),
                        ),
                        new_text=e["newText"],
                    )
                    for e in fix["edits"]
                ]
                title = str(fix["title"])
            except (KeyError, TypeError):
                continue  # not data we wrote: ignore rather than fail the request
            actions.append(
                types.CodeAction(
                    title=title,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    edit=types.WorkspaceEdit(changes={uri: edits}),
                    is_preferred=bool(fix.get("preferred")) or None,
                )
            )
    return actions


_ITEM_KINDS = {
    "method": types.CompletionItemKind.Method,
    "field": types.CompletionItemKind.Field,
    "snippet": types.CompletionItemKind.Snippet,
}


def to_completion_items(
    items: List[CompletionData], document: TextDocument, cursor: Tuple[int, int]
) -> List[types.CompletionItem]:
    """Completion items in LSP form; one with ``replace_start`` replaces from there to ``cursor``.

    The ranges are converted once per start column (items after ``event["`` share one): each
    conversion reads the document's lines.
    """
    line, col = cursor
    ranges: Dict[int, types.Range] = {}
    converted = []
    for item in items:
        if item.replace_start is None:
            converted.append(_fixed_item(item))
            continue
        rng = ranges.get(item.replace_start)
        if rng is None:
            rng = ranges[item.replace_start] = to_range(document, Span(line, item.replace_start, line, col))
        converted.append(to_completion_item(item, rng))
    return converted


@functools.lru_cache(maxsize=1024)
def _fixed_item(item: CompletionData) -> types.CompletionItem:
    """:func:`to_completion_item` of an item without a range, converted once per distinct item.

    The same Context methods are offered at every ``context.``; nothing changes an item after it.
    """
    return to_completion_item(item)


def to_completion_item(item: CompletionData, replace: Optional[types.Range] = None) -> types.CompletionItem:
    """A completion item in LSP form; with ``replace``, a text edit of that range."""
    text_edit = types.TextEdit(range=replace, new_text=item.insert_text) if replace is not None else None
    return types.CompletionItem(
        label=item.label,
        kind=_ITEM_KINDS.get(item.kind, types.CompletionItemKind.Snippet),
        detail=item.detail,
        documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=item.documentation),
        text_edit=text_edit,
        insert_text=item.insert_text,
        insert_text_format=types.InsertTextFormat.Snippet
        if item.is_snippet
        else types.InsertTextFormat.PlainText,
        sort_text=item.sort_text,
        filter_text=item.filter_text,
        tags=[types.CompletionItemTag.Deprecated] if item.deprecated else None,
    )
