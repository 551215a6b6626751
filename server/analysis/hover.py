"""Hover text for Context / logger methods and for the variables that hold them."""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

from server.analysis import event_keys, sdk
from server.analysis.context_inference import ScopeIndex, value_before
from server.analysis.event_keys import NO_EVENTS, FunctionEvents
from server.analysis.model import NO_ROLES, Roles, Span
from server.analysis.text import code_scan, line_at, word_around


def hover(
    lines: Sequence[str],
    line: int,
    col: int,
    roles: Roles = NO_ROLES,
    index: Optional[ScopeIndex] = None,
    events: FunctionEvents = NO_EVENTS,
) -> Optional[Tuple[str, Span]]:
    """Markdown and the word's span for the symbol at (line, col), or None.

    On a key of ``event[...]``: its value in the test event(s) ``events`` (or its type).
    """
    text = line_at(lines, line)
    index = index or ScopeIndex(lines, roles)
    if "[" in text or "get" in text:
        key = event_keys.hover_key(lines, line, col, roles, index, events)
        if key is not None:
            return key
    start, end = word_around(text, col)
    if start == end or code_scan(text[:start])[1]:
        return None
    word = text[start:end]
    span = Span(line, start, line, end)
    if text[:start].rstrip().endswith("."):
        before = value_before(text[:end], line, index)
        info = sdk.method(before[0], word) if before else None
        return (sdk.method_markdown(before[0], info), span) if before and info else None
    kind = index.kind_of(word, line)
    return (sdk.type_markdown(kind, word), span) if kind else None
