"""Hover text for Context / logger methods and for the variables that hold them."""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

from server.analysis import sdk
from server.analysis.context_inference import ScopeIndex, value_before
from server.analysis.model import NO_ROLES, Roles, Span
from server.analysis.text import code_scan, line_at, word_around


def hover(
    lines: Sequence[str], line: int, col: int, roles: Roles = NO_ROLES, index: Optional[ScopeIndex] = None
) -> Optional[Tuple[str, Span]]:
    """Markdown and the word's span for the symbol at (line, col), or None."""
    text = line_at(lines, line)
    start, end = word_around(text, col)
    if start == end or code_scan(text[:start])[1]:
        return None
    word = text[start:end]
    index = index or ScopeIndex(lines, roles)
    span = Span(line, start, line, end)
    if text[:start].rstrip().endswith("."):
        before = value_before(text[:end], line, index)
        info = sdk.method(before[0], word) if before else None
        return (sdk.method_markdown(before[0], info), span) if before and info else None
    kind = index.kind_of(word, line)
    return (sdk.type_markdown(kind, word), span) if kind else None
