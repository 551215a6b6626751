"""Keys of the handler's ``event``: completion after ``event["``, hover on ``event["body"]``, checks.

The keys come from the function's test events (``events/*.json``: the selected one, else all of them)
or, when the handler annotates ``event`` with a type of :mod:`fglocal.events`, from that type, whose
unknown keys are then flagged. Access chains understood: ``event["a"]``, ``event['a']``,
``event.get("a")`` (with or without a default), list indexes (``event["Records"][0]``), nested.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from server.analysis import event_types, sdk
from server.analysis.context_inference import FunctionHeader, ScopeIndex, is_handler_like
from server.analysis.event_types import Segment
from server.analysis.model import WARNING, CompletionData, Edit, Finding, Fix, Roles, Span
from server.analysis.parsing import node_span
from server.analysis.text import code_scan

EventFile = Tuple[str, Any]  # (label shown to the user, e.g. "events/apig.json", parsed JSON value)
KeyRow = Tuple[str, str, str]  # (key, detail, documentation) of one completion item


@dataclass(frozen=True)
class FunctionEvents:
    """A function's test events and which one is selected (the extension's status bar shows it).

    The parsed values are never changed: the key rows computed from them are kept per path.
    """

    files: Tuple[EventFile, ...] = ()
    selected: Optional[str] = None  # the label of the selected file
    _rows: Dict[Tuple[Segment, ...], Tuple[KeyRow, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def for_keys(self) -> Tuple[EventFile, ...]:
        """The selected event when there is one, else all of them."""
        chosen = tuple(f for f in self.files if f[0] == self.selected)
        return chosen or self.files

    def key_rows(self, path: Tuple[Segment, ...]) -> Tuple[KeyRow, ...]:
        """:func:`key_rows` of :meth:`for_keys` at ``path``, computed once per path."""
        rows = self._rows.get(path)
        if rows is None:
            if len(self._rows) >= _MAX_PATHS:
                self._rows.clear()
            rows = self._rows[path] = key_rows(self.for_keys(), path)
        return rows


NO_EVENTS = FunctionEvents()

_Q = r"(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
_SEGMENT = r"(?:[ \t]*\[[ \t]*(?:%s|\d+)[ \t]*\]|[ \t]*\.[ \t]*get[ \t]*\([ \t]*%s[ \t]*(?:,[^()]*)?\))" % (
    _Q,
    _Q,
)
_OPEN_RE = re.compile(
    r"(?<![\w.])([A-Za-z_][A-Za-z0-9_]*)((?:%s)*)[ \t]*(?:\[|\.[ \t]*get[ \t]*\()[ \t]*([\"'])([^\"'\\]*)$"
    % _SEGMENT
)
_CHAIN_RE = re.compile(r"(?<![\w.])([A-Za-z_][A-Za-z0-9_]*)((?:%s)+)" % _SEGMENT)
_PART_RE = re.compile(r"\[[ \t]*(?:(%s)|(\d+))[ \t]*\]|\.[ \t]*get[ \t]*\([ \t]*(%s)" % (_Q, _Q))
_SAMPLE = 40
_MAX_PATHS = 256  # key rows kept per set of test events


@dataclass(frozen=True)
class KeyAccess:
    """An ``event[...`` being typed: the variable, the keys before, the key typed so far and where it starts."""

    name: str
    path: Tuple[Segment, ...]
    typed: str
    start: int


def open_access(prefix: str) -> Optional[KeyAccess]:
    """The key access the cursor is in when ``prefix`` (the line up to it) ends inside ``x["...``."""
    if "[" not in prefix and "get" not in prefix:
        return None
    match = _OPEN_RE.search(prefix)
    if not match:
        return None
    before = prefix[: match.start(3)]
    if code_scan(before)[1]:  # the opening quote itself is inside a string or comment
        return None
    return KeyAccess(match.group(1), _segments(match.group(2)), match.group(4), match.end(3))


def _segments(text: str) -> Tuple[Segment, ...]:
    found: List[Segment] = []
    for part in _PART_RE.finditer(text):
        quoted = part.group(1) or part.group(3)
        found.append(_unquote(quoted) if quoted else int(part.group(2)))
    return tuple(found)


def _unquote(quoted: str) -> str:
    try:
        value = ast.literal_eval(quoted)
    except (ValueError, SyntaxError):
        return quoted[1:-1]
    return value if isinstance(value, str) else quoted[1:-1]


def event_parameter(
    index: ScopeIndex, roles: Roles, name: str, line: int
) -> Optional[Tuple[FunctionHeader, str]]:
    """The handler whose first parameter is ``name`` on ``line``, and its annotation ("" when none)."""
    for header in index.enclosing(line):
        positional = header.positional
        if not positional or positional[0].name != name:
            continue
        if is_handler_like(header) or (header.indent == 0 and header.name == roles.handler):
            return header, positional[0].annotation
        return None
    return None


# -- completion ------------------------------------------------------------------------------------


def key_items(
    lines: Sequence[str], line: int, col: int, roles: Roles, index: ScopeIndex, events: FunctionEvents
) -> Optional[List[CompletionData]]:
    """Keys to complete when the cursor is in ``event["...``; None when it is not."""
    access = open_access(lines[line][:col] if line < len(lines) else "")
    if access is None:
        return None
    found = event_parameter(index, roles, access.name, line)
    if found is None:
        return None
    type_name = event_types.annotation_type(found[1]) if found[1] else None
    if type_name:
        return typed_key_items(type_name, access)
    return _items(events.key_rows(access.path), access)


def hover_key(
    lines: Sequence[str], line: int, col: int, roles: Roles, index: ScopeIndex, events: FunctionEvents
) -> Optional[Tuple[str, Span]]:
    """Hover on a key of ``event[...]``: its value in the test event(s), or its type when annotated."""
    text = lines[line] if line < len(lines) else ""
    found = access_at(text, col)
    if found is None:
        return None
    name, path, (start, end) = found
    parameter = event_parameter(index, roles, name, line)
    if parameter is None:
        return None
    type_name = (event_types.annotation_type(parameter[1]) if parameter[1] else None) or ""
    markdown = hover_markdown(events.for_keys(), events.selected, path, type_name)
    return (markdown, Span(line, start, line, end)) if markdown else None


def typed_key_items(type_name: str, access: KeyAccess) -> List[CompletionData]:
    """Keys of the trigger type at the access's path."""
    keys = event_types.keys_at(type_name, access.path)
    if not keys:
        return []
    return [
        _key_item(key.name, key.type_text, key.doc or "`%s`" % key.type_text, position, access)
        for position, key in enumerate(keys)
    ]


def file_key_items(files: Sequence[EventFile], access: KeyAccess) -> List[CompletionData]:
    """Keys found at the access's path in the test events (their union, in first-seen order)."""
    return _items(key_rows(files, access.path), access)


def key_rows(files: Sequence[EventFile], path: Sequence[Segment]) -> Tuple[KeyRow, ...]:
    """``(key, detail, documentation)`` of the keys at ``path`` in the test events, first-seen order."""
    seen: Dict[str, Tuple[Any, List[str]]] = {}
    for label, event in files:
        value = walk(event, path)
        if not isinstance(value, dict):
            continue
        for key, item in value.items():
            if isinstance(key, str):
                seen.setdefault(key, (item, []))[1].append(label)
    rows = []
    for key, (value, labels) in seen.items():
        detail = "%s — %s" % (json_type(value), short(value))
        doc = "```json\n%s\n```\n\nIn %s" % (preview(value), ", ".join("`%s`" % lb for lb in labels))
        rows.append((key, detail, doc))
    return tuple(rows)


def _items(rows: Sequence[KeyRow], access: KeyAccess) -> List[CompletionData]:
    return [_key_item(key, detail, doc, position, access) for position, (key, detail, doc) in enumerate(rows)]


def _key_item(key: str, detail: str, doc: str, position: int, access: KeyAccess) -> CompletionData:
    return CompletionData(
        label=key,
        kind="field",
        detail=detail,
        documentation=doc,
        insert_text=key.replace("\\", "\\\\"),
        is_snippet=False,
        sort_text="%04d" % position,
        filter_text=key,
        replace_start=access.start,
    )


def walk(value: Any, path: Sequence[Segment]) -> Any:
    """The value at ``path`` in a parsed event (None when the path leaves it)."""
    for segment in path:
        if isinstance(segment, int):
            value = (
                value[segment] if isinstance(value, list) and -len(value) <= segment < len(value) else None
            )
        elif isinstance(value, dict):
            value = value.get(segment)
        else:
            return None
    return value


def json_type(value: Any) -> str:
    """The JSON type of a value, as Python names it."""
    if value is None:
        return "None"
    return {dict: "dict", list: "list", str: "str", bool: "bool", int: "int", float: "float"}.get(
        type(value), type(value).__name__
    )


def short(value: Any) -> str:
    """A one-line sample of a value (at most ~40 characters)."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _SAMPLE else text[: _SAMPLE - 1] + "…"


def preview(value: Any, limit: int = 1200) -> str:
    """The value as indented JSON, cut at ``limit`` characters."""
    text = json.dumps(value, ensure_ascii=False, indent=2)
    return text if len(text) <= limit else text[:limit] + "\n…"


# -- hover -----------------------------------------------------------------------------------------


def access_at(text: str, col: int) -> Optional[Tuple[str, Tuple[Segment, ...], Tuple[int, int]]]:
    """The access chain whose key (a string literal) holds column ``col``: name, path to that key, its span."""
    for match in _CHAIN_RE.finditer(text):
        if not match.start() <= col <= match.end():
            continue
        base = match.start(2)
        path: List[Segment] = []
        for part in _PART_RE.finditer(match.group(2)):
            quoted = part.group(1) or part.group(3)
            path.append(_unquote(quoted) if quoted else int(part.group(2)))
            group = 1 if part.group(1) else 3 if part.group(3) else 2
            start, end = base + part.start(group), base + part.end(group)
            if start <= col <= end:
                return match.group(1), tuple(path), (start, end)
    return None


def hover_markdown(
    files: Sequence[EventFile], selected: Optional[str], path: Sequence[Segment], type_name: str
) -> Optional[str]:
    """What the hover shows for ``event<path>``: the type's key, else the value in the test event(s)."""
    if type_name:
        tp = event_types.resolve(type_name, path)
        if tp is None:
            return None
        return "```python\n%s%s: %s\n```" % (type_name, _path_text(path), event_types.type_text(tp))
    shown = []
    for label, event in files:
        value = walk(event, path)
        if value is None and not _has(event, path):
            continue
        note = " (selected)" if selected is not None and label == selected else ""
        shown.append("`%s`%s: %s\n```json\n%s\n```" % (label, note, json_type(value), preview(value, 600)))
        if len(shown) == 3:
            break
    return "\n\n".join(shown) or None


def _has(event: Any, path: Sequence[Segment]) -> bool:
    parent = walk(event, path[:-1])
    return isinstance(parent, dict) and path[-1] in parent if path else True


def _path_text(path: Sequence[Segment]) -> str:
    return "".join("[%s]" % (json.dumps(p) if isinstance(p, str) else p) for p in path)


# -- diagnostics -----------------------------------------------------------------------------------


def check_event_keys(
    functions: Sequence[ast.FunctionDef | ast.AsyncFunctionDef], lines: Sequence[str], roles: Roles
) -> List[Finding]:
    """Unknown keys of an ``event`` annotated with a trigger type (a warning, with "did you mean")."""
    findings: List[Finding] = []
    for node in functions:
        positional = list(node.args.posonlyargs) + list(node.args.args)
        if not positional or positional[0].annotation is None or node.col_offset != 0:
            continue
        type_name = event_types.annotation_type(ast.unparse(positional[0].annotation))
        if type_name is None:
            continue
        name = positional[0].arg
        for child in ast.walk(node):
            chain = _chain_of(child, name)
            if chain is None:
                continue
            path, key_node = chain
            parent = path[:-1]
            key = path[-1]
            if not isinstance(key, str) or not event_types.has_fixed_keys(type_name, parent):
                continue
            known = event_types.keys_at(type_name, tuple(parent)) or ()
            names = [k.name for k in known]
            if key in names:
                continue
            findings.append(_unknown_key(lines, key_node, type_name, parent, key, names))
    return findings


def _chain_of(node: ast.AST, name: str) -> Optional[Tuple[List[Segment], ast.AST]]:
    """``(path, key node)`` when ``node`` is the outermost step of ``name[...]...`` with constant keys."""
    steps: List[Tuple[Segment, ast.AST]] = []
    current = node
    while True:
        if isinstance(current, ast.Subscript):
            key = current.slice
            if (
                isinstance(key, ast.Constant)
                and isinstance(key.value, (str, int))
                and not isinstance(key.value, bool)
            ):
                steps.append((key.value, key))
                current = current.value
                continue
            return None
        if (
            isinstance(current, ast.Call)
            and isinstance(current.func, ast.Attribute)
            and current.func.attr == "get"
            and current.args
            and isinstance(current.args[0], ast.Constant)
            and isinstance(current.args[0].value, str)
        ):
            steps.append((current.args[0].value, current.args[0]))
            current = current.func.value
            continue
        break
    if not steps or not (isinstance(current, ast.Name) and current.id == name):
        return None
    steps.reverse()
    return [s for s, _ in steps], steps[-1][1]


def _unknown_key(
    lines: Sequence[str],
    key_node: ast.AST,
    type_name: str,
    parent: Sequence[Segment],
    key: str,
    names: List[str],
) -> Finding:
    span = node_span(lines, key_node)
    close = sdk.close_matches(key, names)
    hint = " Did you mean %s?" % " or ".join("'%s'" % c for c in close) if close else ""
    owner = type_name + _path_text(parent)
    inner = Span(span.line, span.col + 1, span.end_line, max(span.end_col - 1, span.col + 1))
    fixes = tuple(Fix("Change to '%s'" % c, (Edit(inner, c),), i == 0) for i, c in enumerate(close))
    message = "%s has no key '%s'.%s" % (owner, key, hint)
    return Finding(span, WARNING, "unknown-event-key", message, fixes)
