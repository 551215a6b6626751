"""Completion items after ``context.`` / ``logger.``, and the snippets of :mod:`snippets`."""

from __future__ import annotations

import functools
from typing import List, Optional, Sequence, Tuple

from server.analysis import event_keys, sdk
from server.analysis.context_inference import ScopeIndex, value_before
from server.analysis.event_keys import NO_EVENTS, FunctionEvents
from server.analysis.model import NO_ROLES, CompletionData, Roles
from server.analysis.snippets import snippets_at
from server.analysis.text import line_at

__all__ = ["CompletionData", "complete", "method_items"]


def complete(
    lines: Sequence[str],
    line: int,
    col: int,
    roles: Roles = NO_ROLES,
    snippets: bool = True,
    index: Optional[ScopeIndex] = None,
    events: FunctionEvents = NO_EVENTS,
) -> List[CompletionData]:
    """Completion items at (line, col); an empty list when there is nothing FunctionGraph-specific.

    ``index`` may be a :class:`ScopeIndex` of the same lines kept from an earlier request; ``events``
    are the function's test events (for the keys after ``event["``).
    """
    index = index or ScopeIndex(lines, roles)
    found = value_before(line_at(lines, line)[:col], line, index)
    if found:
        return list(method_items(found[0], snippets))
    keys = event_keys.key_items(lines, line, col, roles, index, events)
    if keys is not None:
        return keys
    return snippets_at(lines, line, col, roles, index)


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
