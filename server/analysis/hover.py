"""Hover text for Context / logger methods and for the variables that hold them."""

from __future__ import annotations

import re
from typing import Optional, Sequence, Tuple

from server.analysis import sdk
from server.analysis.completion import in_string_or_comment
from server.analysis.context_inference import CONTEXT, LOGGER, ScopeIndex
from server.analysis.model import NO_ROLES, Roles, Span
from server.analysis.text import line_at, word_around

_BEFORE_METHOD_RE = re.compile(
    r"(?<![\w.])([A-Za-z_][A-Za-z0-9_]*)((?:[ \t]*\.[ \t]*getLogger[ \t]*\([ \t]*\))?)[ \t]*\.[ \t]*$"
)


def hover(
    lines: Sequence[str], line: int, col: int, roles: Roles = NO_ROLES, index: Optional[ScopeIndex] = None
) -> Optional[Tuple[str, Span]]:
    """Markdown and the word's span for the symbol at (line, col), or None."""
    text = line_at(lines, line)
    start, end = word_around(text, col)
    if start == end or in_string_or_comment(text[:start]):
        return None
    word = text[start:end]
    index = index or ScopeIndex(lines, roles)
    span = Span(line, start, line, end)
    before = _BEFORE_METHOD_RE.search(text[:start])
    if before:
        kind = index.kind_of(before.group(1), line)
        if kind == CONTEXT and before.group(2):
            kind = LOGGER
        elif before.group(2):
            kind = None
        info = sdk.method(kind, word) if kind else None
        return (sdk.method_markdown(kind, info), span) if kind and info else None
    if text[:start].rstrip().endswith("."):
        return None
    kind = index.kind_of(word, line)
    return (sdk.type_markdown(kind, word), span) if kind else None
