"""Signature help inside the parentheses of a Context or logger call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from server.analysis import sdk
from server.analysis.context_inference import ScopeIndex, value_before
from server.analysis.model import NO_ROLES, Roles
from server.analysis.text import code_scan

_MAX_LINES_BACK = 10


@dataclass(frozen=True)
class SignatureData:
    """One signature, its parameter labels as (start, end) offsets into the label, and the active one."""

    label: str
    documentation: str
    parameters: List[Tuple[int, int]]
    active_parameter: int


def signature_help(
    lines: Sequence[str], line: int, col: int, roles: Roles = NO_ROLES, index: Optional[ScopeIndex] = None
) -> Optional[SignatureData]:
    """The signature of the Context/logger call whose parentheses hold the cursor, or None."""
    first = max(0, line - _MAX_LINES_BACK)
    chunk = [*lines[first:line], lines[line][:col] if line < len(lines) else ""]
    text = "\n".join(chunk)
    open_at, commas = _innermost_open_paren(text)
    if open_at < 0:
        return None
    before = text[:open_at]
    callee_line = first + before.count("\n")
    last_line = before.rsplit("\n", 1)[-1].rstrip(" \t")
    index = index or ScopeIndex(lines, roles)
    callee = value_before(last_line, callee_line, index)
    if callee is None:
        return None
    kind, name, _start = callee
    info = sdk.method(kind, name)
    if info is None:
        return None
    prefix = "%s(" % info.name
    label = info.signature
    offsets = []
    position = len(prefix)
    for part in sdk.parameter_labels(info):
        offsets.append((position, position + len(part)))
        position += len(part) + 2
    active = commas
    if info.parameters and info.parameters[-1].name.startswith("*"):
        active = min(active, len(info.parameters) - 1)
    return SignatureData(label, sdk.method_markdown(kind, info), offsets, active)


def _innermost_open_paren(text: str) -> Tuple[int, int]:
    """Offset of the innermost unclosed ``(`` and the top-level commas after it; (-1, 0) if none."""
    stack: List[List[int]] = []  # [offset, commas, is a parenthesis]
    code, _inside = code_scan(text)
    for offset, char in code:
        if char in "([{":
            stack.append([offset, 0, char == "("])
        elif char in ")]}":
            if stack:
                stack.pop()
        elif char == "," and stack:
            stack[-1][1] += 1
    if stack and stack[-1][2]:
        return stack[-1][0], stack[-1][1]
    return -1, 0
