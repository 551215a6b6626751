"""Parse a module with ``ast`` the way the configured runtime would, tolerating broken lines.

A module that does not parse still gets its other diagnostics: each line the parser stops at is
reported, then replaced by ``pass`` (same indentation, so positions stay valid) and parsing is
retried a few times. Python 2 statements are recognised and reported as such under a Python 3
runtime; under ``python2.7`` they are valid and only skipped.
"""

from __future__ import annotations

import ast
import re
import sys
import warnings
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

from server.analysis import chunks
from server.analysis.model import ERROR, Edit, Finding, Fix, Span
from server.analysis.text import char_column

MAX_REPAIRS = 6
_PY2_MESSAGES = (
    "Missing parentheses in call to 'print'",
    "Missing parentheses in call to 'exec'",
    "multiple exception types must be parenthesized",
    "leading zeros in decimal integer literals",
    "Function parameters cannot be parenthesized",
)
_PY2_LINE_RE = re.compile(
    r"^\s*(print\s*>>|print\s+[^\s(=]|exec\s+['\"]|raise\s+[\w.]+\s*,)|`[^`]*`|<>|\b[uU][rR]['\"]|except\s+[\w.]+\s*,\s*\w+\s*:"
)
_VERSION_RE = re.compile(r"only supported in Python (\d+)\.(\d+) and greater")


@dataclass
class ParsedModule:
    """The ``ast`` tree (None when the text could not be repaired) and what parsing found."""

    tree: Optional[ast.Module]
    findings: List[Finding] = field(default_factory=list)
    repaired: bool = False


def parse_module(text: str, lines: Sequence[str], runtime: Tuple[int, int]) -> ParsedModule:
    """Parse ``text`` for ``runtime`` (e.g. (3, 9)); report syntax errors and version pitfalls."""
    result = ParsedModule(None)
    work = list(lines)
    if "\0" in text:
        for number, line in enumerate(work):
            col = line.find("\0")
            if col >= 0:
                result.findings.append(
                    Finding(
                        Span(number, col, number, col + 1),
                        ERROR,
                        "syntax-error",
                        "Null byte in source: this is not a text file Python can load. Remove the byte "
                        "or the file.",
                    )
                )
                work[number] = line.replace("\0", " ")
        result.repaired = True
    reported = False
    # Parsing with the runtime's grammar gives the tree and the version check in one go; the normal
    # grammar is only needed to locate a construct the runtime lacks (rare).
    version = runtime if runtime[0] == 3 and runtime < sys.version_info[:2] else None
    for _ in range(MAX_REPAIRS * 2):
        try:
            result.tree = _parse(work, version)
            break
        except SyntaxError as error:
            span = _error_span(work, error)
            if version is not None and _VERSION_RE.search(error.msg or ""):
                finding, repaired = _version_finding(work, error, span, runtime)
                result.findings.append(finding)
                if not repaired and not _repair(work, span):
                    break
                continue
            python2 = _is_python2_syntax(error, work, span.line)
            if python2:
                if runtime[0] >= 3:
                    result.findings.append(_python2_finding(span, runtime, lines))
            elif not reported:
                # Only the first error is certain; later ones may follow from the repair.
                reported = True
                result.findings.append(
                    Finding(span, ERROR, "syntax-error", "Syntax error: %s." % _clean(error.msg))
                )
            if not _repair(work, span):
                break
            result.repaired = True
    return result


# The errors a split in the wrong place would cause first (a multi-line string or bracket cut in two;
# a split never falls inside a line): the whole module is parsed again in one go to confirm them.
_SPLIT_SYMPTOMS = ("unterminated triple-quoted string", "was never closed")


def _parse(lines: Sequence[str], version: Optional[Tuple[int, int]]) -> ast.Module:
    """Parse run by run of top-level statements (server/analysis/chunks.py) into one module tree.

    Each run is preceded by blank lines, so its line numbers are the module's. A module too small to
    split is parsed in one call, as is a module whose error could come from the split.
    """
    text = "\n".join(lines)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # First the runs from the cheap line scan: while each parses, its start and end were real
        # statement starts (chunks.likely_starts says why), so its tree is kept. At the first run that
        # does not (a split inside a string or brackets, or a real error), the exact statement starts
        # take over from that run's start: nothing before it is parsed twice.
        body: List[ast.stmt] = []
        resume = 0
        quick = chunks.runs(text, lines, starts=chunks.likely_starts(lines))
        if len(quick) > 1:
            for start, end in quick:
                try:
                    body += _parse_run(lines, start, end, version)
                except SyntaxError:
                    resume = start
                    break
            else:
                return ast.Module(body=body, type_ignores=[])
        rest = lines[resume:]
        parts = [(resume + a, resume + b) for a, b in chunks.runs("\n".join(rest), rest)]
        if len(parts) == 1 and resume == 0:
            return _parse_text(text, version)
        try:
            body += _parse_runs(lines, parts, version).body
        except SyntaxError as error:
            if any(symptom in (error.msg or "") for symptom in _SPLIT_SYMPTOMS):
                return _parse_text(text, version)
            raise
        return ast.Module(body=body, type_ignores=[])


def _parse_runs(
    lines: Sequence[str], parts: Sequence[Tuple[int, int]], version: Optional[Tuple[int, int]]
) -> ast.Module:
    """One module tree from parsing each ``(start, end)`` run of lines on its own (blank lines before it)."""
    body: List[ast.stmt] = []
    for start, end in parts:
        body += _parse_run(lines, start, end, version)
    return ast.Module(body=body, type_ignores=[])


def _parse_run(
    lines: Sequence[str], start: int, end: int, version: Optional[Tuple[int, int]]
) -> List[ast.stmt]:
    """The statements of ``lines[start:end]``, parsed on their own with the module's line numbers."""
    return _parse_text("\n" * start + "\n".join(lines[start:end]), version).body


def _parse_text(text: str, version: Optional[Tuple[int, int]]) -> ast.Module:
    if version is None:
        return ast.parse(text)
    return ast.parse(text, feature_version=version)


def _clean(message: str) -> str:
    return (message or "invalid syntax").rstrip(".")


def _error_span(lines: Sequence[str], error: SyntaxError) -> Span:
    line = max(0, min((error.lineno or 1) - 1, len(lines) - 1))
    text = lines[line] if lines else ""
    # SyntaxError offsets from a str source count characters, 1-based.
    col = max(0, min((error.offset or 1) - 1, len(text)))
    end_line = (getattr(error, "end_lineno", None) or error.lineno or 1) - 1
    end_col = (getattr(error, "end_offset", None) or 0) - 1
    if end_line != line or end_col <= col:
        end_line, end_col = line, len(text) if col >= len(text.rstrip()) else col + 1
    end_col = min(end_col, len(text))
    if end_col <= col and col > 0:
        col -= 1  # at the end of the line: point at its last character
        end_col = col + 1
    return Span(line, col, end_line, end_col)


def _is_python2_syntax(error: SyntaxError, lines: Sequence[str], line: int) -> bool:
    if any(error.msg.startswith(m) for m in _PY2_MESSAGES):
        return True
    return bool(_PY2_LINE_RE.search(lines[line])) if 0 <= line < len(lines) else False


def _python2_finding(span: Span, runtime: Tuple[int, int], lines: Sequence[str]) -> Finding:
    text = lines[span.line].strip() if span.line < len(lines) else ""
    fixes: Tuple[Fix, ...] = ()
    match = re.match(r"^(\s*)print\s+([^>].*?)\s*$", lines[span.line]) if span.line < len(lines) else None
    if match and not match.group(2).endswith(","):
        whole = Span(span.line, 0, span.line, len(lines[span.line]))
        fixes = (Fix("Convert to print(...)", (Edit(whole, "%sprint(%s)" % match.groups()),), True),)
    return Finding(
        Span(span.line, span.col, span.line, max(span.end_col, span.col + 1)),
        "error",
        "python2-syntax",
        "Python 2 syntax (`%s`), but the runtime is python%d.%d: Python 3 cannot load this module. Port it "
        "(e.g. print(...), `except E as e`), or set the runtime to python2.7." % (text[:40], *runtime),
        fixes,
    )


# A broken block opener is replaced by one that keeps the surrounding try/if structure valid.
_BLOCK_REPLACEMENTS = {
    "except": "except Exception:",
    "elif": "elif True:",
    "else": "else:",
    "finally": "finally:",
}


def _repair(lines: List[str], span: Span) -> bool:
    """Replace the lines of ``span`` by ``pass`` statements; False when there is nothing left to do.

    A line that opens a block (ends with ``:``) becomes ``if True:`` so that its body still parses.
    """
    changed = False
    for number in range(span.line, min(span.end_line, len(lines) - 1) + 1):
        text = lines[number]
        indent = text[: len(text) - len(text.lstrip())]
        opens_block = text.split("#", 1)[0].rstrip().endswith(":")
        statement = _BLOCK_REPLACEMENTS.get(
            text.split(None, 1)[0].rstrip(":") if text.strip() else "", "if True:"
        )
        if not opens_block:
            statement = "pass"
        replacement = indent + statement if number == span.line else ""
        if text != replacement:
            lines[number] = replacement
            changed = True
    return changed


def _version_finding(
    work: List[str], error: SyntaxError, span: Span, runtime: Tuple[int, int]
) -> Tuple[Finding, bool]:
    """The finding for syntax the runtime lacks (walrus, match, ...), and whether ``work`` was repaired."""
    match = _VERSION_RE.search(error.msg or "")
    assert match is not None
    repaired = False
    try:
        tree: Optional[ast.Module] = _parse(work, None)
    except SyntaxError:
        tree = None
    node = _node_for(tree, error.msg or "", span.line, work) if tree is not None else None
    if node is not None:
        # The parser may report the end of the construct; point at the construct itself.
        whole = node_span(work, node)
        if isinstance(node, _MATCH):
            span = Span(whole.line, whole.col, whole.line, whole.col + len("match"))
            work[whole.line] = work[whole.line][: whole.col] + "pass"
            for number in range(whole.line + 1, whole.end_line + 1):
                work[number] = ""
            repaired = True
        elif whole.line == whole.end_line:
            span = whole
        else:
            span = Span(whole.line, whole.col, whole.line, len(work[whole.line]))
    what = _clean(error.msg).split(" are only")[0].split(" is only")[0]
    message = (
        "%s (needs Python %s.%s): the configured runtime is python%d.%d. Rewrite it without this syntax or "
        "choose a newer runtime." % (what, match.group(1), match.group(2), *runtime)
    )
    return Finding(span, ERROR, "runtime-syntax", message), repaired


# ast.Match and ast.TryStar exist from Python 3.10 / 3.11 on; the server may run on 3.9.
_MATCH: Tuple[type, ...] = tuple(t for t in [getattr(ast, "Match", None)] if t is not None)
_CONSTRUCTS = {
    "Pattern matching": _MATCH,
    "Assignment expressions": (ast.NamedExpr,),
    "Parenthesized context managers": (ast.With, ast.AsyncWith),
    "Exception groups": tuple(t for t in [getattr(ast, "TryStar", None)] if t is not None),
}


def _node_for(tree: ast.Module, message: str, line: int, lines: Sequence[str]) -> Optional[ast.AST]:
    """The construct a "not supported in this version" error is about: the last one starting by ``line``."""
    types = next((t for prefix, t in _CONSTRUCTS.items() if message.startswith(prefix)), None)
    if types is None:
        return None
    best: Optional[ast.stmt | ast.expr] = None
    for node in ast.walk(tree):
        if isinstance(node, types) and isinstance(node, (ast.stmt, ast.expr)) and node.lineno - 1 <= line:
            if best is None or (node.lineno, node.col_offset) > (best.lineno, best.col_offset):
                if not isinstance(node, _MATCH) or lines[node.lineno - 1].lstrip().startswith("match"):
                    best = node
    return best


def node_span(lines: Sequence[str], node: ast.AST) -> Span:
    """The span of an ``ast`` node, in character columns."""
    line = getattr(node, "lineno", 1) - 1
    end_line = (getattr(node, "end_lineno", None) or line + 1) - 1
    text = lines[line] if line < len(lines) else ""
    end_text = lines[end_line] if end_line < len(lines) else ""
    col = char_column(text, getattr(node, "col_offset", 0))
    end_col = char_column(end_text, getattr(node, "end_col_offset", None) or len(end_text.encode("utf-8")))
    return Span(line, col, end_line, end_col)
