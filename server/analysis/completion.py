"""Completion items after ``context.`` / ``logger.`` and the new-file snippets."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from server.analysis import sdk
from server.analysis.context_inference import CONTEXT, LOGGER, ScopeIndex
from server.analysis.model import NO_ROLES, Roles
from server.analysis.text import code_scan, is_code_line, line_at

# `name.` or `name.getLogger().` before the cursor, then the part of the method name already typed.
_RECEIVER_RE = re.compile(
    r"(?<![\w.])([A-Za-z_][A-Za-z0-9_]*)((?:[ \t]*\.[ \t]*getLogger[ \t]*\([ \t]*\))?)[ \t]*\.[ \t]*([A-Za-z_][A-Za-z0-9_]*)?$"
)
_SNIPPET_PREFIX = "fg"


@dataclass(frozen=True)
class CompletionData:
    """One completion item in plain data."""

    label: str
    kind: str  # "method" or "snippet"
    detail: str
    documentation: str  # Markdown
    insert_text: str
    is_snippet: bool
    sort_text: str
    deprecated: bool = False
    filter_text: Optional[str] = None


def receiver_at(lines: Sequence[str], line: int, col: int, index: ScopeIndex) -> Optional[Tuple[str, str]]:
    """``(kind, typed prefix)`` when the cursor follows ``<context or logger>.``, else None."""
    prefix = line_at(lines, line)[:col]
    if "." not in prefix or in_string_or_comment(prefix):
        return None
    match = _RECEIVER_RE.search(prefix)
    if not match:
        return None
    name, via_logger, typed = match.group(1), match.group(2), match.group(3) or ""
    kind = index.kind_of(name, line)
    if kind == CONTEXT and via_logger:
        kind = LOGGER
    elif via_logger:
        kind = None
    return (kind, typed) if kind else None


def in_string_or_comment(prefix: str) -> bool:
    """Whether the end of ``prefix`` (one line) is inside a string literal or a comment."""
    return code_scan(prefix)[1]


def complete(
    lines: Sequence[str],
    line: int,
    col: int,
    roles: Roles = NO_ROLES,
    snippets: bool = True,
    index: Optional[ScopeIndex] = None,
) -> List[CompletionData]:
    """Completion items at (line, col); an empty list when there is nothing FunctionGraph-specific.

    ``index`` may be a :class:`ScopeIndex` of the same lines kept from an earlier request.
    """
    index = index or ScopeIndex(lines, roles)
    found = receiver_at(lines, line, col, index)
    if found:
        kind, _typed = found
        return list(method_items(kind, snippets))
    if _wants_file_snippets(lines, line, col):
        return file_snippets(roles)
    return []


@functools.lru_cache(maxsize=None)
def method_items(kind: str, snippets: bool = True) -> Tuple[CompletionData, ...]:
    """One item per method of the Context or the logger; deprecated ones sort last."""
    items = []
    for position, info in enumerate(sdk.methods(kind)):
        group = 1 if info.deprecated_by else 0
        insert = sdk.call_snippet(info) if snippets else info.name
        items.append(
            CompletionData(
                label=info.name,
                kind="method",
                detail=info.signature,
                documentation=sdk.method_markdown(kind, info),
                insert_text=insert,
                is_snippet=snippets,
                sort_text="%d%02d" % (group, position),
                deprecated=bool(info.deprecated_by),
            )
        )
    return tuple(items)


def _wants_file_snippets(lines: Sequence[str], line: int, col: int) -> bool:
    current = line_at(lines, line)
    prefix = current[:col]
    if prefix.strip() != prefix or not re.fullmatch(r"[A-Za-z_]*", prefix):
        return False
    if prefix.startswith(_SNIPPET_PREFIX):
        return True
    return not any(is_code_line(text) for number, text in enumerate(lines) if number != line)


def file_snippets(roles: Roles) -> List[CompletionData]:
    """Snippets for a new handler, a new initializer and an APIG-response handler."""
    handler = roles.handler or "handler"
    initializer = roles.initializer or "initializer"
    return [
        _snippet(
            "fg-handler",
            "FunctionGraph handler",
            "def ${1:%s}(event, context):\n"
            '    """Handle one FunctionGraph event."""\n'
            "    logger = context.getLogger()\n"
            '    logger.info("request %%s", context.getRequestID())\n'
            '    ${0:return {"ok": True\\}}\n' % handler,
            "0",
        ),
        _snippet(
            "fg-initializer",
            "FunctionGraph initializer",
            "def ${1:%s}(context):\n"
            '    """Run once per instance, before its first event."""\n'
            "    ${0:pass}\n" % initializer,
            "1",
        ),
        _snippet(
            "fg-apig-handler",
            "FunctionGraph handler returning an APIG response",
            "import json\n\n\n"
            "def ${1:%s}(event, context):\n"
            '    """Answer an API Gateway (APIG) request."""\n'
            '    body = {${2:"message": "hello"}}\n'
            "    return {\n"
            '        "statusCode": ${3:200},\n'
            '        "headers": {"Content-Type": "application/json"},\n'
            '        "body": json.dumps(body),\n'
            '        "isBase64Encoded": False,\n'
            "    }\n" % handler,
            "2",
        ),
    ]


def _snippet(label: str, detail: str, body: str, order: str) -> CompletionData:
    shown = re.sub(r"\$\{\d+:([^}]*)\}", r"\1", body).replace("$0", "").replace("\\}", "}")
    return CompletionData(
        label=label,
        kind="snippet",
        detail=detail,
        documentation="```python\n%s```" % shown,
        insert_text=body,
        is_snippet=True,
        sort_text="9" + order,
        filter_text=label,
    )
