"""Which names hold the FunctionGraph Context or its logger, read from text that may not parse.

The rules (documented in server/README.md):
- the configured handler's second parameter and the configured initializer's parameter;
- the second parameter of any two-parameter function whose first parameter is called ``event``;
- any parameter or variable annotated ``Context`` (or ``Logger`` for loggers);
- a variable assigned from one of those, or from ``<context>.getLogger()`` (a logger);
- module-level variables assigned so inside a function that declares them ``global``.

The scan works line by line on function headers and simple assignments, so it keeps working while
the user is half-way through typing a line (``context.`` is a syntax error).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Set, Tuple

from server.analysis import sdk
from server.analysis.model import CONTEXT, LOGGER, NO_ROLES, Roles
from server.analysis.text import code_scan, indentation, is_code_line

__all__ = ["CONTEXT", "LOGGER", "ScopeIndex", "value_before"]
EVENT_NAMES = frozenset({"event", "evt", "_event"})

_DEF_RE = re.compile(r"^[ \t]*(async[ \t]+)?def[ \t]+([A-Za-z_][A-Za-z0-9_]*)")
_ASSIGN_RE = re.compile(
    r"^[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*(?::[ \t]*([^=]+?))?[ \t]*(?:=[ \t]*([^=].*?))?[ \t]*(?:#.*)?$"
)
_GLOBAL_RE = re.compile(r"^[ \t]*global[ \t]+([A-Za-z_][A-Za-z0-9_, \t]*)")
# An expression ending in `.` or `.member` whose value the server may know: a name, then calls of
# methods without arguments (`context.getLogger()`), then the member typed so far.
_CHAIN = r"([A-Za-z_][A-Za-z0-9_]*)((?:[ \t]*\.[ \t]*[A-Za-z_][A-Za-z0-9_]*[ \t]*\([ \t]*\))*)"
_BEFORE_MEMBER_RE = re.compile(r"(?<![\w.])" + _CHAIN + r"[ \t]*\.[ \t]*([A-Za-z_][A-Za-z0-9_]*)?$")
_VALUE_RE = re.compile("^" + _CHAIN + "$")
_CALLED_RE = re.compile(r"\.[ \t]*([A-Za-z_][A-Za-z0-9_]*)")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Param:
    """One parameter of a function header."""

    name: str
    annotation: str
    has_default: bool
    kind: str  # "positional", "varargs", "keyword", "varkw"


@dataclass
class FunctionHeader:
    """A ``def`` found in the text, with its parameters."""

    name: str
    line: int
    name_col: int
    indent: int
    is_async: bool
    params: List[Param]
    body_line: int  # first line after the header
    end_line: int = -1  # exclusive; -1 until computed

    @property
    def positional(self) -> List[Param]:
        """The parameters a positional call fills."""
        return [p for p in self.params if p.kind == "positional"]


@dataclass
class _Bindings:
    kinds: Dict[str, str] = field(default_factory=dict)
    globals_: Dict[str, str] = field(default_factory=dict)


def annotation_kind(annotation: str) -> Optional[str]:
    """``CONTEXT`` for a Context annotation, ``LOGGER`` for a Logger one, else None."""
    text = annotation.strip().strip("'\"")
    last = text.rsplit(".", 1)[-1]
    if last == "Context":
        return CONTEXT
    if last == "Logger" and "logging" not in text:
        return LOGGER
    return None


def parse_header(lines: Sequence[str], line: int) -> Optional[FunctionHeader]:
    """The function header that starts on ``line``, or None when that line starts no ``def``."""
    match = _DEF_RE.match(lines[line])
    if not match:
        return None
    name = match.group(2)
    name_col = match.start(2)
    is_async = bool(match.group(1))
    depth = 0
    end = line
    chunks = []
    for end in range(line, min(len(lines), line + 40)):
        text = lines[end]
        chunks.append(text)
        depth += _paren_delta(text)
        if depth <= 0 and text.split("#", 1)[0].rstrip().endswith(":"):
            break
    header = "\n".join(chunks).strip()
    params = _params_from_ast(header) if header.endswith(":") else None
    if params is None:
        params = _params_from_text(header)
    return FunctionHeader(name, line, name_col, indentation(lines[line]), is_async, params, end + 1)


def header_from_node(lines: Sequence[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> FunctionHeader:
    """A :class:`FunctionHeader` for a parsed function (its range from the tree)."""
    line = node.lineno - 1
    text = lines[line] if line < len(lines) else ""
    match = _DEF_RE.match(text)
    name_col = match.start(2) if match else node.col_offset
    first_body = node.body[0].lineno - 1 if node.body else line + 1
    params = _params_of(node.args)
    end = node.end_lineno or node.lineno
    header = FunctionHeader(
        node.name,
        line,
        name_col,
        indentation(text),
        isinstance(node, ast.AsyncFunctionDef),
        params,
        max(first_body, line),
    )
    header.end_line = end
    return header


def _paren_delta(text: str) -> int:
    depth = 0
    quote = ""
    for char in text:
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#":
            break
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
    return depth


def _params_from_ast(header: str) -> Optional[List[Param]]:
    source = header.replace("async ", "", 1) if header.startswith("async ") else header
    try:
        tree = ast.parse(source + "\n pass")
    except (SyntaxError, ValueError):
        return None
    node = tree.body[0] if tree.body else None
    if not isinstance(node, ast.FunctionDef):
        return None
    return _params_of(node.args)


def _params_of(args: ast.arguments) -> List[Param]:
    positional = list(args.posonlyargs) + list(args.args)
    defaults_from = len(positional) - len(args.defaults)
    params = [
        Param(a.arg, _unparse(a.annotation), i >= defaults_from, "positional")
        for i, a in enumerate(positional)
    ]
    if args.vararg:
        params.append(Param(args.vararg.arg, _unparse(args.vararg.annotation), True, "varargs"))
    for a, default in zip(args.kwonlyargs, args.kw_defaults):
        params.append(Param(a.arg, _unparse(a.annotation), default is not None, "keyword"))
    if args.kwarg:
        params.append(Param(args.kwarg.arg, _unparse(args.kwarg.annotation), True, "varkw"))
    return params


def _unparse(node: Optional[ast.AST]) -> str:
    return ast.unparse(node) if node is not None else ""


def _params_from_text(header: str) -> List[Param]:
    """Best effort for a header still being typed: split what is inside the first parenthesis."""
    start = header.find("(")
    if start < 0:
        return []
    inner = header[start + 1 :]
    depth = 0
    for i, char in enumerate(inner):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                inner = inner[:i]
                break
            depth -= 1
    params = []
    keyword_only = False
    for part in inner.split(","):
        part = part.strip()
        if not part:
            continue
        if part == "*":
            keyword_only = True
            continue
        name, _, rest = part.partition(":")
        annotation, has_default = rest, "=" in part
        if "=" in name:
            name = name.split("=", 1)[0]
        annotation = annotation.split("=", 1)[0]
        name = name.strip()
        kind = "keyword" if keyword_only else "positional"
        if name.startswith("**"):
            name, kind = name[2:], "varkw"
        elif name.startswith("*"):
            name, kind, keyword_only = name[1:], "varargs", True
        if _NAME_RE.match(name):
            params.append(Param(name, annotation.strip(), has_default or kind in ("varargs", "varkw"), kind))
    return params


def handler_shaped(name: str, positional: Sequence[str]) -> bool:
    """Whether a function has the handler shape: two positional parameters, and an event-like first name.

    The first parameter named like an event (``event``, ``evt``) or the function named like a handler
    (``handler``, ``main_handler``).
    """
    if len(positional) != 2:
        return False
    return positional[0] in EVENT_NAMES or name.lower().endswith("handler")


def is_handler_like(header: FunctionHeader) -> bool:
    """Whether the header has the handler shape (see :func:`handler_shaped`)."""
    return handler_shaped(header.name, [p.name for p in header.positional])


def context_params(header: FunctionHeader, roles: Roles) -> Dict[str, str]:
    """The parameters of ``header`` that hold the Context or a logger, by name."""
    found: Dict[str, str] = {}
    positional = header.positional
    top_level = header.indent == 0
    if top_level and header.name == roles.handler and len(positional) >= 2:
        found[positional[1].name] = CONTEXT
    if top_level and header.name == roles.initializer and positional:
        found[positional[0].name] = CONTEXT
    if is_handler_like(header):
        found[positional[1].name] = CONTEXT
    for param in header.params:
        kind = annotation_kind(param.annotation) if param.annotation else None
        if kind:
            found[param.name] = kind
    return found


class ScopeIndex:
    """Function headers and Context/logger bindings of one text, computed lazily and cached."""

    def __init__(self, lines: Sequence[str], roles: Roles = NO_ROLES) -> None:
        self.lines = lines
        self.roles = roles
        self._headers: Dict[int, Optional[FunctionHeader]] = {}
        self._bindings: Dict[int, _Bindings] = {}
        self._module: Optional[Dict[str, str]] = None
        self._chains: Optional[List[Tuple[FunctionHeader, ...]]] = None
        self._module_hint: Optional[bool] = None

    @classmethod
    def from_tree(
        cls, lines: Sequence[str], roles: Roles, functions: Sequence[ast.FunctionDef | ast.AsyncFunctionDef]
    ) -> ScopeIndex:
        """An index whose function headers and ranges come from a parsed tree (no re-parsing, no scans)."""
        index = cls(lines, roles)
        chains: List[Tuple[FunctionHeader, ...]] = [()] * len(lines)
        for node in sorted(functions, key=lambda n: (n.lineno, n.col_offset)):
            header = header_from_node(lines, node)
            index._headers[header.line] = header
            for number in range(header.line, min(header.end_line, len(lines))):
                chains[number] = (*chains[number], header)
        index._chains = chains
        return index

    def header(self, line: int) -> Optional[FunctionHeader]:
        """The function header starting on ``line`` (cached)."""
        if line not in self._headers:
            self._headers[line] = parse_header(self.lines, line)
        return self._headers[line]

    def enclosing(self, line: int) -> List[FunctionHeader]:
        """The functions enclosing ``line``, innermost first (by indentation, scanning upwards)."""
        lines = self.lines
        if not 0 <= line < len(lines):
            return []
        if self._chains is not None:
            return list(reversed(self._chains[line]))
        text = lines[line]
        limit = indentation(text) if is_code_line(text) else self._indent_of_blank(line)
        found = []
        for number in range(line, -1, -1):
            candidate = lines[number]
            if number != line and not is_code_line(candidate):
                continue
            width = indentation(candidate)
            if number != line and width >= limit:
                continue
            if number != line:
                limit = width
            header = self.header(number) if "def" in candidate else None
            if header is not None and (number != line or header.body_line <= line):
                found.append(header)
            if limit == 0:
                break
        return found

    def _indent_of_blank(self, line: int) -> int:
        # A blank line belongs to the block of the code line before it, and to any deeper block.
        for number in range(line - 1, -1, -1):
            if is_code_line(self.lines[number]):
                width = indentation(self.lines[number])
                return width + 1
        return 0

    def function_end(self, header: FunctionHeader) -> int:
        """The line after the last line of ``header``'s body."""
        if header.end_line < 0:
            end = header.body_line
            for number in range(header.body_line, len(self.lines)):
                text = self.lines[number]
                if is_code_line(text) and indentation(text) <= header.indent:
                    break
                end = number + 1
            header.end_line = end
        return header.end_line

    def bindings(self, header: FunctionHeader) -> Dict[str, str]:
        """Names bound to the Context or a logger inside ``header``'s own body (and its parameters)."""
        return self._scan(header).kinds

    def _scan(self, header: FunctionHeader) -> _Bindings:
        cached = self._bindings.get(header.line)
        if cached is not None:
            return cached
        result = _Bindings(dict(context_params(header, self.roles)))
        outer = self._outer_kinds(header)
        declared_global: Set[str] = set()
        end = self.function_end(header)
        for number in range(header.body_line, end):
            text = self.lines[number]
            if "=" not in text and ":" not in text and "global" not in text:
                continue
            glob = _GLOBAL_RE.match(text)
            if glob:
                declared_global.update(n.strip() for n in glob.group(1).split(",") if n.strip())
                continue
            found = classify_assignment(text, {**outer, **result.kinds})
            if found:
                name, kind = found
                if name in declared_global:
                    result.globals_[name] = kind
                else:
                    result.kinds[name] = kind
        self._bindings[header.line] = result
        return result

    def _outer_kinds(self, header: FunctionHeader) -> Dict[str, str]:
        kinds: Dict[str, str] = {}
        if header.indent == 0:
            return kinds
        for outer in reversed(self.enclosing(header.line - 1) if header.line else []):
            if outer.indent < header.indent:
                kinds.update(self.bindings(outer))
        return kinds

    def module_kinds(self) -> Dict[str, str]:
        """Module-level Context/logger names: annotated at top level or assigned via ``global``."""
        if self._module is None:
            module: Dict[str, str] = {}
            for number, text in enumerate(self.lines):
                if not text or text[0] in " \t#":
                    if "global" in text and _GLOBAL_RE.match(text):
                        for header in self.enclosing(number):
                            module.update(self._scan(header).globals_)
                    continue
                found = classify_assignment(text, module)
                if found:
                    module[found[0]] = found[1]
            self._module = module
        return self._module

    def kinds_at(self, line: int) -> Dict[str, str]:
        """All Context/logger names visible on ``line``: enclosing functions' first, then the module's."""
        kinds = dict(self.module_kinds()) if self._may_have_module_names() else {}
        for header in reversed(self.enclosing(line)):
            kinds.update(self.bindings(header))
        return kinds

    def _may_have_module_names(self) -> bool:
        if self._module is not None:
            return bool(self._module)
        if self._module_hint is None:
            self._module_hint = any(("global" in t or "Context" in t or "Logger" in t) for t in self.lines)
        return self._module_hint

    def kind_of(self, name: str, line: int) -> Optional[str]:
        """``CONTEXT``, ``LOGGER`` or None for ``name`` as seen on ``line``."""
        for header in self.enclosing(line):
            kind = self.bindings(header).get(name)
            if kind:
                return kind
        if self._may_have_module_names():
            return self.module_kinds().get(name)
        return None


def classify_assignment(text: str, known: Dict[str, str]) -> Optional[Tuple[str, str]]:
    """``(name, kind)`` when the line binds a name to the Context or a logger, given known names."""
    match = _ASSIGN_RE.match(text)
    if not match:
        return None
    name, annotation, value = match.group(1), match.group(2), match.group(3)
    if name in ("return", "yield", "global", "del", "pass", "import"):
        return None
    if annotation:
        kind = annotation_kind(annotation)
        if kind:
            return name, kind
    if not value:
        return None
    value = value.strip()
    if value in known:
        return name, known[value]
    chain = _VALUE_RE.match(value)
    kind = chain_kind(known.get(chain.group(1)), chain.group(2)) if chain and chain.group(2) else None
    return (name, kind) if kind else None


def chain_kind(kind: Optional[str], calls: str) -> Optional[str]:
    """The kind of ``<a kind value><calls>``, e.g. ``.getLogger()`` on the Context gives ``LOGGER``."""
    for method in _CALLED_RE.findall(calls):
        kind = sdk.returned_kind(kind, method)
    return kind


def value_before(text: str, line: int, index: ScopeIndex) -> Optional[Tuple[str, str, int]]:
    """What precedes a member being typed or pointed at: ``(kind, member so far, member start)``.

    ``text`` is the line up to the cursor (or up to the end of the member); the value is a name the
    :class:`ScopeIndex` knows on ``line``, then calls the catalog types (``context.getLogger().``).
    None when the text does not end so, or the value is not the Context or a logger.
    """
    if "." not in text or code_scan(text)[1]:
        return None
    match = _BEFORE_MEMBER_RE.search(text)
    if not match:
        return None
    kind = chain_kind(index.kind_of(match.group(1), line), match.group(2))
    if kind is None:
        return None
    member = match.group(3) or ""
    return kind, member, len(text) - len(member)
