"""The FunctionGraph SDK as the editor shows it, built from :mod:`fglocal.catalog` (never listed here)."""

from __future__ import annotations

import difflib
from typing import Dict, List, Optional, Tuple

from fglocal.catalog import CONTEXT_DOC, CONTEXT_METHODS, LOGGER_DOC, LOGGER_METHODS, MethodInfo
from server.analysis.model import CONTEXT, LOGGER

_BY_KIND: Dict[str, Tuple[MethodInfo, ...]] = {CONTEXT: CONTEXT_METHODS, LOGGER: LOGGER_METHODS}
_TYPE_NAME = {CONTEXT: "Context", LOGGER: "Logger"}
_TYPE_DOC = {CONTEXT: CONTEXT_DOC, LOGGER: LOGGER_DOC}
_KIND_OF_TYPE = {name: kind for kind, name in _TYPE_NAME.items()}


def methods(kind: str) -> Tuple[MethodInfo, ...]:
    """The methods of a Context (``CONTEXT``) or logger (``LOGGER``) value."""
    return _BY_KIND.get(kind, ())


def method(kind: str, name: str) -> Optional[MethodInfo]:
    """The method ``name`` of ``kind``, or None."""
    for info in methods(kind):
        if info.name == name:
            return info
    return None


def returned_kind(kind: Optional[str], name: str) -> Optional[str]:
    """The kind of value a call of method ``name`` on a ``kind`` value returns, from the catalog.

    ``returned_kind(CONTEXT, "getLogger") == LOGGER`` because ``Context.getLogger`` returns ``Logger``.
    """
    info = method(kind, name) if kind else None
    return _KIND_OF_TYPE.get(info.returns) if info else None


def type_name(kind: str) -> str:
    """``Context`` or ``Logger``."""
    return _TYPE_NAME[kind]


def suggestions(kind: str, name: str, limit: int = 3) -> List[str]:
    """Known method names close to a misspelt ``name`` (case differences first)."""
    return close_matches(name, [m.name for m in methods(kind)], limit)


def close_matches(name: str, names: List[str], limit: int = 3) -> List[str]:
    """The ``names`` close to a misspelt ``name``, for "did you mean" (case differences first)."""
    same_case = [n for n in names if n.lower() == name.lower()]
    close = difflib.get_close_matches(name, names, n=limit, cutoff=0.6)
    lowered = {n.lower(): n for n in names}
    close_ci = [
        lowered[n] for n in difflib.get_close_matches(name.lower(), list(lowered), n=limit, cutoff=0.6)
    ]
    ordered: List[str] = []
    for candidate in same_case + close + close_ci:
        if candidate not in ordered:
            ordered.append(candidate)
    return ordered[:limit]


def method_markdown(kind: str, info: MethodInfo) -> str:
    """Hover / completion documentation: the signature as Python, then the docstring."""
    parts = ["```python\n%s.%s\n```" % (type_name(kind), info.signature)]
    if info.deprecated_by:
        parts.append("**Deprecated**: use `%s()` instead." % info.deprecated_by)
    if info.sensitive:
        parts.append("**Sensitive**: the value is a credential; never print or log it.")
    if info.doc:
        parts.append(info.doc)
    return "\n\n".join(parts)


def type_markdown(kind: str, name: str) -> str:
    """Hover documentation for a variable holding a Context or a logger."""
    return "```python\n%s: %s\n```\n\n%s" % (name, type_name(kind), _TYPE_DOC[kind])


def call_snippet(info: MethodInfo) -> str:
    """A snippet for a call, with a placeholder for each required argument."""
    required = [p for p in info.parameters if p.default is None and not p.name.startswith("*")]
    if not required:
        if any(not p.name.startswith("*") for p in info.parameters):
            return "%s($0)" % info.name
        if info.parameters:  # only *args: the message comes first for loggers
            return "%s(${1:message})" % info.name
        return "%s()" % info.name
    placeholders = ", ".join("${%d:%s}" % (i, p.name) for i, p in enumerate(required, 1))
    return "%s(%s)" % (info.name, placeholders)


def parameter_labels(info: MethodInfo) -> List[str]:
    """Each parameter as it appears in :attr:`MethodInfo.signature`."""
    labels = []
    for p in info.parameters:
        text = "%s: %s" % (p.name, p.annotation) if p.annotation else p.name
        if p.default is not None and not p.name.startswith("*"):
            text += " = %s" % p.default
        labels.append(text)
    return labels
