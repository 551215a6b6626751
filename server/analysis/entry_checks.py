"""Checks that the configured handler and initializer exist and have the right shape."""

from __future__ import annotations

import ast
import json
import re
from typing import Iterator, List, Optional, Sequence, Tuple

from fglocal.contract import entry_files
from server.analysis.model import ERROR, Edit, Finding, Fix, Span
from server.analysis.parsing import node_span

HANDLER = "handler"
INITIALIZER = "initializer"
_EXPECTED = {HANDLER: ("event", "context"), INITIALIZER: ("context",)}


def module_level_statements(tree: ast.Module) -> Iterator[ast.stmt]:
    """Top-level statements, including those inside top-level if/try/with blocks."""
    stack: List[ast.stmt] = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        yield node
        children: List[ast.stmt] = []
        if isinstance(node, (ast.If, ast.With)):
            children = list(node.body) + list(getattr(node, "orelse", []))
        elif isinstance(node, ast.Try):
            children = list(node.body) + list(node.orelse) + list(node.finalbody)
            children += [statement for handler in node.handlers for statement in handler.body]
        stack.extend(reversed(children))


def find_definition(tree: ast.Module, name: str) -> Tuple[Optional[ast.AST], bool]:
    """The top-level statement defining ``name`` and whether something else binds it (import, assignment)."""
    bound_otherwise = False
    for node in module_level_statements(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return node, False
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                if isinstance(node.value, ast.Lambda):
                    return node, False
                bound_otherwise = True
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if any((a.asname or a.name.split(".")[0]) == name for a in node.names):
                bound_otherwise = True
    return None, bound_otherwise


def check_entry_function(
    tree: ast.Module, lines: Sequence[str], role: str, name: str, entry: str, module_file: str
) -> List[Finding]:
    """Findings for the ``role`` function ``name`` of this module (named by ``entry`` in the config)."""
    code = "%s-signature" % role
    node, bound_otherwise = find_definition(tree, name)
    expected = "(%s)" % ", ".join(_EXPECTED[role])
    if node is None:
        if bound_otherwise:
            return []
        first = Span(0, 0, 0, len(lines[0]) if lines else 0)
        stub = "\n\ndef %s%s:\n    pass\n" % (name, expected)
        end = len(lines) - 1
        fix = Fix("Add function '%s%s'" % (name, expected), (Edit(Span.point(end, len(lines[end])), stub),))
        return [
            Finding(
                first,
                ERROR,
                "entry-not-found",
                "The %s entry '%s' names function '%s', which %s does not define. Define "
                "`def %s%s:` here, or change '%s' in fglocal.json."
                % (role, entry, name, module_file, name, expected, role),
                (fix,),
            )
        ]
    if isinstance(node, ast.ClassDef):
        return [
            _finding(
                lines,
                node,
                code,
                "'%s' is a class; the %s must be a function %s%s." % (name, role, name, expected),
            )
        ]
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        span = node_span(lines, node.targets[0] if isinstance(node, ast.Assign) else node.target)
        message = (
            "'%s' is a lambda; define the %s with `def %s%s:` so that the runtime and tracebacks name it."
            % (
                name,
                role,
                name,
                expected,
            )
        )
        return [Finding(span, ERROR, code, message)]
    if isinstance(node, ast.AsyncFunctionDef):
        return [
            _finding(
                lines,
                node,
                code,
                "The %s '%s' is `async def`: FunctionGraph calls it without awaiting, so it would return a "
                "coroutine. Make it a plain def and run async code inside with asyncio.run(...)."
                % (role, name),
            )
        ]
    assert isinstance(node, ast.FunctionDef)
    problem = _signature_problem(node.args, len(_EXPECTED[role]))
    if not problem:
        return []
    signature_fix = _signature_fix(lines, node, role)
    message = "The %s '%s' %s; FunctionGraph calls it as %s%s." % (role, name, problem, name, expected)
    return [_finding(lines, node, code, message, signature_fix)]


def _signature_problem(args: ast.arguments, count: int) -> str:
    positional = list(args.posonlyargs) + list(args.args)
    required = len(positional) - len(args.defaults)
    required_keyword = [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None]
    plural = "parameter" if count == 1 else "parameters"
    if required > count:
        return "has %d required parameters, but it gets %d" % (required, count)
    if len(positional) < count and args.vararg is None:
        have = len(positional)
        return "takes %s, but it gets %d %s" % (
            "no parameters" if not have else "only %d" % have,
            count,
            plural,
        )
    if required_keyword:
        return (
            "has a required keyword-only parameter '%s' that the runtime never passes" % required_keyword[0]
        )
    return ""


def _finding(
    lines: Sequence[str], node: ast.AST, code: str, message: str, fix: Optional[Fix] = None
) -> Finding:
    line = node.lineno - 1  # type: ignore[attr-defined]
    name = getattr(node, "name", "")
    match = re.search(r"\b%s\b" % re.escape(name), lines[line]) if name else None
    span = Span(line, match.start(), line, match.end()) if match else node_span(lines, node)
    return Finding(span, ERROR, code, message, (fix,) if fix else ())


def _signature_fix(lines: Sequence[str], node: ast.FunctionDef, role: str) -> Optional[Fix]:
    span = parameters_span(lines, node.lineno - 1, node.name)
    if span is None:
        return None
    names = [a.arg for a in list(node.args.posonlyargs) + list(node.args.args)]
    wanted = list(_EXPECTED[role])
    keep = names[: len(wanted)]
    params = keep + wanted[len(keep) :]
    text = ", ".join(params)
    return Fix("Change the signature to (%s)" % text, (Edit(span, text),), True)


def parameters_span(lines: Sequence[str], line: int, name: str) -> Optional[Span]:
    """The text between a def's parentheses (exclusive), which may span lines."""
    match = re.search(r"\bdef\s+%s\s*\(" % re.escape(name), lines[line])
    if not match:
        return None
    depth = 1
    number, col = line, match.end()
    while number < len(lines) and number < line + 50:
        text = lines[number]
        while col < len(text):
            char = text[col]
            if char in "([{":
                depth += 1
            elif char in ")]}":
                depth -= 1
                if depth == 0:
                    return Span(line, match.end(), number, col)
            col += 1
        number, col = number + 1, 0
    return None


def json_value_span(text: str, key: str) -> Optional[Span]:
    """The span of the string value of top-level ``key`` in a JSON text (for fglocal.json findings)."""
    match = re.search(r'"%s"\s*:\s*("(?:[^"\\]|\\.)*"|null|[-\w.]+)' % re.escape(key), text)
    if not match:
        return None
    start, end = match.span(1)
    return _offset_span(text, start, end)


def json_key_span(text: str, key: str) -> Optional[Span]:
    """The span of ``"key"`` in a JSON text."""
    index = text.find(json.dumps(key))
    return _offset_span(text, index, index + len(key) + 2) if index >= 0 else None


def _offset_span(text: str, start: int, end: int) -> Span:
    line = text.count("\n", 0, start)
    col = start - (text.rfind("\n", 0, start) + 1)
    end_line = text.count("\n", 0, end)
    end_col = end - (text.rfind("\n", 0, end) + 1)
    return Span(line, col, end_line, end_col)


def missing_entry_files(
    entries: Sequence[Tuple[str, str]], py_files: Sequence[str], code_root: str
) -> List[Tuple[str, str, str]]:
    """``(role, entry, message)`` for each configured entry whose module file is not in ``py_files``."""
    found = []
    files = set(py_files)
    for role, entry in entries:
        candidates = entry_files(entry)
        if candidates[0] in files or candidates[1] in files:
            continue
        message = (
            "The %s entry '%s' names %s, which does not exist in the code folder %s. Create it, or "
            "change '%s' (fglocal.json or the functiongraph settings)."
            % (role, entry, candidates[0], code_root, role)
        )
        found.append((role, entry, message))
    return found
