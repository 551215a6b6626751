"""Handler return values the runtime cannot JSON-encode, and malformed APIG responses."""

from __future__ import annotations

import ast
from typing import Iterator, List, Optional, Sequence, Tuple

from server.analysis.model import ERROR, Edit, Finding, Fix, Span
from server.analysis.parsing import node_span

_NOT_JSON_CALLS = {
    "set": "a set",
    "frozenset": "a frozenset",
    "bytes": "bytes",
    "bytearray": "a bytearray",
    "object": "an object",
    "range": "a range",
    "iter": "an iterator",
    "map": "a map iterator",
    "filter": "a filter iterator",
    "zip": "a zip iterator",
    "complex": "a complex number",
}


def check_handler_returns(
    function: ast.FunctionDef, own_nodes: Sequence[ast.AST], lines: Sequence[str], json_imported: bool
) -> List[Finding]:
    """Findings for what ``function`` (a handler) returns, given its own nodes (nested functions excluded)."""
    findings: List[Finding] = []
    for node in own_nodes:
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            line = function.lineno - 1
            col = lines[line].find(function.name)
            findings.append(
                Finding(
                    Span(line, col, line, col + len(function.name)),
                    ERROR,
                    "return-not-json",
                    "The handler '%s' contains yield, so it returns a generator, which the runtime cannot "
                    "JSON-encode. Collect the values in a list and return that." % function.name,
                )
            )
            break
    for node in own_nodes:
        if isinstance(node, ast.Return) and node.value is not None:
            findings.extend(_check_value(node.value, lines, json_imported))
    return findings


def not_json_reason(node: ast.AST) -> Optional[str]:
    """Why ``node``'s value cannot be JSON-encoded, when that can be seen without running it."""
    if isinstance(node, (ast.Set, ast.SetComp)):
        return "a set"
    if isinstance(node, ast.GeneratorExp):
        return "a generator"
    if isinstance(node, ast.Lambda):
        return "a function (lambda)"
    if isinstance(node, ast.Constant) and isinstance(node.value, bytes):
        return "bytes"
    if isinstance(node, ast.Constant) and isinstance(node.value, complex):
        return "a complex number"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _NOT_JSON_CALLS:
        return _NOT_JSON_CALLS[node.func.id]
    return None


def _check_value(value: ast.AST, lines: Sequence[str], json_imported: bool) -> List[Finding]:
    findings = []
    for node, reason in _unencodable(value):
        findings.append(
            Finding(
                node_span(lines, node),
                ERROR,
                "return-not-json",
                "The handler returns %s here, which the runtime cannot JSON-encode ('failed to convert the "
                "result to a JSON string'). Return a str, dict, list, number, bool or None (e.g. list(...) "
                "for a set, .decode() for bytes)." % reason,
            )
        )
    if isinstance(value, ast.Dict):
        findings.extend(_check_apig(value, lines, json_imported))
    return findings


def _unencodable(node: ast.AST) -> Iterator[tuple]:
    reason = not_json_reason(node)
    if reason:
        yield node, reason
        return
    if isinstance(node, ast.Dict):
        for key, item in zip(node.keys, node.values):
            if isinstance(key, ast.Tuple):
                yield key, "a tuple as a dict key"
            if item is not None:
                yield from _unencodable(item)
    elif isinstance(node, (ast.List, ast.Tuple)):
        for element in node.elts:
            yield from _unencodable(element)


def _check_apig(value: ast.Dict, lines: Sequence[str], json_imported: bool) -> List[Finding]:
    keys = {k.value: v for k, v in zip(value.keys, value.values) if isinstance(k, ast.Constant)}
    if "statusCode" not in keys:
        return []
    findings = []
    status = keys["statusCode"]
    if isinstance(status, ast.Constant) and (
        not isinstance(status.value, int) or isinstance(status.value, bool)
    ):
        span = node_span(lines, status)
        fixes: Tuple[Fix, ...] = ()
        if isinstance(status.value, str) and status.value.strip().isdigit():
            fixes = (
                Fix("Use the number %s" % status.value.strip(), (Edit(span, status.value.strip()),), True),
            )
        findings.append(
            Finding(
                span,
                ERROR,
                "apig-response",
                "statusCode of an APIG response must be an int (e.g. 200), not %s: API Gateway rejects the "
                "response with a 502." % type(status.value).__name__,
                fixes,
            )
        )
    body = keys.get("body")
    if body is not None and _not_a_string(body):
        span = node_span(lines, body)
        source = ast.get_source_segment("\n".join(lines), body) or ""
        edits = [Edit(span, "json.dumps(%s)" % source)]
        if not json_imported:
            edits.insert(0, Edit(Span.point(_import_line(lines), 0), "import json\n"))
        findings.append(
            Finding(
                span,
                ERROR,
                "apig-response",
                "body of an APIG response must be a string: API Gateway does not encode it. Return "
                "json.dumps(...) of the value (and a Content-Type header).",
                (Fix("Wrap in json.dumps(...)", tuple(edits), True),) if source else (),
            )
        )
    return findings


def _not_a_string(node: ast.AST) -> bool:
    if isinstance(node, (ast.Dict, ast.List, ast.Tuple, ast.ListComp, ast.DictComp, ast.Set, ast.SetComp)):
        return True
    return isinstance(node, ast.Constant) and not isinstance(node.value, str) and node.value is not None


def _import_line(lines: Sequence[str]) -> int:
    """Where a new import goes: before the first import, else after a leading docstring/comments."""
    for number, text in enumerate(lines):
        if text.startswith(("import ", "from ")) and not text.startswith("from __future__"):
            return number
    return 0
