"""Pitfalls of the configured runtime: Python 3 syntax under 2.7, coding declarations, reload(sys), os.system."""

from __future__ import annotations

import ast
from typing import List, Sequence, Set, Tuple

from fglocal.py2source import undeclared_non_ascii
from server.analysis.model import ERROR, WARNING, Edit, Finding, Fix, Span
from server.analysis.parsing import node_span
from server.analysis.tree_index import TreeIndex

CODING_LINE = "# -*- coding: utf-8 -*-"


def check_coding_declaration(lines: Sequence[str], runtime: Tuple[int, int]) -> List[Finding]:
    """Under python2.7, non-ASCII source Python 2 refuses (the rule of fglocal.py2source, shared with run/package)."""
    if runtime[0] != 2:
        return []
    found = undeclared_non_ascii("\n".join(lines).encode("utf-8", "surrogatepass"))
    if found is None:
        return []
    number = found[1] - 1
    line = lines[number]
    col = next(i for i, char in enumerate(line) if ord(char) > 127)
    insert_at = 1 if lines and lines[0].startswith("#!") and number > 0 else 0
    fix = Fix(
        "Add '%s'" % CODING_LINE,
        (Edit(Span.point(insert_at, 0), CODING_LINE + "\n"),),
        True,
    )
    return [
        Finding(
            Span(number, col, number, col + 1),
            ERROR,
            "missing-coding",
            "Non-ASCII character without a coding declaration: Python 2.7 refuses to load this "
            "module (SyntaxError: Non-ASCII character). Add '%s' as the first line." % CODING_LINE,
            (fix,),
        )
    ]


def check_tree(tree: TreeIndex, lines: Sequence[str], runtime: Tuple[int, int]) -> List[Finding]:
    """``reload(sys)`` under 2.7, background ``os.system`` commands, Python 3 syntax under 2.7."""
    findings: List[Finding] = []
    system_names = _os_system_names(tree)
    python2 = runtime[0] == 2
    for node in tree.calls:
        if python2 and _is_reload_sys(node):
            findings.append(
                Finding(
                    node_span(lines, node),
                    WARNING,
                    "reload-sys",
                    "reload(sys) under python2.7 resets sys.stdout: print output no longer reaches the "
                    "function's log. Remove it (and sys.setdefaultencoding); decode/encode text "
                    "explicitly instead.",
                )
            )
        elif _is_background_system(node, system_names):
            findings.append(
                Finding(
                    node_span(lines, node),
                    WARNING,
                    "background-command",
                    "os.system with a background command ('&'): its output is not collected in the "
                    "function's log and it may be killed when the invocation ends. Run it with "
                    "subprocess.run(..., capture_output=True) and wait for it.",
                )
            )
    if python2:
        for candidate in tree.python3_only:
            findings.extend(_python3_only(candidate, lines))
    return findings


def _is_reload_sys(call: ast.Call) -> bool:
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    return (
        name == "reload"
        and len(call.args) == 1
        and isinstance(call.args[0], ast.Name)
        and call.args[0].id == "sys"
    )


def _os_system_names(tree: TreeIndex) -> Set[str]:
    names: Set[str] = set()
    for node in tree.imports:
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            names.update(alias.asname or alias.name for alias in node.names if alias.name == "system")
    return names


def _is_background_system(call: ast.Call, system_names: set) -> bool:
    func = call.func
    is_system = (
        isinstance(func, ast.Attribute)
        and func.attr == "system"
        and isinstance(func.value, ast.Name)
        and func.value.id == "os"
    ) or (isinstance(func, ast.Name) and func.id in system_names)
    if not is_system or not call.args:
        return False
    text = _literal_tail(call.args[0]).rstrip()
    return text.endswith("&") and not text.endswith("&&")


def _literal_tail(node: ast.AST) -> str:
    """The literal text at the end of a string expression (plain, f-string, concatenation)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        return _literal_tail(node.values[-1])
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return _literal_tail(node.right if isinstance(node.op, ast.Add) else node.left)
    return ""


def _python3_only(node: ast.AST, lines: Sequence[str]) -> List[Finding]:
    what = ""
    target: ast.AST = node
    if isinstance(node, ast.JoinedStr):
        what = "f-strings"
    elif isinstance(node, ast.AnnAssign):
        what = "variable annotations"
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
        what, target = "return annotations", node.returns
    elif isinstance(node, ast.arg) and node.annotation is not None:
        what = "parameter annotations"
    elif isinstance(node, ast.Nonlocal):
        what = "nonlocal"
    elif isinstance(node, ast.YieldFrom):
        what = "yield from"
    elif isinstance(node, (ast.AsyncFunctionDef, ast.Await, ast.AsyncFor, ast.AsyncWith)):
        what = "async/await"
    elif isinstance(node, ast.NamedExpr):
        what = "assignment expressions (:=)"
    elif isinstance(node, ast.Raise) and node.cause is not None:
        what, target = "raise ... from ...", node.cause
    elif isinstance(node, ast.arguments) and node.kwonlyargs:
        what, target = "keyword-only parameters", node.kwonlyargs[0]
    elif isinstance(node, ast.Starred) and isinstance(node.ctx, ast.Store):
        what = "starred assignment targets"
    if not what:
        return []
    span = node_span(lines, target)
    if span.end_line != span.line:
        span = Span(span.line, span.col, span.line, len(lines[span.line]))
    return [
        Finding(
            span,
            ERROR,
            "runtime-syntax",
            "%s: Python 3 only, but the configured runtime is python2.7. Rewrite it for Python 2, or "
            "choose a python3 runtime." % (what[:1].upper() + what[1:]),
        )
    ]
